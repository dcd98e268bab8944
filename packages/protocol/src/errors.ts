import { z } from "zod";

/**
 * Machine-readable error codes. The HTTP status that goes with each is fixed
 * here so the server's single error handler and the SDK's error factory agree.
 * Seed 004 §10 plus agentd's additions.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_model: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_tool_use: 404,
  method_not_allowed: 405,
  /** The request was not received in time (node's request timeout). */
  request_timeout: 408,
  run_terminal: 409,
  session_busy: 409,
  session_ended: 409,
  conflict: 409,
  /** The request holding this Idempotency-Key is still in progress (on another worker): retry later with the same key. */
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** An `Expect` header other than 100-continue. */
  expectation_failed: 417,
  /** This Idempotency-Key was used with another request (method, path or body): a new request needs a new key. */
  idempotency_key_reused: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One problem with one field of a request, by JSON path (`tools.0.name`). */
export const FieldIssue = z.object({
  path: z.string(),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof FieldIssue>;

/**
 * Every non-2xx response body. `error` carries the human-readable message
 * (the seed SDK surfaces `body.error` as the exception message), `code` the
 * machine-readable code, `message` the same text as `error` for clients that
 * follow the seed document. See shared/PROTOCOL-NOTES.md.
 */
export const ErrorBody = z.object({
  error: z.string(),
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  requestId: z.string().optional(),
  issues: z.array(FieldIssue).optional(),
  candidates: z.array(z.string()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
