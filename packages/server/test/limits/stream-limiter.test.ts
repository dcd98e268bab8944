import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStreamLimiter, RedisStreamLimiter } from "../../src/limits/stream-limiter.js";
import { adminClient, deleteKeys, REDIS_URL, redisAvailable, testPrefix } from "../bus/redis-env.js";

/*
 * Issue #12, a key's open streams in a cluster: one count per key in Redis
 * shared by the workers; a slot is held while its worker lives (it pushes
 * the slot's expiry forward) and freed within the TTL when the worker dies
 * without closing its streams, so a dead worker never holds them forever.
 */

const up = await redisAvailable("stream limiter on Redis");
const prefix = testPrefix();
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const limiters: RedisStreamLimiter[] = [];
const limiter = (workerId: string, ttlMs: number) => {
  const made = new RedisStreamLimiter(() => new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }), prefix, workerId, ttlMs);
  limiters.push(made);
  return made;
};

afterAll(async () => {
  for (const made of limiters) await made.close();
  if (!up) return;
  const admin = adminClient();
  await deleteKeys(admin, prefix);
  admin.disconnect();
});

describe("MemoryStreamLimiter", () => {
  it("counts per key and frees a slot once, however often it is released", () => {
    const streams = new MemoryStreamLimiter();
    const a = streams.acquire("k1", 2);
    const b = streams.acquire("k1", 2);
    expect([a.open, b.open]).toEqual([1, 2]);
    expect(streams.acquire("k1", 2).release).toBeUndefined();
    expect(streams.acquire("k2", 2).release).toBeDefined();
    a.release!();
    a.release!();
    expect(streams.acquire("k1", 2).open).toBe(2);
    expect(streams.acquire("k1", 2).release).toBeUndefined();
  });
});

describe.skipIf(!up)("RedisStreamLimiter", () => {
  it("two workers share one key's count; releasing on one frees a slot for the other", async () => {
    const a = limiter("w-a", 30_000);
    const b = limiter("w-b", 30_000);
    const first = await a.acquire("shared", 2);
    const second = await b.acquire("shared", 2);
    expect([first.open, second.open]).toEqual([1, 2]);
    expect((await a.acquire("shared", 2)).release).toBeUndefined();
    expect((await b.acquire("shared", 2)).release).toBeUndefined();
    expect((await b.acquire("other", 2)).release).toBeDefined();
    first.release!();
    await wait(50);
    expect((await b.acquire("shared", 2)).release).toBeDefined();
  });

  it("a live worker keeps its slots past the TTL; a dead one's are freed within it", async () => {
    const live = limiter("w-live", 300);
    const dying = limiter("w-dying", 300);
    const other = limiter("w-other", 300);
    expect((await live.acquire("kept", 1)).release).toBeDefined();
    expect((await dying.acquire("freed", 1)).release).toBeDefined();
    // The dying worker stops without releasing (as kill -9 would): no more refreshes.
    await dying.close();
    await wait(1_000);
    expect((await other.acquire("kept", 1)).release).toBeUndefined();
    expect((await other.acquire("freed", 1)).release).toBeDefined();
  });
});
