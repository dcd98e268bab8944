import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { clusterSuite, sleep } from "../cluster/harness.js";
import { crashes } from "../cluster/workload.js";
import { type Phase, type SoakProfile, SoakLoad } from "./load.js";
import { Monitor, SOAK_APPLICATION_NAME } from "./monitor.js";
import { growth, mean, minMax, percentile, table } from "./probe.js";

/*
 * The soak of issue #4: SOAK_STREAMS concurrent streams (150 here; 1,000 with
 * `npm run test:soak`) for SOAK_SECONDS (25; 600) through SOAK_WORKERS (2)
 * real `agentd serve` workers on PostgreSQL + Redis. Each client loops: run
 * created on one worker, its stream read from the same or the other one, a
 * local tool answered for most runs, next run at the terminal event (see
 * load.ts). What must hold, and is printed:
 *
 *  - 0 lost events: every run ends, successfully, and its client stream is
 *    its stored log exactly (seq 1..n, no gap, no duplicate, terminal last);
 *    a stored log seen with a gap is read again after the drain, and a gap
 *    still there (a hole in the log) fails the soak; the workspace holds
 *    exactly the runs the clients created, all ended;
 *  - memory: each worker's RSS at the end < 1.5x its RSS after the warm-up
 *    (max(20 %, 1 min)) and < 600 MB; and when the soak lasts 5 minutes or
 *    more, the growth of its live heap (V8's used heap after each major GC,
 *    logged by heap-probe.cjs loaded into the worker) is not above 5 %/h by
 *    more than twice its standard error (least-squares line over the points
 *    after the warm-up, relative to their mean). RSS and heap growth are
 *    printed as %/h ± σ. Why not "RSS growth < 5 %/h" outright: measured on
 *    this workload with no leak, RSS swings by ±15 % in cycles of minutes,
 *    and 10 minutes of RSS samples gave -250 and +11 %/h; the heap after a
 *    GC gave -22 and +5 %/h (σ ≈ 15 %/h). Ten minutes cannot resolve 5 %/h;
 *    an hour (SOAK_SECONDS=3600) resolves about 1 %/h of the heap;
 *  - flat descriptors: the descriptors not explained by the load (all but
 *    the sockets of clients, PostgreSQL, Redis and model calls) stay within
 *    5 % + 10 after the warm-up and are back to their count before the load
 *    after the drain; a worker holds no more client sockets than the client
 *    has open to it (+ 5 % + 10), and none once the client closed its own;
 *  - flat connections: at every sample at most the pool size (10) to
 *    PostgreSQL and 4 to Redis per worker (counted per worker from /proc,
 *    the server sets no application_name), and at most 10 per worker in
 *    pg_stat_activity.
 */

function positiveNumber(name: string, fallback: number, { integer = true, allowZero = false } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || (integer && !Number.isInteger(value)))
    throw new Error(`${name} must be a ${integer ? "whole" : ""} number ${allowZero ? ">= 0" : "> 0"} (got '${raw}')`);
  return value;
}

const STREAMS = positiveNumber("SOAK_STREAMS", 150);
const SECONDS = positiveNumber("SOAK_SECONDS", 25);
const WORKERS = positiveNumber("SOAK_WORKERS", 2);
/** Long enough for a %/h figure to mean something. */
const LONG = SECONDS >= 300;
const PROFILE: SoakProfile = {
  streams: STREAMS,
  seconds: SECONDS,
  chunkDelayMs: positiveNumber("SOAK_CHUNK_DELAY_MS", 200),
  words: positiveNumber("SOAK_WORDS", 6),
  toolShare: positiveNumber("SOAK_TOOL_SHARE", 0.75, { integer: false, allowZero: true }),
  // Long enough, with 1,000 streams, that most runs are paused on the client's tool at any time: a worker
  // executes at most 256 runs at once (engine.ts), and runs beyond that would wait in the queue.
  toolMs: positiveNumber("SOAK_TOOL_MS", LONG ? 12_000 : 2_000, { allowZero: true }),
  rampMs: Math.min(10_000, SECONDS * 100),
  runTimeoutMs: 120_000,
  replayEvery: positiveNumber("SOAK_REPLAY_EVERY", 20, { allowZero: true }),
};
const SAMPLE_MS = positiveNumber("SOAK_SAMPLE_MS", LONG ? 5_000 : 2_000);
const WARMUP_MS = LONG ? Math.max(60_000, SECONDS * 200) : SECONDS * 200;
const LEASE_MS = positiveNumber("SOAK_LEASE_MS", 10_000);
/** max in the pg Pool of the PostgreSQL store (store/postgres/store.ts). */
const POOL_SIZE = 10;
/** Connections to Redis per worker at most (docs/scale-out.md). */
const REDIS_CONNECTIONS = 4;
const RSS_CAP = 600 * 2 ** 20;
/**
 * Runs ended by `error_model` with ECONNRESET on the worker's model call ("provider reset") are counted apart and
 * fail the test. The cause was the provider client retrying a request that died on a stale keep-alive socket on
 * the next pooled socket, itself closing (fixed: the retry uses a new connection). SOAK_STRICT=0 tolerates up to
 * 0.1 % of the runs (at least 5), to tell such a regression apart from the event path this soak is about.
 */
const STRICT = process.env.SOAK_STRICT !== "0";
/** Diagnostics: AGENTD_LOCAL_TOOL_TIMEOUT_MS of the workers (default: the server's, 600 s), and their NODE_OPTIONS (e.g. `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp`). */
const LOCAL_TOOL_TIMEOUT_MS = process.env.SOAK_LOCAL_TOOL_TIMEOUT_MS;
const WORKER_NODE_OPTIONS = process.env.SOAK_WORKER_NODE_OPTIONS;

/** Where heap-probe.cjs, loaded into every worker, writes the heap after each major GC (named for the harness's leftover collection). */
const HEAP_DIR = process.env.SOAK_HEAP === "0" ? undefined : mkdtempSync(join(tmpdir(), `agentd-cluster-${process.pid}-soak-heap-`));
const HEAP_PROBE = fileURLToPath(new URL("./heap-probe.cjs", import.meta.url));
afterAll(() => {
  if (HEAP_DIR) rmSync(HEAP_DIR, { recursive: true, force: true });
});
const NODE_OPTIONS = [HEAP_DIR ? `--require ${HEAP_PROBE}` : "", WORKER_NODE_OPTIONS ?? ""].join(" ").trim();

const suite = clusterSuite({
  name: "soak",
  workers: WORKERS,
  minWorkers: 2,
  leaseMs: LEASE_MS,
  env: {
    ...(LOCAL_TOOL_TIMEOUT_MS ? { AGENTD_LOCAL_TOOL_TIMEOUT_MS: LOCAL_TOOL_TIMEOUT_MS } : {}),
    ...(HEAP_DIR ? { AGENTD_SOAK_HEAP_DIR: HEAP_DIR } : {}),
    ...(NODE_OPTIONS ? { NODE_OPTIONS } : {}),
  },
});

/** The heap after each major GC of worker `pid` (heap-probe.cjs), t in ms since `origin`. */
function heapAfterGc(pid: number, origin: number): Array<{ t: number; used: number }> {
  if (!HEAP_DIR) return [];
  try {
    return readFileSync(join(HEAP_DIR, `heap-${pid}.jsonl`), "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { t: number; used: number })
      .map((point) => ({ t: point.t - origin, used: point.used }));
  } catch {
    return [];
  }
}

const MB = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const range = (values: number[]): string => {
  const { min, max } = minMax(values.filter((value) => Number.isFinite(value)));
  return Number.isFinite(min) ? (min === max ? String(min) : `${min}–${max}`) : "-";
};
const thousands = (value: number): string => value.toLocaleString("en-US");
const signed = (value: number, digits = 1): string => `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
const withError = (value: { perHour: number; standardError: number }): string =>
  `${signed(value.perHour)} ± ${Number.isFinite(value.standardError) ? value.standardError.toFixed(1) : "?"}`;

it(
  `soak: ${STREAMS} concurrent streams for ${SECONDS} s through ${WORKERS} workers: 0 lost events, ${LONG ? "bounded RSS, heap growth not above 5 %/h" : "bounded RSS"}, flat descriptors and DB connections`,
  async (ctx) => {
    const cluster = suite.use(ctx);
    const workers = cluster.workers.length;
    const db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2, application_name: SOAK_APPLICATION_NAME });
    db.on("error", () => undefined);
    const load = new SoakLoad(cluster, db, PROFILE);
    const monitor = new Monitor(cluster, db, load);
    try {
      console.log(
        `soak: ${STREAMS} streams for ${SECONDS} s through ${workers} workers (pids ${cluster.workers.map((worker) => worker.pid).join(", ")}), sampling every ${SAMPLE_MS / 1_000} s, warm-up ${WARMUP_MS / 1_000} s`,
      );
      await monitor.probe(); // CPU baseline
      await sleep(500);
      const before = await monitor.probe();

      let lastProgress = Date.now();
      monitor.start(SAMPLE_MS, (sample) => {
        if (SECONDS < 120 || Date.now() - lastProgress < 60_000) return;
        lastProgress = Date.now();
        const w = sample.workers;
        console.log(
          `soak t=${(sample.t / 1_000).toFixed(0)} s: ${thousands(load.totals.runsCompleted)} runs checked, ${thousands(load.totals.eventsChecked)} events, ${load.failures.length} failures; ` +
            `streams open ${sample.openStreams.reduce((a, b) => a + b, 0)} (waiting ${sample.phases.waiting}, streaming ${sample.phases.streaming}, paused ${sample.phases.paused}); ` +
            w
              .map((s, i) => `w${i} RSS ${s ? MB(s.rss) : "-"} MB, CPU ${s ? s.cpuPercent.toFixed(0) : "-"} %, fds ${s?.fds ?? "-"}`)
              .join("; ") +
            `; load generator CPU ${sample.selfCpuPercent.toFixed(0)} %`,
        );
      });
      const started = Date.now();
      const origin = started; // the monitor's t = 0, give or take a millisecond
      await load.run();
      await monitor.stop();
      const loadMs = load.stopAt - started;
      const drainMs = (load.drainedAt ?? Date.now()) - load.stopAt;

      // After the drain: the client closes its idle sockets; the workers' descriptors must come back down.
      load.close();
      let after = await monitor.probe();
      for (let waited = 0; waited < 10_000; waited += 500) {
        if (after.workers.every((sample, index) => !sample || sample.inbound === 0 || sample.fds <= (before.workers[index]?.fds ?? 0)))
          break;
        await sleep(500);
        after = await monitor.probe();
      }

      const { rows: statuses } = await db.query<{ status: string; count: number }>(
        "SELECT status, count(*)::int AS count FROM agentd.runs GROUP BY status ORDER BY status",
      );
      const runsInStore = statuses.reduce((sum, row) => sum + row.count, 0);
      const notEnded = statuses.filter((row) => !["completed", "failed", "cancelled"].includes(row.status));

      // --- figures --------------------------------------------------------------------
      const totals = load.totals;
      const samples = monitor.samples;
      const loadEnd = SECONDS * 1_000;
      const steady = samples.filter((sample) => sample.t >= WARMUP_MS && sample.t <= loadEnd);
      const perWorker = Array.from({ length: workers }, (_, index) => {
        const series = steady
          .filter((sample) => sample.workers[index])
          .map((sample) => ({ t: sample.t, s: sample.workers[index]!, sample }));
        const rss = series.map((point) => point.s.rss);
        const rssGrowth = growth(
          series.map((point) => point.t),
          rss,
        );
        const residual = series.map((point) => point.s.residual);
        const heap = heapAfterGc(cluster.workers[index]!.pid, origin).filter((point) => point.t >= WARMUP_MS && point.t <= loadEnd);
        const inboundExcess = series.map((point) => point.s.inbound - point.sample.clientSockets[index]!);
        return {
          index,
          series,
          rssStart: rss[0] ?? Number.NaN,
          rssEnd: rss.at(-1) ?? Number.NaN,
          rssMax: minMax(rss).max,
          rssGrowth,
          heap,
          heapGrowth: growth(
            heap.map((point) => point.t),
            heap.map((point) => point.used),
          ),
          cpu: mean(series.map((point) => point.s.cpuPercent).filter((value) => Number.isFinite(value))),
          health: series.map((point) => point.s.healthMs).filter((value) => Number.isFinite(value)),
          fds: series.map((point) => point.s.fds),
          inbound: series.map((point) => point.s.inbound),
          inboundExcess,
          postgres: series.map((point) => point.s.postgres),
          redis: series.map((point) => point.s.redis),
          provider: series.map((point) => point.s.provider),
          residual,
        };
      });
      const phaseMean = (phase: Phase): string => mean(steady.map((s) => s.phases[phase])).toFixed(0);
      const phaseMax = (phase: Phase): string => String(minMax(steady.map((s) => s.phases[phase])).max);
      const ms = (values: number[]): string =>
        `p50 ${(percentile(values, 50) / 1_000).toFixed(2)} s, p95 ${(percentile(values, 95) / 1_000).toFixed(2)} s, max ${(percentile(values, 100) / 1_000).toFixed(2)} s`;
      // Runs posted after the warm-up.
      const timings = load.timings.filter((t) => t.at >= WARMUP_MS);
      const openTotals = steady.map((sample) => sample.openStreams.reduce((a, b) => a + b, 0));
      const row = (label: string, value: (w: (typeof perWorker)[number]) => string): string[] => [label, ...perWorker.map(value)];
      const workerTable = table([
        ["per worker", ...perWorker.map((w) => `worker ${w.index}`)],
        row("RSS after warm-up → end (MB)", (w) => `${MB(w.rssStart)} → ${MB(w.rssEnd)}`),
        row("RSS max (MB)", (w) => MB(w.rssMax)),
        row(`RSS growth, least squares (%/h ± σ)`, (w) => (LONG ? withError(w.rssGrowth) : `n/a (< 5 min)`)),
        row("heap after major GC, first → last (MB)", (w) =>
          w.heap.length > 0 ? `${MB(w.heap[0]!.used)} → ${MB(w.heap.at(-1)!.used)}` : "-",
        ),
        row("  its growth, least squares (%/h ± σ)", (w) => (w.heap.length < 3 ? "-" : LONG ? withError(w.heapGrowth) : "n/a (< 5 min)")),
        row("  major GCs after warm-up", (w) => String(w.heap.length)),
        row("CPU, mean (% of a core)", (w) => w.cpu.toFixed(0)),
        row(
          "GET /healthz round trip p50 / max (ms)",
          (w) => `${percentile(w.health, 50).toFixed(1)} / ${percentile(w.health, 100).toFixed(1)}`,
        ),
        row("file descriptors min–max", (w) => range(w.fds)),
        row("  client sockets (streams, POSTs)", (w) => range(w.inbound)),
        row("  PostgreSQL connections", (w) => range(w.postgres)),
        row("  Redis connections", (w) => range(w.redis)),
        row("  model-call sockets", (w) => range(w.provider)),
        row("  other (files, pipes, epoll...)", (w) => range(w.residual)),
        row("fds before load → after drain", (w) => `${before.workers[w.index]?.fds ?? "-"} → ${after.workers[w.index]?.fds ?? "-"}`),
        row(
          "  other fds before → after",
          (w) => `${before.workers[w.index]?.residual ?? "-"} → ${after.workers[w.index]?.residual ?? "-"}`,
        ),
      ]);
      const dbRange = range(steady.map((sample) => sample.dbConnections));
      const totalsTable = table(
        [
          ["totals", ""],
          [
            "duration",
            `${(loadMs / 1_000).toFixed(1)} s of load + ${(drainMs / 1_000).toFixed(1)} s drain (warm-up ${WARMUP_MS / 1_000} s, ${steady.length} samples after it)`,
          ],
          [
            "runs completed",
            `${thousands(totals.runsCompleted)} (${thousands(totals.toolRuns)} with a local tool call), ${(totals.runsCompleted / ((loadMs + drainMs) / 1_000)).toFixed(1)} runs/s`,
          ],
          ["events checked", `${thousands(totals.eventsChecked)} (client stream = stored log, frame for frame)`],
          ["lost events", thousands(totals.lostEvents)],
          [
            "duplicates / gaps",
            `${totals.duplicates} / ${totals.gaps} (extra frames ${totals.extraFrames}); runs with a hole in the stored log: ${totals.storedGapRuns}`,
          ],
          ["runs mismatched / unfinished / failed", `${totals.mismatchedRuns} / ${totals.unfinishedRuns} / ${totals.notSuccess}`],
          ["runs in the store / not ended", `${thousands(runsInStore)} / ${notEnded.reduce((sum, r) => sum + r.count, 0)}`],
          [
            "runs ended by a provider reset",
            `${totals.providerResets}${totals.providerResets > 0 ? " (error_model: the worker's model call got ECONNRESET on a reused keep-alive socket)" : ""}`,
          ],
          ["stream reconnects", String(totals.reconnects)],
          [
            "cross-worker reads",
            `${thousands(totals.crossWorkerReads)} (${((totals.crossWorkerReads / Math.max(1, totals.runsCompleted)) * 100).toFixed(0)} % of runs read from a worker that made none of their model calls)`,
          ],
          ["replays via the API checked", `${totals.replaysChecked} (${totals.replayMismatches} differ)`],
          ["streams open min–max", `${range(openTotals)} of ${STREAMS} (clients in a run: ${range(steady.map((s) => s.inRun))})`],
          [
            "runs waiting / streaming / paused",
            `mean ${phaseMean("waiting")} / ${phaseMean("streaming")} / ${phaseMean("paused")}, max ${phaseMax("waiting")} / ${phaseMax("streaming")} / ${phaseMax("paused")}`,
          ],
          ["POST /agent-runs → 202", ms(timings.map((t) => t.post))],
          ["POST → started (wait for a worker)", ms(timings.map((t) => t.start))],
          ["POST → terminal event", ms(timings.map((t) => t.total))],
          ["DB connections (pg_stat_activity)", `${dbRange} (pool ${POOL_SIZE} per worker)`],
          ["Redis queue length max", String(minMax(steady.map((s) => s.queueLength)).max)],
          [
            "load generator CPU / RSS",
            `${mean(steady.map((s) => s.selfCpuPercent)).toFixed(0)} % / ${MB(minMax(steady.map((s) => s.selfRss)).max)} MB max`,
          ],
        ],
        { alignRight: false },
      );
      console.log(
        [
          "",
          `=== agentd soak: ${STREAMS} concurrent streams, ${SECONDS} s, ${workers} workers (PostgreSQL + Redis, lease ${LEASE_MS} ms) ===`,
          `profile: model replies of ${PROFILE.words} filler words at one chunk per ${PROFILE.chunkDelayMs} ms; ${Math.round(PROFILE.toolShare * 100)} % of runs call a local tool the client answers after ${PROFILE.toolMs / 2_000}–${(PROFILE.toolMs * 1.5) / 1_000} s; every ${PROFILE.replayEvery}th run replayed through the API from the other worker`,
          "",
          workerTable,
          "",
          totalsTable,
          ...(load.resets.length > 0 ? ["", "runs ended by a provider reset (first 5):", ...load.resets.map((reset) => `  ${reset}`)] : []),
          ...(load.failures.length > 0 ? ["", "first failures:", ...load.failures.map((failure) => `  ${failure}`)] : []),
          ...(load.rechecked.length > 0
            ? ["", "suspect runs, read again after the drain:", ...load.rechecked.map((line) => `  ${line}`)]
            : []),
          "",
        ].join("\n"),
      );

      // --- what must hold ------------------------------------------------------------------
      expect(crashes(cluster), "workers that died on their own").toEqual([]);
      expect(load.failures, "failures").toEqual([]);
      expect(totals.lostEvents, "lost events").toBe(0);
      expect(totals.extraFrames + totals.duplicates + totals.gaps, "duplicate or out-of-place frames").toBe(0);
      expect(totals.storedGapRuns, "runs with a hole in the stored log").toBe(0);
      expect(totals.mismatchedRuns + totals.unfinishedRuns + totals.notSuccess + totals.replayMismatches).toBe(0);
      expect(totals.providerResets, "runs ended by a provider reset (see STRICT)").toBeLessThanOrEqual(
        STRICT ? 0 : Math.max(5, Math.floor(totals.runsCompleted / 1_000)),
      );
      expect(totals.runsCompleted, "runs completed").toBeGreaterThanOrEqual(STREAMS);
      expect(runsInStore, "runs in the store (one per POST)").toBe(totals.runsCompleted);
      expect(notEnded, "runs not ended in the store").toEqual([]);
      expect(steady.length, "samples after the warm-up").toBeGreaterThanOrEqual(3);
      for (const w of perWorker) {
        const name = `worker ${w.index}`;
        // RSS, always: a bound loose enough for the collector's cycles (RSS swings by ±15 % over minutes).
        expect(w.rssEnd, `${name}: RSS at the end vs after the warm-up (${MB(w.rssStart)} MB)`).toBeLessThan(1.5 * w.rssStart);
        expect(w.rssMax, `${name}: RSS max`).toBeLessThan(RSS_CAP);
        if (LONG) {
          // The 5 %/h of issue #4, on the live heap (after each major GC), as finely as the samples can tell: the soak
          // fails when the growth is above 5 %/h by more than twice its standard error. Ten minutes resolve about
          // ±15 %/h here (the heap after a GC scatters by ~1 MB); the ± printed says how finely this run could tell.
          const heapKnown = w.heap.length >= 5;
          const memory = heapKnown ? w.heapGrowth : w.rssGrowth;
          const what = heapKnown ? "heap after major GC" : "RSS (too few major GCs to use the heap)";
          const margin = 2 * (Number.isFinite(memory.standardError) ? memory.standardError : 0);
          expect(memory.perHour - margin, `${name}: ${what} grows ${withError(memory)} %/h: above 5 %/h beyond 2σ`).toBeLessThan(5);
        }
        const residual = minMax(w.residual);
        expect(residual.max - residual.min, `${name}: spread of the other fds (${range(w.residual)})`).toBeLessThanOrEqual(
          Math.ceil(0.05 * mean(w.residual)) + 10,
        );
        // The worker holds no client socket the client does not hold (allowing for the sockets opening or closing between the two readings).
        expect(minMax(w.inboundExcess).max, `${name}: client sockets beyond the client's own`).toBeLessThanOrEqual(
          Math.ceil(0.05 * STREAMS) + 10,
        );
        expect(minMax(w.postgres).max, `${name}: PostgreSQL connections`).toBeLessThanOrEqual(POOL_SIZE);
        expect(minMax(w.redis).max, `${name}: Redis connections`).toBeLessThanOrEqual(REDIS_CONNECTIONS);
        const b = before.workers[w.index]!;
        const a = after.workers[w.index]!;
        expect(a.inbound, `${name}: client sockets left after the drain`).toBe(0);
        expect(a.residual - b.residual, `${name}: other fds after the drain vs before the load`).toBeLessThanOrEqual(5);
      }
      expect(minMax(steady.map((s) => s.dbConnections)).max, "DB connections (pg_stat_activity)").toBeLessThanOrEqual(POOL_SIZE * workers);
    } finally {
      load.close();
      await monitor.stop();
      monitor.close();
      await db.end().catch(() => undefined);
    }
  },
  SECONDS * 1_000 + PROFILE.runTimeoutMs + 120_000,
);
