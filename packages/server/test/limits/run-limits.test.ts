import { describe, expect, it } from "vitest";
import { AgentdError } from "../../src/errors.js";
import { KeyRunLimits } from "../../src/limits/run-limits.js";
import type { Store } from "../../src/store/types.js";

/*
 * Issue #12: what KeyRunLimits reads from the store. A key without run
 * limits costs nothing (no promise, no read); a spent budget is not read
 * again at every retry; runs admitted here that a concurrent read could not
 * see yet are counted, so one process never admits past concurrentRuns.
 */

function fakeStore(state: { active: number; tokens: number; reads: { active: number; tokens: number }; delayMs?: number }): Store {
  const later = <T>(value: () => T) => new Promise<T>((resolve) => setTimeout(() => resolve(value()), state.delayMs ?? 0));
  return {
    countKeyActiveRuns: () => {
      state.reads.active++;
      return later(() => state.active);
    },
    keyTokensOfDay: () => {
      state.reads.tokens++;
      return later(() => state.tokens);
    },
  } as unknown as Store;
}

const key = (limits: Record<string, number>) => ({ id: "key_1", workspaceId: "ws_1", limits });

describe("KeyRunLimits", () => {
  it("a key without limits, and no default, is answered at once: no promise, no read", () => {
    const state = { active: 0, tokens: 0, reads: { active: 0, tokens: 0 } };
    const limits = new KeyRunLimits(fakeStore(state), {});
    expect(limits.admit(key({ requestsPerMinute: 5, openStreams: 1 }))).toBeUndefined();
    expect(limits.admit(undefined)).toBeUndefined();
    expect(state.reads).toEqual({ active: 0, tokens: 0 });
  });

  it("a spent budget is refused from the cache for a second: retries cost no read", async () => {
    let now = Date.parse("2026-03-01T12:00:00.000Z");
    const state = { active: 0, tokens: 500, reads: { active: 0, tokens: 0 } };
    const limits = new KeyRunLimits(fakeStore(state), {}, () => now);
    for (let i = 0; i < 5; i++) {
      const refused = await limits.admit(key({ tokensPerDay: 400 }))!.catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AgentdError);
      expect((refused as AgentdError).retryAfterSeconds).toBe(12 * 3600);
    }
    expect(state.reads.tokens).toBe(1);
    // Near the budget (90 % on), every admission reads again.
    state.tokens = 380;
    now += 1_001;
    for (let i = 0; i < 3; i++) (await limits.admit(key({ tokensPerDay: 400 }))!).stored();
    expect(state.reads.tokens).toBe(4);
  });

  it("admissions racing their reads on one process admit no more than concurrentRuns", async () => {
    const state = { active: 1, tokens: 0, reads: { active: 0, tokens: 0 }, delayMs: 5 };
    const limits = new KeyRunLimits(fakeStore(state), { concurrentRuns: 4 });
    const answers = await Promise.allSettled(Array.from({ length: 10 }, () => limits.admit(key({}))!));
    const admitted = answers.filter((answer) => answer.status === "fulfilled");
    // The store still says 1: the three admitted here are not stored yet, and count.
    expect(admitted).toHaveLength(3);
    const refused = answers.find((answer) => answer.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as AgentdError).message).toContain("limit: concurrentRuns");
  });
});
