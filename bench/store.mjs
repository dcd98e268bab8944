// Micro-benchmark of the embedded store (DESIGN.md, Runtime: 100 runs x 200
// events, 50 per transaction). Run after `npm run build`:
//   node bench/store.mjs
// AGENTD_STORE_MODULE points at another build of store/sqlite/index.js.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modulePath = process.env.AGENTD_STORE_MODULE
  ? pathToFileURL(process.env.AGENTD_STORE_MODULE).href
  : new URL("../packages/server/dist/store/sqlite/index.js", import.meta.url).href;
const { SqliteStore } = await import(modulePath);

const RUNS = 100;
const EVENTS_PER_RUN = 200;
const BATCH = 50;

const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null };
const checkpoint = { messages: [{ role: "user", content: "hi" }], toolTurns: 0, pending: [], pendingDeadline: null, inputStart: 0, attempt: 1 };
const run = (workspaceId, id) => ({
  id, workspaceId, sessionId: null, agentId: null, modelId: "mock:echo", status: "running",
  agentSpec: { systemPrompt: "You are terse." }, metadata: {}, checkpoint, text: null, subtype: null, error: null,
  usage, lastSeq: 0, createdAt: new Date().toISOString(), startedAt: null, endedAt: null,
});
const event = (runId, seq) => ({
  runId, seq, type: "assistant_delta",
  data: JSON.stringify({ type: "assistant_delta", runId, seq, text: "some tokens of the answer " }),
});
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const rate = (count, millis) => Math.round((count / millis) * 1000).toLocaleString("en-US");

async function bench(label, file) {
  let start = process.hrtime.bigint();
  const store = new SqliteStore(file);
  const openMs = ms(start);
  const ws = await store.ensureWorkspace("bench");

  // 1. DESIGN.md's shape: runs interleaved, 50 events per commit, lastSeq patched each time.
  const ids = Array.from({ length: RUNS }, (_, i) => `run_${label}_${i}`);
  for (const id of ids) await store.insertRun(run(ws.id, id));
  start = process.hrtime.bigint();
  for (let from = 1; from <= EVENTS_PER_RUN; from += BATCH) {
    for (const id of ids) {
      const events = Array.from({ length: BATCH }, (_, i) => event(id, from + i));
      await store.commit({ events, runs: [{ runId: id, patch: { lastSeq: from + BATCH - 1 } }], sessions: [] });
    }
  }
  const logMs = ms(start);

  // 2. Latency of one group commit: 100 events + run patches (status, usage, checkpoint) + lastSeq.
  const latencies = [];
  for (let i = 0; i < 200; i++) {
    const id = `run_${label}_lat_${i}`;
    await store.insertRun(run(ws.id, id));
    const events = Array.from({ length: 100 }, (_, j) => event(id, j + 1));
    const begin = process.hrtime.bigint();
    await store.commit({ events, runs: [{ runId: id, patch: { lastSeq: 100, usage, checkpoint } }, { runId: id, patch: { status: "completed", text: "done" } }], sessions: [] });
    latencies.push(ms(begin));
  }
  latencies.sort((a, b) => a - b);

  // 3. Whole short runs: insert, one commit of 25 events, terminal patch.
  const SHORT = 5000;
  start = process.hrtime.bigint();
  for (let i = 0; i < SHORT; i++) {
    const id = `run_${label}_short_${i}`;
    await store.insertRun(run(ws.id, id));
    const events = Array.from({ length: 25 }, (_, j) => event(id, j + 1));
    await store.commit({ events, runs: [{ runId: id, patch: { lastSeq: 25, status: "completed", endedAt: new Date().toISOString() } }], sessions: [] });
  }
  const shortMs = ms(start);
  await store.close();

  const total = RUNS * EVENTS_PER_RUN;
  console.log(
    `${label.padEnd(6)} open ${openMs.toFixed(1)} ms | ${RUNS}x${EVENTS_PER_RUN} events, ${BATCH}/commit: ${rate(total, logMs)} events/s ` +
      `(${logMs.toFixed(0)} ms) | commit(100 events + patches) p50 ${(latencies[100] * 1000).toFixed(0)} us, ` +
      `p99 ${(latencies[198] * 1000).toFixed(0)} us | ${SHORT} runs x 25 events: ${rate(SHORT, shortMs)} runs/s`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "agentd-bench-"));
try {
  await bench("file", join(dir, "agentd.db"));
  await bench("memory", ":memory:");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB, node ${process.version}`);
