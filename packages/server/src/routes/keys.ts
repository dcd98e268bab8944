import { routes } from "@agentd/protocol";
import { parseJson } from "../http/body.js";
import { json, keyOf, workspaceOf } from "../http/context.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** API keys over HTTP (issue #12), by operationId; the route table asks `keys:admin` of each. */
export function keyHandlers(deps: AppDeps): Handlers {
  const { keys, limits } = deps;
  return {
    createKey: async (ctx) =>
      json(201, await keys.create(workspaceOf(ctx), keyOf(ctx), await parseJson(ctx, routes.createKey.body.schema, limits))),
    listKeys: async (ctx) => json(200, { keys: await keys.list(workspaceOf(ctx)) }),
    getKey: async (ctx) => json(200, await keys.get(workspaceOf(ctx), ctx.params.keyId!)),
    updateKey: async (ctx) => {
      const body = await parseJson(ctx, routes.updateKey.body.schema, limits);
      return json(200, await keys.update(workspaceOf(ctx), keyOf(ctx), ctx.params.keyId!, body));
    },
    deleteKey: async (ctx) => json(200, await keys.revoke(workspaceOf(ctx), keyOf(ctx), ctx.params.keyId!)),
  };
}
