import { ModelError } from "./types.js";

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. @default 5 */
  failureThreshold: number;
  /** How long calls fail at once before one trial call is let through. @default 30_000 */
  cooldownMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

export type CircuitState = "closed" | "open" | "half-open";

/** What /readyz and /metrics show of one provider's circuit. */
export interface CircuitSnapshot {
  provider: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** Calls refused without being sent, since the process started. */
  rejected: number;
  /** Times the circuit opened, since the process started. */
  opened: number;
  /** ISO time the open circuit lets a trial call through. */
  retryAt?: string;
}

/**
 * One provider's circuit breaker, per process: after `failureThreshold`
 * consecutive failures that say the provider is down (5xx, 529, connection
 * errors, timeouts; not a 400 or a 429, which say it is up), calls fail at
 * once for `cooldownMs` instead of piling up behind a dead provider, and
 * a run with fallback models moves on at once. Then one call at a time is
 * let through (half-open): a success closes the circuit, a failure opens it
 * for another cool-down.
 */
export class CircuitBreaker {
  private state: CircuitState = "closed";
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private rejected = 0;
  private opened = 0;

  constructor(
    readonly provider: string,
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Before a call: throws a ModelError when the circuit refuses it. */
  admit(): void {
    if (this.state === "closed") return;
    if (this.state === "open" && this.now() - this.openedAt >= this.options.cooldownMs) {
      this.state = "half-open";
      this.trialInFlight = false;
    }
    if (this.state === "half-open" && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    this.rejected++;
    const retryIn = Math.max(0, this.openedAt + this.options.cooldownMs - this.now());
    throw new ModelError(
      this.provider,
      `${this.provider}: circuit open after ${this.failures} consecutive failed calls; not calling it for ${Math.ceil(retryIn / 1000)} s more (circuitBreaker)`,
      { retryable: false, circuitOpen: true },
    );
  }

  /** The call answered (a whole response, or a client error that shows the provider is up). */
  succeeded(): void {
    this.failures = 0;
    this.state = "closed";
    this.trialInFlight = false;
  }

  /** The call failed in a way that says the provider is down. */
  failed(): void {
    this.failures++;
    this.trialInFlight = false;
    if (this.state === "half-open" || this.failures >= this.options.failureThreshold) {
      if (this.state !== "open") this.opened++;
      this.state = "open";
      this.openedAt = this.now();
    }
  }

  /** A call ended without telling anything about the provider (cancelled by the run). */
  released(): void {
    this.trialInFlight = false;
  }

  snapshot(): CircuitSnapshot {
    const snapshot: CircuitSnapshot = {
      provider: this.provider,
      state: this.state === "open" && this.now() - this.openedAt >= this.options.cooldownMs ? "half-open" : this.state,
      consecutiveFailures: this.failures,
      rejected: this.rejected,
      opened: this.opened,
    };
    if (this.state === "open") snapshot.retryAt = new Date(this.openedAt + this.options.cooldownMs).toISOString();
    return snapshot;
  }
}

/**
 * Whether a failure counts against the provider's circuit: it is down or
 * overloaded (5xx, 529, no connection, a timeout), not "you asked wrongly"
 * (4xx) or "slow down" (429, which retries with the provider's own wait).
 */
export function countsAgainstProvider(error: ModelError): boolean {
  if (error.circuitOpen) return false;
  if (error.status !== undefined) return error.status >= 500;
  return error.retryable;
}
