import { z } from "zod";

/*
 * Workspace settings (issue #11): for now, how long a workspace's ended runs
 * are kept. docs/api.md "Settings", docs/configuration.md "Retention".
 */

/**
 * Bounds of a retention period, in days. At least a day: the sweep runs every
 * few minutes, so anything shorter would delete runs their clients are still
 * reading. At most ten years: beyond that, "keep forever" (null) says it.
 */
export const RETENTION_DAYS = { min: 1, max: 3650 } as const;

export const RetentionDays = z
  .number()
  .int("days must be a whole number of days")
  .min(RETENTION_DAYS.min, `days must be at least ${RETENTION_DAYS.min}`)
  .max(RETENTION_DAYS.max, `days must be at most ${RETENTION_DAYS.max} (use null to keep runs forever)`);

/** A retention period as a client sets it: `days` null (or absent) keeps ended runs forever. */
export const RetentionSetting = z.strictObject({ days: RetentionDays.nullable().optional() });
export type RetentionSetting = z.infer<typeof RetentionSetting>;

/**
 * `PUT /settings`. `retention: {days: N}` deletes the workspace's ended runs
 * (with their events and traces) N days after they ended; `{days: null}`
 * keeps them forever, whatever the config says; `retention: null` removes
 * the workspace's own setting, so the config's (or the default) applies again.
 */
export const PutWorkspaceSettingsRequest = z.strictObject({ retention: RetentionSetting.nullable() });
export type PutWorkspaceSettingsRequest = z.infer<typeof PutWorkspaceSettingsRequest>;

/** Where the effective retention comes from: the workspace's own setting, the server's config, or agentd's default (keep forever). */
export const RETENTION_SOURCES = ["settings", "config", "default"] as const;
export const RetentionSource = z.enum(RETENTION_SOURCES);
export type RetentionSource = z.infer<typeof RetentionSource>;

/** The retention in force. */
export const EffectiveRetention = z.object({
  /** Ended runs are deleted this many days after they ended; null: kept forever. */
  days: z.number().int().nullable(),
  source: RetentionSource,
});
export type EffectiveRetention = z.infer<typeof EffectiveRetention>;

/** `GET /settings`, and the answer to `PUT /settings`: the settings in force. */
export const WorkspaceSettings = z.object({
  retention: EffectiveRetention,
  /** When the workspace's own settings were last written (ISO 8601 UTC); null when it has none. */
  updatedAt: z.string().nullable(),
});
export type WorkspaceSettings = z.infer<typeof WorkspaceSettings>;
