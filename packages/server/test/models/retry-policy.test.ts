import { afterEach, describe, expect, it, vi } from "vitest";
import { CircuitBreaker, countsAgainstProvider } from "../../src/models/circuit-breaker.js";
import { retryAfterMs } from "../../src/models/http/retry-after.js";
import { CallWatchdog } from "../../src/models/http/timeouts.js";
import { backoffMs, MAX_RETRY_WAIT_MS, retryWaitMs } from "../../src/models/retry.js";
import { ModelError } from "../../src/models/types.js";

describe("retryAfterMs", () => {
  const now = Date.parse("2026-12-07T10:00:00Z");
  it("reads retry-after-ms, then retry-after as seconds or an HTTP date", () => {
    expect(retryAfterMs({ "retry-after-ms": "250", "retry-after": "9" }, 429, now)).toBe(250);
    expect(retryAfterMs({ "retry-after": "2" }, 503, now)).toBe(2000);
    expect(retryAfterMs({ "retry-after": "1.5" }, 503, now)).toBe(1500);
    expect(retryAfterMs({ "retry-after": "Mon, 07 Dec 2026 10:00:03 GMT" }, 503, now)).toBe(3000);
    expect(retryAfterMs({ "retry-after": "Mon, 07 Dec 2026 09:00:00 GMT" }, 503, now)).toBe(0);
  });

  it("on a 429 without them, the soonest rate-limit reset of OpenAI or Anthropic", () => {
    expect(retryAfterMs({ "x-ratelimit-reset-requests": "6m0s", "x-ratelimit-reset-tokens": "1.5s" }, 429, now)).toBe(1500);
    expect(retryAfterMs({ "x-ratelimit-reset-tokens": "120ms" }, 429, now)).toBe(120);
    expect(retryAfterMs({ "x-ratelimit-reset-requests": "1h2m3s" }, 429, now)).toBe(600_000); // kept at most 10 minutes
    expect(retryAfterMs({ "anthropic-ratelimit-tokens-reset": "2026-12-07T10:00:04Z" }, 429, now)).toBe(4000);
    // Reset headers on a success or a 5xx say nothing about this failure.
    expect(retryAfterMs({ "x-ratelimit-reset-tokens": "2s" }, 503, now)).toBeUndefined();
  });

  it("ignores what it cannot read", () => {
    expect(retryAfterMs({ "retry-after": "soon" }, 429, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after-ms": "-5" }, 429, now)).toBeUndefined();
    expect(retryAfterMs({ "x-ratelimit-reset-tokens": "2 s" }, 429, now)).toBeUndefined();
    expect(retryAfterMs({}, 429, now)).toBeUndefined();
  });
});

describe("backoff", () => {
  it("doubles from 0.5 s to a cap of 8 s, half of it random", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffMs(attempt, () => 0))).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
    expect([1, 2, 5, 10].map((attempt) => backoffMs(attempt, () => 1))).toEqual([500, 1000, 8000, 8000]);
  });

  it("takes the provider's wait, and gives up on one longer than a minute or than the run has left", () => {
    const asked = (ms: number) => new ModelError("p", "x", { retryable: true, retryAfterMs: ms });
    expect(retryWaitMs(asked(1234), 1)).toBe(1234);
    expect(retryWaitMs(asked(MAX_RETRY_WAIT_MS + 1), 1)).toBeUndefined();
    expect(retryWaitMs(asked(2000), 1, 1500)).toBeUndefined();
    expect(retryWaitMs(new ModelError("p", "x", { retryable: true }), 2, undefined, () => 0.5)).toBe(750);
  });
});

describe("CallWatchdog", () => {
  afterEach(() => vi.useRealTimers());
  const limits = { connectMs: 100, firstByteMs: 1000, idleMs: 300, totalMs: 5000 };

  it("fires the limit of the phase it is in, on one timer re-armed only when needed", () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const dog = new CallWatchdog(limits, (kind) => fired.push(kind));
    dog.connecting();
    vi.advanceTimersByTime(99);
    dog.waitingForHead();
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    dog.reading();
    for (let i = 0; i < 12; i++) {
      vi.advanceTimersByTime(250);
      dog.touch();
    }
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(301);
    expect(fired).toEqual(["idle"]);
    expect(dog.fired).toBe("idle");
  });

  it("connect, first byte and total each fire on their own", () => {
    vi.useFakeTimers();
    for (const [phase, wait, kind] of [
      ["connecting", 101, "connect"],
      ["waitingForHead", 1001, "firstByte"],
    ] as const) {
      const fired: string[] = [];
      const dog = new CallWatchdog(limits, (which) => fired.push(which));
      dog[phase]();
      vi.advanceTimersByTime(wait);
      expect(fired).toEqual([kind]);
    }
    const fired: string[] = [];
    const dog = new CallWatchdog({ ...limits, totalMs: 500 }, (which) => fired.push(which));
    dog.reading();
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(120);
      dog.touch();
    }
    expect(fired).toEqual(["total"]);
  });

  it("stop() clears it", () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const dog = new CallWatchdog(limits, (kind) => fired.push(kind));
    dog.connecting();
    dog.stop();
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
  });
});

describe("CircuitBreaker", () => {
  it("opens at the threshold, lets one trial through after the cool-down, closes on its success or opens again", () => {
    let now = 0;
    const breaker = new CircuitBreaker("p", { failureThreshold: 3, cooldownMs: 1000 }, () => now);
    for (let i = 0; i < 3; i++) {
      breaker.admit();
      breaker.failed();
    }
    expect(() => breaker.admit()).toThrow(/circuit open after 3 consecutive failed calls/);
    expect(breaker.snapshot()).toMatchObject({ state: "open", rejected: 1, opened: 1 });
    now = 1000;
    expect(breaker.snapshot().state).toBe("half-open");
    breaker.admit(); // the trial
    expect(() => breaker.admit()).toThrow(ModelError); // one at a time
    breaker.failed();
    expect(breaker.snapshot()).toMatchObject({ state: "open", opened: 2 });
    now = 2000;
    breaker.admit();
    breaker.succeeded();
    expect(breaker.snapshot()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
    breaker.admit();
  });

  it("a success resets the count; a cancelled trial frees the slot", () => {
    let now = 0;
    const breaker = new CircuitBreaker("p", { failureThreshold: 2, cooldownMs: 10 }, () => now);
    breaker.failed();
    breaker.succeeded();
    breaker.failed();
    expect(breaker.snapshot().state).toBe("closed");
    breaker.failed();
    now = 10;
    breaker.admit();
    breaker.released();
    breaker.admit();
  });

  it("counts 5xx, connection failures and timeouts against the provider, not 4xx or 429", () => {
    expect(countsAgainstProvider(new ModelError("p", "x", { status: 503, retryable: true }))).toBe(true);
    expect(countsAgainstProvider(new ModelError("p", "x", { status: 529, retryable: true }))).toBe(true);
    expect(countsAgainstProvider(new ModelError("p", "x", { retryable: true, timeout: "firstByte" }))).toBe(true);
    expect(countsAgainstProvider(new ModelError("p", "x", { status: 429, retryable: true }))).toBe(false);
    expect(countsAgainstProvider(new ModelError("p", "x", { status: 400 }))).toBe(false);
    expect(countsAgainstProvider(new ModelError("p", "x", { retryable: false, circuitOpen: true }))).toBe(false);
  });
});
