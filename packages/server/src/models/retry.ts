import type { ModelError } from "./types.js";

/** The longest wait before a retry that a run sits through; a provider asking for more is treated as down for now. */
export const MAX_RETRY_WAIT_MS = 60_000;
const BASE_MS = 500;
const CAP_MS = 8_000;

/**
 * Exponential backoff with jitter for retry `attempt` (1, 2, ...): half of
 * 0.5 s, 1 s, 2 s... (capped at 8 s) fixed, the other half random, so runs
 * that failed together do not come back together.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * How long to wait before retrying after `error`: the provider's own ask
 * (Retry-After and the like) when it gave one, else the backoff. Undefined
 * when the ask is longer than MAX_RETRY_WAIT_MS or `deadlineMs` (what is
 * left of the run's budgets.maxDurationMs) cannot fit the wait.
 */
export function retryWaitMs(error: ModelError, attempt: number, deadlineMs?: number, random?: () => number): number | undefined {
  const wait = error.retryAfterMs ?? backoffMs(attempt, random);
  if (wait > MAX_RETRY_WAIT_MS) return undefined;
  if (deadlineMs !== undefined && wait >= deadlineMs) return undefined;
  return wait;
}
