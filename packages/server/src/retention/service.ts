import type { PutWorkspaceSettingsRequest, WorkspaceSettings } from "@agentd/protocol";
import type { RetentionConfig } from "../config/types.js";
import type { Store, WorkspaceRecord } from "../store/types.js";
import { effectiveRetention } from "./policy.js";

/**
 * A workspace's settings (`GET` / `PUT /settings`, issue #11): what is in
 * force and where it comes from. The route table asks `keys:admin` of
 * both routes: settings are the workspace administrator's, like its keys.
 */
export class SettingsService {
  constructor(
    private readonly store: Store,
    private readonly config: RetentionConfig | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async get(workspace: WorkspaceRecord): Promise<WorkspaceSettings> {
    const settings = await this.store.getWorkspaceSettings(workspace.id);
    return { retention: effectiveRetention(workspace, settings, this.config), updatedAt: settings?.updatedAt ?? null };
  }

  /**
   * `retention: null` removes the workspace's own setting. Retention is its
   * only setting so far, so that is the row; a second setting will make it
   * a column set to NULL instead.
   */
  async put(workspace: WorkspaceRecord, body: PutWorkspaceSettingsRequest): Promise<WorkspaceSettings> {
    if (body.retention === null) await this.store.deleteWorkspaceSettings(workspace.id);
    else {
      const updatedAt = new Date(this.now()).toISOString();
      await this.store.putWorkspaceSettings({ workspaceId: workspace.id, retentionDays: body.retention.days ?? null, updatedAt });
    }
    return this.get(workspace);
  }
}
