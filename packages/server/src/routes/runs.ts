import { CancelRunRequest, ContinueRunRequest, CreateRunRequest, LAST_SEQ_QUERY, ListRunsQuery, ToolResultRequest, headers } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import { parseCursor, streamRun } from "../http/sse/index.js";
import { parseJson } from "../http/body.js";
import { parseQuery } from "../http/query.js";
import { json, workspaceOf, type Middleware } from "../http/context.js";
import type { Router } from "../http/router.js";
import type { AppDeps } from "./deps.js";

export function runRoutes(router: Router, base: string, authenticate: Middleware, deps: AppDeps): void {
  const { runs, limits } = deps;

  router.on("POST", `${base}/agent-runs`, authenticate, deps.idempotent, async (ctx) => {
    const body = await parseJson(ctx, CreateRunRequest, limits);
    return json(202, await runs.create(workspaceOf(ctx), body));
  });

  router.on("GET", `${base}/agent-runs`, authenticate, async (ctx) =>
    json(200, await runs.list(workspaceOf(ctx), parseQuery(ctx.url.searchParams, ListRunsQuery))),
  );

  router.on("GET", `${base}/agent-runs/:runId`, authenticate, async (ctx) => json(200, await runs.snapshot(workspaceOf(ctx), ctx.params.runId!)));

  router.on("GET", `${base}/agent-runs/:runId/stream`, authenticate, async (ctx) => {
    const parsed = parseCursor(ctx.url.searchParams.get(LAST_SEQ_QUERY), headerValue(ctx.req.headers[headers.lastEventId]));
    if ("error" in parsed) throw new AgentdError("invalid_request", parsed.error.message, { issues: [parsed.error] });
    await streamRun(ctx, deps.stream, await runs.streamTarget(workspaceOf(ctx), ctx.params.runId!), parsed.cursor);
  });

  router.on("POST", `${base}/agent-runs/:runId/tool-results`, authenticate, async (ctx) => {
    const body = await parseJson(ctx, ToolResultRequest, limits);
    const outcome = body.error !== undefined ? { error: body.error } : { result: body.result ?? "" };
    const status = await runs.submitToolResult(workspaceOf(ctx), ctx.params.runId!, body.toolUseId, outcome);
    return json(200, { ok: true, ...(status === "ignored" ? { ignored: true } : {}) });
  });

  router.on("POST", `${base}/agent-runs/:runId/continue`, authenticate, async (ctx) => {
    const body = await parseJson(ctx, ContinueRunRequest, limits);
    await runs.continue(workspaceOf(ctx), ctx.params.runId!, body.approvals);
    return json(200, { ok: true });
  });

  router.on("POST", `${base}/agent-runs/:runId/cancel`, authenticate, async (ctx) => {
    const body = await parseJson(ctx, CancelRunRequest, limits, { optional: true });
    await runs.cancel(workspaceOf(ctx), ctx.params.runId!, body.reason);
    return json(200, { ok: true });
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
