import { expect, it } from "vitest";
import { clusterSuite, sleep, waitUntil, WORKERS } from "./harness.js";
import { startPrivateRedis, type PrivateRedis } from "./services.js";
import { crashes, ToolWorkload, waitAllTerminal } from "./workload.js";

/*
 * Redis crashes, restarts empty, and is flushed, under load (issue #4), on a
 * PRIVATE redis-server started by this file (its own port, no persistence),
 * never the shared one. Redis carries signals, not state (docs/scale-out.md):
 * afterwards every run has ended, no event is lost, and every client stream
 * caught up by itself, on the connection it had (the workers never died, so
 * no client had a reason to reconnect). Runs created while Redis was down or
 * just flushed still run.
 */

const RUNS = 20;
let redis: PrivateRedis | undefined;
const suite = clusterSuite({
  name: "Redis restart",
  workers: Math.min(WORKERS, 2),
  before: async () => {
    const started = await startPrivateRedis();
    if ("skip" in started) return { skip: `cannot run a private Redis here: ${started.skip}` };
    redis = started;
    return { redisUrl: started.url };
  },
  after: async () => {
    await redis?.close();
  },
});

it("Redis crash + empty restart, then FLUSHALL, under load: no event lost, runs queued meanwhile still run, streams catch up", async (ctx) => {
  const cluster = suite.use(ctx);
  const server = redis!;
  const load = new ToolWorkload(cluster, { chunkDelayMs: 30, followTimeoutMs: 120_000 });
  const starting = load.start(RUNS, { concurrency: 5 });
  let during: Promise<unknown> = Promise.resolve();
  let afterFlush: Promise<unknown> = Promise.resolve();
  try {
    await waitUntil(() => load.calls.length >= RUNS / 2, { timeoutMs: 60_000, what: "the runs under way" });
    await server.crash();
    console.log(`Redis crashed (kill -9) with ${load.completed()}/${load.runs.length} runs finished`);
    // Created while Redis is down: in the database, to be run once it is back.
    during = load.start(3, { concurrency: 3 });
    await sleep(1_500);
    await server.start();
    console.log("Redis restarted, empty");
    await waitUntil(() => load.completed() >= RUNS / 2, { timeoutMs: 90_000, what: "half of the runs finished" }).catch(() => undefined);
    await server.flushAll();
    console.log(`FLUSHALL with ${load.completed()}/${load.runs.length} runs finished`);
    afterFlush = load.start(3, { concurrency: 3 });
  } finally {
    if (!server.running) await server.start();
  }
  await Promise.all([starting, during, afterFlush]);
  await load.settle();

  const failures = await load.verify();
  const reconnected = load.runs
    .filter((run) => (run.result?.reconnects ?? 0) > 0)
    .map(
      (run) =>
        `${run.tag}: ${run.result!.segments.map((segment) => `w${segment.worker}@${segment.fromSeq}+${segment.frames}:${segment.end}`).join(" ")}`,
    );
  console.log(`Redis restart: outcomes ${JSON.stringify(load.outcomes())}`);

  expect(crashes(cluster), "workers that died on their own").toEqual([]);
  expect(load.runs.filter((run) => !run.runId).map((run) => `${run.tag}: ${run.createStatus}`)).toEqual([]);
  expect(failures).toEqual([]);
  expect(await waitAllTerminal(cluster)).toEqual([]);
  // Streams caught up without the client's help.
  expect(reconnected).toEqual([]);
}, 300_000);
