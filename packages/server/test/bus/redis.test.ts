import { createServer } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisEventBus } from "../../src/bus/redis.js";
import { busContract, event } from "./contract.js";
import { REDIS_URL, adminClient, deleteKeys, killClients, redisAvailable, testPrefix, waitFor } from "./redis-env.js";

/*
 * The Redis bus against a real Redis (REDIS_URL, default local). Two
 * RedisEventBus instances stand for two agentd processes. Every channel is
 * under a prefix of this file's own; a missing Redis skips, and says so.
 */

const available = await redisAvailable("Redis EventBus tests");
const prefix = testPrefix();
const admin: Redis | undefined = available ? adminClient() : undefined;
const open: RedisEventBus[] = [];

function bus(name: string, url = REDIS_URL): RedisEventBus {
  const created = new RedisEventBus({ url, prefix, name });
  open.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  if (!admin) return;
  await deleteKeys(admin, prefix);
  admin.disconnect();
});

busContract("redis", async () => ({ publisher: bus("a"), subscriber: bus("b") }), { skip: !available });

describe.skipIf(!available)("RedisEventBus", () => {
  it("publishes a run's events as the JSON array of StoredEvents on <prefix>run:<runId>, signals as is", async () => {
    const raw = adminClient();
    const got: Array<[string, string]> = [];
    raw.on("message", (channel: string, message: string) => got.push([channel, message]));
    await raw.subscribe(`${prefix}run:run_x`, `${prefix}signal:cancel`);
    const events = [event("run_x", 1), event("run_x", 2)];
    const a = bus("a");
    a.publish("run_x", events);
    a.signal("cancel", "run_x");
    await waitFor(() => got.length === 2);
    raw.disconnect();
    expect(got[0]![0]).toBe(`${prefix}run:run_x`);
    expect(JSON.parse(got[0]![1])).toEqual(events);
    expect(got[1]).toEqual([`${prefix}signal:cancel`, "run_x"]);
  });

  it("subscribes a channel once per process and unsubscribes with its last listener", async () => {
    const b = bus("b");
    const numsub = async () => Number(((await admin!.pubsub("NUMSUB", `${prefix}run:run_r`)) as [string, number])[1]);
    const off1 = b.subscribe("run_r", () => undefined);
    const off2 = b.subscribe("run_r", () => undefined);
    await b.ready();
    expect(await numsub()).toBe(1);
    off1();
    await b.ready();
    expect(await numsub()).toBe(1);
    off2();
    await waitFor(async () => (await numsub()) === 0, 5_000, "UNSUBSCRIBE");
  });

  it("a listener that throws does not keep the others from their events", async () => {
    const a = bus("a");
    const b = bus("b");
    const got: number[] = [];
    b.subscribe("run_t", () => {
      throw new Error("listener bug");
    });
    b.subscribe("run_t", (events) => got.push(...events.map((e) => e.seq)));
    await b.ready();
    a.publish("run_t", [event("run_t", 1)]);
    a.publish("run_t", [event("run_t", 2)]);
    await waitFor(() => got.length === 2);
    expect(got).toEqual([1, 2]);
  });

  it("never throws or blocks while Redis is unreachable", async () => {
    const port = await closedPort();
    const down = bus("down", `redis://127.0.0.1:${port}`);
    const off = down.subscribe("run_d", () => undefined);
    const started = Date.now();
    for (let i = 0; i < 100; i++) down.publish("run_d", [event("run_d", i + 1)]);
    down.signal("cancel", "run_d");
    off();
    expect(Date.now() - started).toBeLessThan(200);
    await down.close();
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("after its subscriber connection is killed: resubscribes, fires onReconnect once live, gets later events", async () => {
    const a = bus("a");
    const b = bus("b");
    const got: number[] = [];
    let reconnects = 0;
    b.onReconnect(() => reconnects++);
    b.subscribe("run_k", (events) => got.push(...events.map((e) => e.seq)));
    await Promise.all([a.ready(), b.ready()]);
    a.publish("run_k", [event("run_k", 1)]);
    await waitFor(() => got.length === 1);

    expect(await killClients(admin!, `${prefix}bus:sub:b`)).toBe(1);
    await waitFor(() => reconnects === 1, 10_000, "onReconnect");
    // onReconnect fires only once SUBSCRIBE is acknowledged: a publication
    // right after it must arrive (a reader's store re-read happens here).
    a.publish("run_k", [event("run_k", 3)]);
    await waitFor(() => got.length === 2, 5_000, "the event after the reconnect");
    expect(got).toEqual([1, 3]);
  });

  it("when a publisher's connection is killed, every process is told to re-read the store", async () => {
    const a = bus("a");
    const b = bus("b");
    let reconnects = 0;
    b.onReconnect(() => reconnects++);
    await Promise.all([a.ready(), b.ready()]);
    expect(await killClients(admin!, `${prefix}bus:pub:a`)).toBe(1);
    await waitFor(() => reconnects === 1, 10_000, "onReconnect from the resync");
    // And the publisher works again.
    const got: number[] = [];
    b.subscribe("run_p", (events) => got.push(...events.map((e) => e.seq)));
    await b.ready();
    a.publish("run_p", [event("run_p", 1)]);
    await waitFor(() => got.length === 1);
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
