import type { EffectiveRetention } from "@agentd/protocol";
import type { RetentionConfig } from "../config/types.js";
import type { WorkspaceRecord, WorkspaceSettingsRecord } from "../store/types.js";

/**
 * The retention in force for a workspace, and where it comes from: the
 * workspace's own setting (`PUT /settings`) first, then the config's entry
 * for its slug, then the config's `days`, else agentd's default, forever.
 * Computed on every read (GET and each sweep), never stored: a config
 * change applies at the next start without touching the database.
 */
export function effectiveRetention(
  workspace: WorkspaceRecord,
  settings: WorkspaceSettingsRecord | undefined,
  config: RetentionConfig | undefined,
): EffectiveRetention {
  if (settings !== undefined) return { days: settings.retentionDays, source: "settings" };
  const own = config?.workspaces?.[workspace.slug];
  if (own !== undefined) return { days: own.days, source: "config" };
  if (config?.days !== undefined) return { days: config.days, source: "config" };
  return { days: null, source: "default" };
}

export const DAY_MS = 24 * 3600 * 1000;
