import { ERROR_STATUS, type ErrorCode, type FieldIssue } from "@agentd/protocol";

/**
 * The one error type the domain throws. Storage, engine and services throw it
 * with a protocol error code; only the HTTP edge turns it into a status and a
 * body (http/error-handler.ts). Anything else that escapes becomes a 500 whose
 * message is not shown to the client.
 */
export class AgentdError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;
  readonly hint: string | undefined;
  readonly candidates: string[] | undefined;
  /** Seconds the client should wait before retrying (`Retry-After`), for 429 and 503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { issues?: FieldIssue[]; hint?: string; candidates?: string[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AgentdError";
    this.code = code;
    this.issues = options.issues;
    this.hint = options.hint;
    this.candidates = options.candidates;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string): AgentdError => new AgentdError("not_found", `${what} not found`);
export const invalidRequest = (path: string, message: string): AgentdError =>
  new AgentdError("invalid_request", `${path}: ${message}`, { issues: [{ path, message }] });
