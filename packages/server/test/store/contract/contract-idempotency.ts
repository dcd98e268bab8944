import { it, expect } from "vitest";
import { uniqueId } from "./contract-fixtures.js";
import type { ContractContext, ContractOptions } from "./contract.js";
import { LONG, lapse } from "./contract-leases.js";
import type { IdempotencyBegin } from "../../../src/store/types.js";

/*
 * Idempotency keys shared by every worker of a store: the first attempt on
 * a key holds it (pending) and stores its reply; a retry gets that reply, a
 * reuse for another request is refused; a key expires after its TTL, and a
 * pending one whose holder went away is taken over after the lock time.
 * Times are real, against the store's clock: 1 ms and a short wait (lapse).
 */

const reply = { status: 202, body: { runId: "run_1", streamUrl: "/x", nested: [1, "✓", null, { deep: true }] } };

export function idempotencyCases(ctx: ContractContext, options: ContractOptions): void {
  /** An attempt on key `key-1` of workspace `acme`; `overrides` replace any field (a fresh token each time). */
  const attempt = (overrides: Partial<IdempotencyBegin> = {}): IdempotencyBegin => ({
    workspaceId: ctx.ws.id,
    scope: "/api/v1/workspaces/acme/agent-runs",
    key: "key-1",
    fingerprint: "f".repeat(64),
    token: uniqueId("tok"),
    ttlMs: LONG,
    lockMs: LONG,
    ...overrides,
  });

  it("gives a key to its first attempt; a retry sees it pending, then the stored reply; another request is refused", async () => {
    const { store } = ctx;
    const key = uniqueId("key");
    const first = attempt({ key });
    expect(await store.beginIdempotent(first)).toEqual({ state: "new" });
    expect(await store.beginIdempotent(attempt({ key }))).toEqual({ state: "pending" });
    expect(await store.beginIdempotent(attempt({ key, fingerprint: "0".repeat(64) }))).toEqual({ state: "mismatch" });
    expect(await store.finishIdempotent(first, reply)).toBe(true);
    expect(await store.beginIdempotent(attempt({ key }))).toEqual({ state: "done", ...reply });
    expect(await store.beginIdempotent(attempt({ key, fingerprint: "0".repeat(64) }))).toEqual({ state: "mismatch" });
    // Done is final: a second finish (or an abandon) of the same attempt changes nothing.
    expect(await store.finishIdempotent(first, { status: 201, body: "other" })).toBe(false);
    expect(await store.abandonIdempotent(first)).toBe(false);
    expect(await store.beginIdempotent(attempt({ key }))).toEqual({ state: "done", ...reply });
  });

  it("keeps keys apart by workspace, scope and key", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const key = uniqueId("key");
    const first = attempt({ key });
    expect(await store.beginIdempotent(first)).toEqual({ state: "new" });
    await store.finishIdempotent(first, reply);
    expect(await store.beginIdempotent(attempt({ key, workspaceId: other.id }))).toEqual({ state: "new" });
    expect(await store.beginIdempotent(attempt({ key, scope: "/api/v1/workspaces/acme/agent-sessions" }))).toEqual({ state: "new" });
    expect(await store.beginIdempotent(attempt({ key: `${key}-2` }))).toEqual({ state: "new" });
    expect(await store.beginIdempotent(attempt({ key, workspaceId: ws.id }))).toEqual({ state: "done", ...reply });
  });

  it("forgets an abandoned key, so a retry runs (with any request); only its holder can abandon or finish it", async () => {
    const { store } = ctx;
    const key = uniqueId("key");
    const first = attempt({ key });
    expect(await store.beginIdempotent(first)).toEqual({ state: "new" });
    const stranger = { ...first, token: uniqueId("tok") };
    expect(await store.abandonIdempotent(stranger)).toBe(false);
    expect(await store.finishIdempotent(stranger, reply)).toBe(false);
    expect(await store.beginIdempotent(attempt({ key }))).toEqual({ state: "pending" });
    expect(await store.abandonIdempotent(first)).toBe(true);
    const retry = attempt({ key, fingerprint: "1".repeat(64) });
    expect(await store.beginIdempotent(retry)).toEqual({ state: "new" });
    expect(await store.finishIdempotent(retry, { status: 201, body: null })).toBe(true);
    expect(await store.beginIdempotent(attempt({ key, fingerprint: "1".repeat(64) }))).toEqual({ state: "done", status: 201, body: null });
  });

  it("lets an attempt take over a key pending for longer than its lock time; the old holder can then neither finish nor abandon it", async () => {
    const { store } = ctx;
    const key = uniqueId("key");
    const crashed = attempt({ key });
    expect(await store.beginIdempotent(crashed)).toEqual({ state: "new" });
    await lapse();
    // Not yet stale for an attempt with a long lock time...
    expect(await store.beginIdempotent(attempt({ key }))).toEqual({ state: "pending" });
    // ...stale for one whose lock time has passed: it takes the key over.
    const taker = attempt({ key, lockMs: 1 });
    expect(await store.beginIdempotent(taker)).toEqual({ state: "new" });
    expect(await store.beginIdempotent(attempt({ key }))).toEqual({ state: "pending" });
    expect(await store.finishIdempotent(crashed, { status: 200, body: "late" })).toBe(false);
    expect(await store.abandonIdempotent(crashed)).toBe(false);
    expect(await store.finishIdempotent(taker, reply)).toBe(true);
    // A done key is never taken over, whatever the lock time.
    await lapse();
    expect(await store.beginIdempotent(attempt({ key, lockMs: 1 }))).toEqual({ state: "done", ...reply });
  });

  it("treats an expired key as absent, whatever request it was for", async () => {
    const { store } = ctx;
    const key = uniqueId("key");
    const first = attempt({ key, ttlMs: 1 });
    expect(await store.beginIdempotent(first)).toEqual({ state: "new" });
    await store.finishIdempotent(first, reply);
    await lapse();
    const next = attempt({ key, fingerprint: "2".repeat(64) });
    expect(await store.beginIdempotent(next)).toEqual({ state: "new" });
    expect(await store.beginIdempotent(attempt({ key, fingerprint: "2".repeat(64) }))).toEqual({ state: "pending" });
  });

  it("of many concurrent attempts on one key, exactly one gets it", async () => {
    const { store } = ctx;
    const key = uniqueId("key");
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => store.beginIdempotent(attempt({ key }))));
    expect(outcomes.filter((outcome) => outcome.state === "new")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.state === "pending")).toHaveLength(11);
  });

  it("purges expired keys only, at most `limit` at a time", async () => {
    const { store } = ctx;
    const expiring = Array.from({ length: 3 }, () => attempt({ key: uniqueId("key"), ttlMs: 1 }));
    const live = attempt({ key: uniqueId("key") });
    for (const request of [...expiring, live]) expect(await store.beginIdempotent(request)).toEqual({ state: "new" });
    await store.finishIdempotent(expiring[0]!, reply);
    await store.finishIdempotent(live, reply);
    await lapse();
    expect(await store.purgeIdempotency(2)).toBe(2);
    expect(await store.purgeIdempotency(2)).toBe(1);
    expect(await store.purgeIdempotency(2)).toBe(0);
    expect(await store.purgeIdempotency(0)).toBe(0);
    // The purged holders hold nothing any more; the live key is intact.
    for (const request of expiring) expect(await store.finishIdempotent(request, reply)).toBe(false);
    expect(await store.beginIdempotent(attempt({ key: live.key }))).toEqual({ state: "done", ...reply });
    expect(await store.beginIdempotent(attempt({ key: expiring[1]!.key }))).toEqual({ state: "new" });
  });

  if (options.reopen)
    it("keeps keys across close and reopen", async () => {
      const key = uniqueId("key");
      const first = attempt({ key });
      await ctx.store.beginIdempotent(first);
      await ctx.store.finishIdempotent(first, reply);
      await ctx.store.close();
      const reopened = (ctx.store = await options.reopen!());
      expect(await reopened.beginIdempotent(attempt({ key }))).toEqual({ state: "done", ...reply });
    });
}
