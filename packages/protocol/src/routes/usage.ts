import { GetUsageResponse, USAGE_GROUP_BY, USAGE_WINDOW, UsageQuery } from "../usage-report.js";
import { API_PREFIX } from "../wire.js";
import { defineRoute, type QueryParameter } from "./route.js";

/** In UsageQuery's order (routes.test.ts holds them to its keys). */
const usageParameters: QueryParameter[] = [
  {
    name: "from",
    description: `Start of the window, inclusive: an ISO 8601 date (midnight UTC) or date-time with a zone; default: ${USAGE_WINDOW.defaultDays} days before \`to\``,
    schema: { type: "string", format: "date-time" },
  },
  {
    name: "to",
    description: `End of the window, exclusive, after \`from\` and at most ${USAGE_WINDOW.maxDays} days after it; default: now`,
    schema: { type: "string", format: "date-time" },
  },
  {
    name: "groupBy",
    description: "Totals per named agent, model, UTC day of creation or API key; without it, only the totals",
    schema: { type: "string", enum: [...USAGE_GROUP_BY] },
  },
];

/** Usage totals (issue #11, docs/traces.md "Usage totals"). */
export const usageRoutes = {
  getUsage: defineRoute({
    operationId: "getUsage",
    method: "GET",
    path: `${API_PREFIX}/{workspace}/usage`,
    summary: "Token, call and cost totals of the workspace's runs created in a window, optionally grouped by agent, model, day or key",
    tag: "usage",
    auth: "key",
    scope: "runs:read",
    query: { parameters: usageParameters, schema: UsageQuery },
    responses: { 200: { description: "The window, its totals and its groups", schema: GetUsageResponse } },
  }),
} as const;
