import { expect, it } from "vitest";
import { mulberry32 } from "../helpers.js";
import { clusterSuite, waitUntil, WORKERS } from "./harness.js";
import { crashes, streamingOn, ToolWorkload, waitAllTerminal } from "./workload.js";

/*
 * Graceful shutdown under load (issue #4): SIGTERM a random worker while
 * the cluster serves runs with tool calls, without cutting its client
 * connections first. The worker stops taking runs, lets the model steps in
 * flight finish (the grace period is far longer than a step), hands back the
 * rest, ends its streams and exits 0. Then: no run lost, every stream (which
 * the worker itself ended) resumed elsewhere and equals the stored log, and
 * no step was repeated: every run_resumed is a hand-over, none a crash.
 */

const RUNS = Number(process.env.CLUSTER_RUNS ?? 30);
const SEED = Number(process.env.CLUSTER_SEED ?? Math.floor(Math.random() * 2 ** 31));
const GRACE_MS = 10_000;
const suite = clusterSuite({ name: "sigterm", minWorkers: 2, env: { AGENTD_SHUTDOWN_GRACE_MS: String(GRACE_MS) } });

it(
  `SIGTERM of a random worker while ${WORKERS} workers serve ${RUNS} runs: it exits 0 after its steps finish; no run lost, no step repeated, streams resume exactly`,
  async (ctx) => {
    const cluster = suite.use(ctx);
    const random = mulberry32(SEED);
    const victim = Math.floor(random() * cluster.workers.length);
    console.log(`sigterm test: seed ${SEED} (CLUSTER_SEED=${SEED} replays the choice), ${RUNS} runs, victim worker ${victim}`);

    const load = new ToolWorkload(cluster, { chunkDelayMs: 20 });
    const starting = load.start(RUNS, { concurrency: 10 });
    await waitUntil(() => load.calls.length >= RUNS, { timeoutMs: 60_000, what: "half of the model calls" });
    const midStep = await streamingOn(load, victim, 60);
    const began = Date.now();
    const exit = await cluster.killWorker(victim, "SIGTERM", { keepConnections: true, exitWithinMs: GRACE_MS + 10_000 });
    console.log(`sigterm test: worker ${victim} exited ${JSON.stringify(exit)} ${Date.now() - began} ms after SIGTERM`);
    expect(exit).toEqual({ code: 0, signal: null });

    await starting;
    await load.settle();
    const failures = await load.verify();
    const resumedReasons = load.runs.flatMap((run) => (run.result?.frames ?? []).filter((frame) => frame.type === "run_resumed").map((frame) => String(frame.data.reason)));
    const endedByServer = load.runs.filter((run) => run.result?.segments.some((segment) => segment.worker === victim && segment.end !== "terminal")).length;
    console.log(
      `sigterm test: outcomes ${JSON.stringify(load.outcomes())}; ${endedByServer} streams ended by the stopping worker; ${resumedReasons.length} runs handed over`,
    );

    expect(crashes(cluster), "workers that died on their own").toEqual([]);
    expect(load.runs.filter((run) => !run.runId).map((run) => `${run.tag}: ${run.createStatus}`)).toEqual([]);
    expect(failures).toEqual([]);
    expect(await waitAllTerminal(cluster)).toEqual([]);
    // Every step in flight finished: nothing was resumed as after a crash.
    expect(resumedReasons.filter((reason) => !reason.includes("handed it over"))).toEqual([]);
    if (midStep) expect(endedByServer, "streams the stopping worker ended (their clients resumed elsewhere)").toBeGreaterThan(0);
  },
  240_000 + RUNS * 2_000,
);
