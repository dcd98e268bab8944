import { expect, it } from "vitest";
import { mulberry32 } from "../helpers.js";
import { clusterSuite, waitUntil, WORKERS } from "./harness.js";
import { crashes, streamingOn, ToolWorkload, waitAllTerminal } from "./workload.js";

/*
 * kill -9 of a random worker mid-load (issue #4): N workers (default 3) serve
 * CLUSTER_RUNS runs (default 30; 100 for the full version) whose model calls a
 * local tool the test answers. The victim is killed while it streams a model
 * reply, and not restarted: the others must take its runs over. (With
 * CLUSTER_WORKERS=1 it is restarted instead, which exercises single-process
 * recovery.) Then no run is lost, no run's seq has a gap or a duplicate, and
 * every client stream, reconnected to whichever worker was live, is the
 * stored log exactly.
 */

const RUNS = Number(process.env.CLUSTER_RUNS ?? 30);
const SEED = Number(process.env.CLUSTER_SEED ?? Math.floor(Math.random() * 2 ** 31));
const suite = clusterSuite({ name: "kill -9", minWorkers: 1 });

it(
  `kill -9 of a random worker while ${WORKERS} workers serve ${RUNS} runs with tool calls: no run lost, seq gapless, every reconnecting stream gets the log exactly`,
  async (ctx) => {
    const cluster = suite.use(ctx);
    const workers = cluster.workers.length;
    const random = mulberry32(SEED);
    const victim = Math.floor(random() * workers);
    console.log(
      `kill -9 test: seed ${SEED} (CLUSTER_SEED=${SEED} replays the choice), ${RUNS} runs, ${workers} workers, victim worker ${victim}`,
    );

    const load = new ToolWorkload(cluster, { chunkDelayMs: 20 });
    const starting = load.start(RUNS, { concurrency: 10 });

    // Mid-load (half of the model calls made: runs finished, paused on their tool call, and streaming), with the victim streaming a reply right now.
    await waitUntil(() => load.calls.length >= RUNS, { timeoutMs: 60_000, what: "half of the model calls" });
    const midRun = await streamingOn(load, victim, 80);
    const completedBefore = load.completed();
    // Alone, the worker is killed and started again (restartWorker kills with SIGKILL first).
    if (workers === 1) await cluster.restartWorker(victim);
    else await cluster.killWorker(victim, "SIGKILL");
    console.log(`killed worker ${victim} (kill -9) with ${completedBefore}/${RUNS} runs finished, ${load.calls.length} model calls made`);

    await starting;
    await load.settle();
    const failures = await load.verify();
    const reconnected = load.runs.filter((run) => (run.result?.reconnects ?? 0) > 0).length;
    const resumed = load.runs.filter((run) => run.result?.frames.some((frame) => frame.type === "run_resumed")).length;
    console.log(
      `kill -9 test: outcomes ${JSON.stringify(load.outcomes())}; ${reconnected} client streams reconnected; ${resumed} runs resumed`,
    );

    expect(crashes(cluster), "workers that died on their own").toEqual([]);
    expect(load.runs.filter((run) => !run.runId).map((run) => `${run.tag}: ${run.createStatus}`)).toEqual([]);
    expect(failures).toEqual([]);
    expect(await waitAllTerminal(cluster)).toEqual([]);
    // The kill hit a run in the middle of a model call: someone must have resumed it.
    if (midRun) expect(resumed).toBeGreaterThan(0);
  },
  240_000 + RUNS * 2_000,
);
