import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisEventBus } from "../../src/bus/redis.js";
import { RedisRunQueue } from "../../src/queue/redis.js";
import { event } from "./contract.js";
import { sleep, waitFor } from "./redis-env.js";

/*
 * A Redis restart (no persistence, so also a flush) under a live bus and
 * queue. It uses a private redis-server of its own on a free port, so the
 * shared one other test files use is never disturbed; without the binary the
 * suite is skipped, and says so.
 */

const hasBinary = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasBinary) console.warn("SKIPPED Redis restart tests: no redis-server binary on PATH.");

let server: ChildProcess | undefined;
let running = false;
const port = hasBinary ? await freePort() : 0;
const url = `redis://127.0.0.1:${port}`;

async function startRedis(): Promise<void> {
  server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: (n) => (n > 100 ? null : 20) });
  probe.on("error", () => undefined);
  await waitFor(async () => (await probe.ping().catch(() => "")) === "PONG", 5_000, "redis-server to start");
  probe.disconnect();
  running = true;
}

async function crashRedis(): Promise<void> {
  const child = server!;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  running = false;
}

afterAll(async () => {
  if (running) await crashRedis();
});

describe.skipIf(!hasBinary)("Redis restart", () => {
  it("bus: readers are told to catch up, and get the events published after", async () => {
    await startRedis();
    const a = new RedisEventBus({ url, name: "a" });
    const b = new RedisEventBus({ url, name: "b" });
    const got: number[] = [];
    let reconnects = 0;
    b.onReconnect(() => reconnects++);
    b.subscribe("run_1", (events) => got.push(...events.map((e) => e.seq)));
    await Promise.all([a.ready(), b.ready()]);
    a.publish("run_1", [event("run_1", 1)]);
    await waitFor(() => got.length === 1);

    await crashRedis();
    a.publish("run_1", [event("run_1", 2)]); // may be delivered late or lost: the store has it
    await sleep(200);
    await startRedis();
    await waitFor(() => reconnects >= 1, 10_000, "onReconnect");
    a.publish("run_1", [event("run_1", 3)]);
    await waitFor(() => got.includes(3), 5_000, "the event after the restart");
    expect(got[0]).toBe(1);
    expect(got).toEqual([...got].sort((x, y) => x - y));
    await Promise.all([a.close(), b.close()]);
  });

  it("queue: the worker resumes blocking, and runs enqueued during the outage are not dropped", async () => {
    if (!running) await startRedis();
    const q = new RedisRunQueue({ url, workerId: "w1" });
    const handled: string[] = [];
    q.process(async (runId) => void handled.push(runId), { concurrency: 2 });
    q.enqueue("run_before");
    await waitFor(() => handled.length === 1);

    await crashRedis();
    q.enqueue("run_during"); // held by the client until Redis is back
    await sleep(200);
    await startRedis();
    q.enqueue("run_after");
    await waitFor(() => handled.length === 3, 10_000, "runs after the restart");
    expect(handled).toEqual(["run_before", "run_during", "run_after"]);
    await q.close({ timeoutMs: 1_000 });
  });

  it("close() returns while Redis is down", async () => {
    if (!running) await startRedis();
    const q = new RedisRunQueue({ url, workerId: "w2" });
    const bus = new RedisEventBus({ url, name: "c" });
    q.process(async () => undefined, { concurrency: 1 });
    await bus.ready();
    await crashRedis();
    const begin = Date.now();
    await Promise.all([q.close({ timeoutMs: 500 }), bus.close()]);
    expect(Date.now() - begin).toBeLessThan(3_000);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
