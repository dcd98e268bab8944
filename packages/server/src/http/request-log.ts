import { redactKeys } from "../auth/key-format.js";
import type { Logger } from "../logger.js";
import type { Context, Reply } from "./context.js";

/** What a path's run id or a reply's may be to be logged: an id, not whatever a client put in the path (and never a key pasted there). */
const LOGGABLE_ID = /^[\w.-]{1,128}$/;

/**
 * The request log (issue #11): one line per request, written when its
 * response is done (an event stream's when the stream ends), with what an
 * operator aggregates and correlates by and nothing a client sent in its
 * query, body or headers: no keys, prompts, tool arguments or query strings.
 * `route` is the route's template (`/api/v1/workspaces/{workspace}/agent-runs/{runId}`),
 * so requests group by route; the run id is its own field, from the path or
 * from the reply that created the run. `workspace` is the authenticated one
 * (absent when authentication failed).
 */
export function logRequest(logger: Logger, ctx: Context, reply: Reply | void, durationMs: number): void {
  const runId = ctx.params.runId ?? runIdOf(reply);
  logger.info(
    {
      requestId: ctx.requestId,
      method: ctx.req.method,
      route: ctx.route,
      status: ctx.res.statusCode,
      durationMs: Math.round(durationMs * 100) / 100,
      workspace: ctx.workspace?.slug,
      runId: runId !== undefined && LOGGABLE_ID.test(runId) ? redactKeys(runId) : undefined,
    },
    "request",
  );
}

/** The run a reply names (a created run, a session's message), if any. */
function runIdOf(reply: Reply | void): string | undefined {
  const body = reply?.body as { runId?: unknown } | null | undefined;
  return typeof body === "object" && body !== null && typeof body.runId === "string" ? body.runId : undefined;
}
