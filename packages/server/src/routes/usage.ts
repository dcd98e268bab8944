import { routes, type UsageQuery } from "@agentd/protocol";
import { json, workspaceOf } from "../http/context.js";
import { parseQuery } from "../http/query.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** Usage totals (issue #11), by operationId. */
export function usageHandlers(deps: AppDeps): Handlers {
  const { usage } = deps;
  return {
    // The schema fills `from` and `to` in (their defaults), so the parsed query has both.
    getUsage: async (ctx) =>
      json(200, await usage.get(workspaceOf(ctx), parseQuery(ctx.url.searchParams, routes.getUsage.query.schema) as UsageQuery)),
  };
}
