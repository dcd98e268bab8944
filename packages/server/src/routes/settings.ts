import { routes } from "@agentd/protocol";
import { parseJson } from "../http/body.js";
import { json, workspaceOf } from "../http/context.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** A workspace's settings (issue #11: retention), by operationId. */
export function settingsHandlers(deps: AppDeps): Handlers {
  const { settings, limits } = deps;
  return {
    getWorkspaceSettings: async (ctx) => json(200, await settings.get(workspaceOf(ctx))),

    putWorkspaceSettings: async (ctx) =>
      json(200, await settings.put(workspaceOf(ctx), await parseJson(ctx, routes.putWorkspaceSettings.body.schema, limits))),
  };
}
