import { LAST_EVENT_ID, LAST_SEQ_QUERY, routes } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import { parseCursor, streamRun } from "../http/sse/index.js";
import { parseJson } from "../http/body.js";
import { parseQuery } from "../http/query.js";
import { callerOf, json, workspaceOf } from "../http/context.js";
import { addLimitHeaders } from "../limits/headers.js";
import { openStream } from "../limits/stream-limiter.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** The runs' handlers, by operationId; paths, auth and idempotency come from the route table. */
export function runHandlers(deps: AppDeps): Handlers {
  const { runs, limits } = deps;
  return {
    createRun: async (ctx) => {
      const body = await parseJson(ctx, routes.createRun.body.schema, limits);
      return json(202, await runs.create(workspaceOf(ctx), body, callerOf(ctx)));
    },

    listRuns: async (ctx) => json(200, await runs.list(workspaceOf(ctx), parseQuery(ctx.url.searchParams, routes.listRuns.query.schema))),

    getRun: async (ctx) => json(200, await runs.snapshot(workspaceOf(ctx), ctx.params.runId!)),

    streamRun: async (ctx) => {
      const parsed = parseCursor(ctx.url.searchParams.get(LAST_SEQ_QUERY), headerValue(ctx.req.headers[LAST_EVENT_ID.key]));
      if ("error" in parsed) throw new AgentdError("invalid_request", parsed.error.message, { issues: [parsed.error] });
      const target = await runs.streamTarget(workspaceOf(ctx), ctx.params.runId!);
      // After the run is found (an unknown one is a 404, not a slot), before the stream's first byte.
      const release = await openStream(deps.streamLimits.limiter, ctx.key, deps.streamLimits.keyDefault, (state) =>
        addLimitHeaders(ctx.res, state),
      );
      try {
        await streamRun(ctx, deps.stream, target, parsed.cursor);
      } finally {
        // However the stream ended: its last event, the client gone, a slow reader cut off, shutdown.
        release?.();
      }
    },

    submitToolResult: async (ctx) => {
      const body = await parseJson(ctx, routes.submitToolResult.body.schema, limits);
      const outcome = body.error !== undefined ? { error: body.error } : { result: body.result ?? "" };
      const status = await runs.submitToolResult(workspaceOf(ctx), ctx.params.runId!, body.toolUseId, outcome);
      return json(200, { ok: true, ...(status === "ignored" ? { ignored: true } : {}) });
    },

    continueRun: async (ctx) => {
      const body = await parseJson(ctx, routes.continueRun.body.schema, limits);
      await runs.continue(workspaceOf(ctx), ctx.params.runId!, body.approvals);
      return json(200, { ok: true });
    },

    cancelRun: async (ctx) => {
      const body = await parseJson(ctx, routes.cancelRun.body.schema, limits, { optional: true });
      await runs.cancel(workspaceOf(ctx), ctx.params.runId!, body.reason);
      return json(200, { ok: true });
    },

    // With its events and trace (issue #11): traces/service.ts, beside the rest of what deletes traces.
    deleteRun: async (ctx) => {
      await deps.traces.deleteRun(workspaceOf(ctx), ctx.params.runId!);
      return json(200, { ok: true });
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
