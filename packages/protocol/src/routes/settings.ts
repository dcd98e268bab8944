import { PutWorkspaceSettingsRequest, WorkspaceSettings } from "../settings.js";
import { API_PREFIX } from "../wire.js";
import { defineRoute } from "./route.js";

const SETTINGS = `${API_PREFIX}/{workspace}/settings`;

/*
 * A workspace's settings (issue #11): retention. Any key of the workspace may
 * read and write them for now; `scope` is what scoped keys (issue #12) will
 * require (nothing reads it yet: route.ts RouteDeclaration.scope).
 */
export const settingsRoutes = {
  getWorkspaceSettings: defineRoute({
    operationId: "getWorkspaceSettings",
    method: "GET",
    path: SETTINGS,
    summary: "The workspace's settings in force (retention), and where each comes from",
    tag: "settings",
    auth: "key",
    scope: "settings:read",
    responses: { 200: { description: "The settings in force", schema: WorkspaceSettings } },
  }),
  putWorkspaceSettings: defineRoute({
    operationId: "putWorkspaceSettings",
    method: "PUT",
    path: SETTINGS,
    summary: "Set the workspace's retention: keep ended runs forever, or delete them N days after they ended",
    tag: "settings",
    auth: "key",
    scope: "settings:write",
    body: { schema: PutWorkspaceSettingsRequest, required: true },
    responses: { 200: { description: "The settings in force after the write", schema: WorkspaceSettings } },
  }),
} as const;
