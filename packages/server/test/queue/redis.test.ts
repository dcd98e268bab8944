import { createServer } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisRunQueue } from "../../src/queue/redis.js";
import {
  REDIS_URL,
  adminClient,
  clientInfo,
  deleteKeys,
  killClients,
  redisAvailable,
  sleep,
  testPrefix,
  waitFor,
} from "../bus/redis-env.js";
import { gate, queueContract } from "./contract.js";

/*
 * The Redis queue against a real Redis (REDIS_URL, default local). Several
 * RedisRunQueue instances stand for several workers; each test gets keys of
 * its own under this file's prefix, deleted at the end. A missing Redis
 * skips, and says so.
 */

const available = await redisAvailable("Redis RunQueue tests");
const filePrefix = testPrefix();
const admin: Redis | undefined = available ? adminClient() : undefined;
let tests = 0;
const open: RedisRunQueue[] = [];

function queue(prefix: string, workerId: string, options: { url?: string; blockSeconds?: number } = {}): RedisRunQueue {
  const created = new RedisRunQueue({ url: options.url ?? REDIS_URL, prefix, workerId, blockSeconds: options.blockSeconds ?? 5 });
  open.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeoutMs: 500 })));
});
afterAll(async () => {
  if (!admin) return;
  await deleteKeys(admin, filePrefix);
  admin.disconnect();
});

queueContract(
  "redis",
  async () => {
    const prefix = `${filePrefix}${++tests}:`;
    let workers = 0;
    return { shared: true, worker: () => queue(prefix, `w${++workers}`), cleanup: () => deleteKeys(admin!, prefix) };
  },
  { skip: !available },
);

describe.skipIf(!available)("RedisRunQueue", () => {
  const fresh = () => `${filePrefix}${++tests}:`;

  it("keeps waiting runs in <prefix>queue (LPUSH in, taken from the right)", async () => {
    const prefix = fresh();
    const q = queue(prefix, "w1");
    q.enqueue("run_1");
    q.enqueue("run_2");
    await waitFor(async () => (await admin!.llen(`${prefix}queue`)) === 2);
    expect(await admin!.lrange(`${prefix}queue`, 0, -1)).toEqual(["run_2", "run_1"]);
    await waitFor(() => q.depth === 2, 3_000, "depth");
  });

  it("hands each run to exactly one of 3 workers, under concurrent enqueues", async () => {
    const prefix = fresh();
    const workers = ["w1", "w2", "w3"].map((id) => queue(prefix, id));
    const handled = new Map<string, string[]>();
    let count = 0;
    for (const w of workers) {
      w.process(
        async (runId) => {
          await sleep(Math.random() * 3);
          handled.set(runId, [...(handled.get(runId) ?? []), w.workerId]);
          count++;
        },
        { concurrency: 4 },
      );
    }
    // Each worker also produces, interleaved with the others.
    await Promise.all(
      workers.map(async (w, n) => {
        for (let i = 0; i < 100; i++) {
          w.enqueue(`run_${n}_${i}`);
          if (i % 10 === 0) await sleep(1);
        }
      }),
    );
    await waitFor(() => count >= 300, 15_000, "300 runs");
    await sleep(100); // a duplicate would show up here
    expect(handled.size).toBe(300);
    for (const [runId, by] of handled) expect(by, runId).toHaveLength(1);
    // Every delivery acknowledged: nothing waiting, nothing held.
    await waitFor(async () => {
      const lengths = await Promise.all(["queue", "processing:w1", "processing:w2", "processing:w3"].map((k) => admin!.llen(prefix + k)));
      return lengths.every((n) => n === 0);
    });
  });

  it("does not lose a run whose worker dies mid-handler: requeueFrom(dead) hands it to another", async () => {
    const prefix = fresh();
    const dead = queue(prefix, "dead");
    let taken = false;
    dead.process(
      () => {
        taken = true;
        return new Promise<void>(() => undefined); // dies before it finishes
      },
      { concurrency: 1 },
    );
    dead.enqueue("run_1");
    await waitFor(() => taken);
    await dead.close({ timeoutMs: 0 }); // never acknowledged
    expect(await admin!.lrange(`${prefix}processing:dead`, 0, -1)).toEqual(["run_1"]);

    const survivor = queue(prefix, "survivor");
    const handled: string[] = [];
    survivor.process(async (runId) => void handled.push(runId), { concurrency: 1 });
    expect(await survivor.requeueFrom("dead")).toBe(1);
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual(["run_1"]);
    expect(await admin!.llen(`${prefix}processing:dead`)).toBe(0);
  });

  it("a worker restarting under its id first requeues what it held, oldest first", async () => {
    const prefix = fresh();
    // What a crashed `w1` left: run_old taken first (BLMOVE pushes LEFT).
    await admin!.lpush(`${prefix}processing:w1`, "run_old", "run_new");
    await admin!.lpush(`${prefix}queue`, "run_waiting");
    const restarted = queue(prefix, "w1");
    const handled: string[] = [];
    restarted.process(async (runId) => void handled.push(runId), { concurrency: 1 });
    await waitFor(() => handled.length === 3);
    expect(handled).toEqual(["run_old", "run_new", "run_waiting"]);
  });

  it("an early ack() means a crash no longer requeues the run", async () => {
    const prefix = fresh();
    const q = queue(prefix, "w1");
    let taken = false;
    q.process(
      (runId) => {
        q.ack(runId);
        taken = true;
        return new Promise<void>(() => undefined);
      },
      { concurrency: 1 },
    );
    q.enqueue("run_1");
    await waitFor(() => taken);
    await waitFor(async () => (await admin!.llen(`${prefix}processing:w1`)) === 0, 3_000, "the ack");
    await q.close({ timeoutMs: 0 });
    expect(await queue(prefix, "w2").requeueFrom("w1")).toBe(0);
  });

  it("blocks without polling, and close() ends the block at once", async () => {
    const prefix = fresh();
    const q = queue(prefix, "w1", { blockSeconds: 60 });
    const handled: string[] = [];
    q.process(async (runId) => void handled.push(runId), { concurrency: 1 });
    await waitFor(async () => (await clientInfo(admin!, `${prefix}block:w1`))?.includes("cmd=blmove") ?? false, 3_000, "BLMOVE");
    const begin = Date.now();
    admin!.lpush(`${prefix}queue`, "run_1");
    await waitFor(() => handled.length === 1);
    expect(Date.now() - begin).toBeLessThan(500);
    await waitFor(async () => (await clientInfo(admin!, `${prefix}block:w1`))?.includes("cmd=blmove") ?? false, 3_000, "BLMOVE again");
    const closing = Date.now();
    await q.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
    expect(await admin!.llen(`${prefix}processing:w1`)).toBe(0);
  });

  it("survives its blocking connection being killed", async () => {
    const prefix = fresh();
    const q = queue(prefix, "w1", { blockSeconds: 60 });
    const handled: string[] = [];
    q.process(async (runId) => void handled.push(runId), { concurrency: 2 });
    await waitFor(async () => (await clientInfo(admin!, `${prefix}block:w1`))?.includes("cmd=blmove") ?? false, 3_000, "BLMOVE");
    expect(await killClients(admin!, `${prefix}block:w1`)).toBe(1);
    q.enqueue("run_1");
    q.enqueue("run_2");
    await waitFor(() => handled.length === 2, 10_000, "runs after the reconnect");
    expect(handled).toEqual(["run_1", "run_2"]);
  });

  it("enqueue never throws while Redis is unreachable, and close() does not hang", async () => {
    const port = await closedPort();
    const q = queue(fresh(), "w1", { url: `redis://127.0.0.1:${port}` });
    q.process(async () => undefined, { concurrency: 1 });
    expect(() => q.enqueue("run_1")).not.toThrow();
    expect(q.depth).toBe(0);
    const begin = Date.now();
    await q.close({ timeoutMs: 300 });
    expect(Date.now() - begin).toBeLessThan(3_000);
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
