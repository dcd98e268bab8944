import { ModelError } from "../types.js";

/** An error as a Responses stream carries it: in `response.error` of `response.failed`, or in an `error` event. */
export interface ResponsesErrorBody {
  type?: string | null;
  code?: string | null;
  message?: string | null;
}

/**
 * Codes (or types) saying the same request may succeed later. OpenAI
 * documents `server_error` and `rate_limit_exceeded` for `response.error`;
 * its live `error` events have also been seen with `too_many_requests` and
 * `service_unavailable_error`.
 */
const RETRYABLE = new Set(["server_error", "rate_limit_exceeded", "too_many_requests", "service_unavailable_error"]);

/**
 * The ModelError for a failure reported inside a 200 stream. `status` is
 * the one an `error` event may carry (there is no HTTP status to go by);
 * a 429 or 5xx there is retryable whatever the code says.
 */
export function streamError(provider: string, what: string, body: ResponsesErrorBody, status?: number): ModelError {
  const code = body.code ?? body.type ?? undefined;
  const message = body.message != null && body.message !== "" ? body.message : "no error message";
  const retryable =
    (body.code != null && RETRYABLE.has(body.code)) ||
    (body.type != null && RETRYABLE.has(body.type)) ||
    (status !== undefined && (status === 429 || status >= 500));
  return new ModelError(provider, `${provider}: ${what}: ${code !== undefined ? `${code}: ` : ""}${message}`, { retryable, status });
}
