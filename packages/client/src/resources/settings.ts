import type { PutWorkspaceSettingsRequest, WorkspaceSettings } from "@agentd/protocol";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";

/** The workspace's settings: how long its ended runs are kept (docs/api.md "Settings"). */
export class Settings {
  constructor(private readonly transport: Transport) {}

  /** The settings in force: `{ retention: { days, source }, updatedAt }`. */
  get(options?: RequestOptions): Promise<WorkspaceSettings> {
    return this.transport.json({ ...operations.getWorkspaceSettings(), ...options });
  }

  /** `{ retention: { days: 30 } }`, `{ retention: { days: null } }` (forever), or `{ retention: null }` (back to the server's config). */
  put(settings: PutWorkspaceSettingsRequest, options?: RequestOptions): Promise<WorkspaceSettings> {
    return this.transport.json({ ...operations.putWorkspaceSettings(), body: settings, ...options });
  }
}
