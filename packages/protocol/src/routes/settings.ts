import { PutWorkspaceSettingsRequest, WorkspaceSettings } from "../settings.js";
import { API_PREFIX } from "../wire.js";
import { defineRoute } from "./route.js";

const SETTINGS = `${API_PREFIX}/{workspace}/settings`;

/*
 * A workspace's settings (issue #11): retention. Its administrator's, like
 * its keys: both routes need `keys:admin` (issue #12).
 */
export const settingsRoutes = {
  getWorkspaceSettings: defineRoute({
    operationId: "getWorkspaceSettings",
    method: "GET",
    path: SETTINGS,
    summary: "The workspace's settings in force (retention), and where each comes from",
    tag: "settings",
    auth: "key",
    scope: "keys:admin",
    responses: { 200: { description: "The settings in force", schema: WorkspaceSettings } },
  }),
  putWorkspaceSettings: defineRoute({
    operationId: "putWorkspaceSettings",
    method: "PUT",
    path: SETTINGS,
    summary: "Set the workspace's retention: keep ended runs forever, or delete them N days after they ended",
    tag: "settings",
    auth: "key",
    scope: "keys:admin",
    body: { schema: PutWorkspaceSettingsRequest, required: true },
    responses: { 200: { description: "The settings in force after the write", schema: WorkspaceSettings } },
  }),
} as const;
