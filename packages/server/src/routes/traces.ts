import { routes } from "@agentd/protocol";
import { parseQuery } from "../http/query.js";
import { json, workspaceOf } from "../http/context.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** The traces' handlers (issue #11), by operationId. */
export function traceHandlers(deps: AppDeps): Handlers {
  const { traces } = deps;
  return {
    listTraces: async (ctx) =>
      json(200, await traces.list(workspaceOf(ctx), parseQuery(ctx.url.searchParams, routes.listTraces.query.schema))),

    getTrace: async (ctx) => json(200, await traces.get(workspaceOf(ctx), ctx.params.runId!)),

    deleteTrace: async (ctx) => {
      await traces.delete(workspaceOf(ctx), ctx.params.runId!);
      return json(200, { ok: true });
    },
  };
}
