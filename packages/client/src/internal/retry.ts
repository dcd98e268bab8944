import { APIConnectionError, APIError, APIUserAbortError, AgentdError } from "../errors.js";

/** Longest wait a `Retry-After` header can impose, in milliseconds. */
export const MAX_RETRY_AFTER_MS = 60_000;
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/**
 * Statuses worth another attempt. 409 is deliberately absent: agentd's
 * conflicts (`session_busy`, `run_terminal`, `session_ended`) are final
 * answers, and repeating the call cannot change them; the one exception,
 * `idempotency_in_progress`, is checked by isRetryableError.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Connection failures, timeouts and retryable statuses; never a user abort. */
export function isRetryableError(error: unknown): boolean {
  if (APIUserAbortError.isInstance(error)) return false;
  if (APIConnectionError.isInstance(error)) return true;
  if (!APIError.isInstance(error) || error.status === undefined) return false;
  // The same Idempotency-Key is still being served (by another worker): the retry gets its answer.
  return isRetryableStatus(error.status) || (error.status === 409 && error.code === "idempotency_in_progress");
}

/**
 * `Retry-After` in milliseconds (`retry-after-ms`, delta-seconds or an HTTP
 * date), capped at MAX_RETRY_AFTER_MS; undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  let wait = Number.isFinite(ms) ? ms : undefined;
  const value = headers.get("retry-after");
  if (wait === undefined && value !== null) {
    const seconds = Number(value.trim());
    wait = value.trim() !== "" && Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
    if (!Number.isFinite(wait)) wait = undefined;
  }
  return wait === undefined ? undefined : Math.min(Math.max(wait, 0), MAX_RETRY_AFTER_MS);
}

/** 0.5 s, 1 s, 2 s, ... up to 8 s, minus up to 25 % jitter so clients do not retry in lockstep. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(INITIAL_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return base * (1 - 0.25 * random());
}

/** How long to wait before retry number `attempt` (0-based) after `error`. */
export function retryDelayMs(attempt: number, error: unknown): number {
  const headers = AgentdError.isInstance(error) ? error.headers : undefined;
  return retryAfterMs(headers) ?? backoffMs(attempt);
}

/** Resolves after `ms`, or rejects with APIUserAbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError(undefined, { cause: signal.reason }));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new APIUserAbortError(undefined, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
