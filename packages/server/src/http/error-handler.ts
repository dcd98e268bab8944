import type { ErrorBody } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Context } from "./context.js";

/**
 * The one place errors become HTTP responses. Domain errors carry their
 * code and a message meant for the caller; anything else is a bug or an
 * outage: logged with the request id, answered with a 500 that does not
 * leak its message.
 */
export function errorResponse(error: unknown, ctx: Context, logger: Logger): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (error instanceof AgentdError) {
    const body: ErrorBody = { error: error.message, code: error.code, message: error.message, requestId: ctx.requestId };
    if (error.hint) body.hint = error.hint;
    if (error.issues) body.issues = error.issues;
    if (error.candidates) body.candidates = error.candidates;
    // A cap's 503 (it carries Retry-After) is load being shed, not a failure worth a log line each.
    if (error.status >= 500 && error.retryAfterSeconds === undefined) logger.error({ err: error, requestId: ctx.requestId, path: ctx.url.pathname }, "request failed");
    if (error.retryAfterSeconds !== undefined) return { status: error.status, body, headers: { "retry-after": String(error.retryAfterSeconds) } };
    return { status: error.status, body };
  }
  logger.error({ err: error, requestId: ctx.requestId, method: ctx.req.method, path: ctx.url.pathname }, "unexpected error");
  const message = `internal error; quote request id ${ctx.requestId} when reporting it`;
  return { status: 500, body: { error: message, code: "internal", message, requestId: ctx.requestId } };
}
