// Micro-benchmark of the PostgreSQL store, the same shape as bench/store.mjs
// (DESIGN.md, Runtime: 100 runs x 200 events, 50 per transaction). Run after
// `npx tsc -b packages/protocol packages/server`:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/store-postgres.mjs
// It works in a throwaway schema (agentd_bench_<random>), dropped at the end.
import { randomBytes } from "node:crypto";
import pg from "pg";

const { PostgresStore } = await import(new URL("../packages/server/dist/store/postgres/index.js", import.meta.url).href);
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const RUNS = 100;
const EVENTS_PER_RUN = 200;
const BATCH = 50;

const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null };
const checkpoint = {
  messages: [{ role: "user", content: "hi" }],
  toolTurns: 0,
  pending: [],
  pendingDeadline: null,
  inputStart: 0,
  attempt: 1,
};
const run = (workspaceId, id) => ({
  id,
  workspaceId,
  sessionId: null,
  agentId: null,
  modelId: "mock:echo",
  status: "running",
  agentSpec: { systemPrompt: "You are terse." },
  metadata: {},
  checkpoint,
  text: null,
  subtype: null,
  error: null,
  usage,
  lastSeq: 0,
  createdAt: new Date().toISOString(),
  startedAt: null,
  endedAt: null,
});
const event = (runId, seq) => ({
  runId,
  seq,
  type: "assistant_delta",
  data: JSON.stringify({ type: "assistant_delta", runId, seq, text: "some tokens of the answer " }),
});
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const rate = (count, millis) => Math.round((count / millis) * 1000).toLocaleString("en-US");

/**
 * `writers` concurrent committers (as several runs of one worker are), each
 * on its own share of the runs. `fenced`: every run is leased first and every
 * commit carries its fence (issue #4), as a scaled-out worker writes.
 */
async function bench(writers, fenced = false) {
  const schema = `agentd_bench_${randomBytes(4).toString("hex")}`;
  let start = process.hrtime.bigint();
  const store = await PostgresStore.open({ databaseUrl, schema });
  const openMs = ms(start);
  try {
    const ws = await store.ensureWorkspace("bench");

    // 1. DESIGN.md's shape: runs interleaved, 50 events per commit, lastSeq patched each time.
    const ids = Array.from({ length: RUNS }, (_, i) => `run_${i}`);
    for (const id of ids) await store.insertRun(run(ws.id, id));
    const fences = new Map();
    const lease = async (id) => {
      if (!fenced) return;
      const { lease } = await store.claimRun(id, "bench-worker", 60_000);
      fences.set(id, [{ runId: id, workerId: lease.workerId, epoch: lease.epoch }]);
    };
    const fence = (id) => (fenced ? { fences: fences.get(id) } : {});
    for (const id of ids) await lease(id);
    start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const mine = ids.filter((_, i) => i % writers === writer);
        for (let from = 1; from <= EVENTS_PER_RUN; from += BATCH) {
          for (const id of mine) {
            const events = Array.from({ length: BATCH }, (_, i) => event(id, from + i));
            await store.commit({ events, runs: [{ runId: id, patch: { lastSeq: from + BATCH - 1 } }], sessions: [], ...fence(id) });
          }
        }
      }),
    );
    const logMs = ms(start);
    const label = fenced ? " (fenced)" : "";
    if (writers > 1)
      return console.log(
        `${writers} writers${label}: ${RUNS}x${EVENTS_PER_RUN} events, ${BATCH}/commit: ${rate(RUNS * EVENTS_PER_RUN, logMs)} events/s (${logMs.toFixed(0)} ms)`,
      );

    // 2. Latency of one group commit: 100 events + run patches (status, usage, checkpoint) + lastSeq.
    const latencies = [];
    for (let i = 0; i < 200; i++) {
      const id = `run_lat_${i}`;
      await store.insertRun(run(ws.id, id));
      await lease(id);
      const events = Array.from({ length: 100 }, (_, j) => event(id, j + 1));
      const begin = process.hrtime.bigint();
      await store.commit({
        events,
        runs: [
          { runId: id, patch: { lastSeq: 100, usage, checkpoint } },
          { runId: id, patch: { status: "completed", text: "done" } },
        ],
        sessions: [],
        ...fence(id),
      });
      latencies.push(ms(begin));
    }
    latencies.sort((a, b) => a - b);

    // 3. Whole short runs: insert, one commit of 25 events, terminal patch.
    const SHORT = 2000;
    start = process.hrtime.bigint();
    for (let i = 0; i < SHORT; i++) {
      const id = `run_short_${i}`;
      await store.insertRun(run(ws.id, id));
      await lease(id);
      const events = Array.from({ length: 25 }, (_, j) => event(id, j + 1));
      await store.commit({
        events,
        runs: [{ runId: id, patch: { lastSeq: 25, status: "completed", endedAt: new Date().toISOString() } }],
        sessions: [],
        ...fence(id),
      });
    }
    const shortMs = ms(start);
    console.log(
      `1 writer${label}: open+migrate ${openMs.toFixed(1)} ms | ${RUNS}x${EVENTS_PER_RUN} events, ${BATCH}/commit: ${rate(RUNS * EVENTS_PER_RUN, logMs)} events/s ` +
        `(${logMs.toFixed(0)} ms) | commit(100 events + patches) p50 ${(latencies[100] * 1000).toFixed(0)} us, ` +
        `p99 ${(latencies[198] * 1000).toFixed(0)} us | ${SHORT} runs x 25 events: ${rate(SHORT, shortMs)} runs/s`,
    );
  } finally {
    await store.close();
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

await bench(1);
await bench(8);
await bench(1, true);
await bench(8, true);
console.log(
  `RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB, node ${process.version}, PostgreSQL at ${new URL(databaseUrl).host}`,
);
