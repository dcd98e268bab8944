import type { ErrorBody } from "@agentd/protocol";
import { redactKeys } from "../auth/key-format.js";
import { AgentdError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Context } from "./context.js";

/**
 * The one place errors become HTTP responses. Domain errors carry their
 * code and a message meant for the caller; anything else is a bug or an
 * outage: logged with the request id, answered with a 500 that does not
 * leak its message.
 */
export function errorResponse(
  error: unknown,
  ctx: Context,
  logger: Logger,
): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  const path = redactKeys(ctx.url.pathname);
  if (error instanceof AgentdError) {
    // A key the caller put where an id or a value belongs is not echoed back (auth/key-format.ts redactKeys).
    const message = redactKeys(error.message);
    const body: ErrorBody = { error: message, code: error.code, message, requestId: ctx.requestId };
    if (error.hint) body.hint = redactKeys(error.hint);
    if (error.issues)
      body.issues = error.issues.map((issue) => ({ ...issue, path: redactKeys(issue.path), message: redactKeys(issue.message) }));
    if (error.candidates) body.candidates = error.candidates;
    // A cap's 503 (it carries Retry-After) is load being shed, not a failure worth a log line each.
    if (error.status >= 500 && error.retryAfterSeconds === undefined)
      logger.error({ err: error, requestId: ctx.requestId, path }, "request failed");
    if (error.retryAfterSeconds !== undefined)
      return { status: error.status, body, headers: { "retry-after": String(error.retryAfterSeconds) } };
    return { status: error.status, body };
  }
  logger.error({ err: error, requestId: ctx.requestId, method: ctx.req.method, path }, "unexpected error");
  const message = `internal error; quote request id ${ctx.requestId} when reporting it`;
  return { status: 500, body: { error: message, code: "internal", message, requestId: ctx.requestId } };
}
