// `node bench/pg-scaling.mjs` (after `npm run build`; or `npm run bench:pg-scaling`):
// the numbers behind docs/scaling.md (issue #4), against the PostgreSQL of
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). It works in
// throwaway schemas (agentd_pgscale_<random>_*), dropped at the end, and
// prints four tables:
//
// 1. Append: events/s and commit p50/p99 for 1, 2, 4, 8 concurrent writers.
//    A writer is one PostgresStore (its own connection) committing fenced
//    group commits through the real commit path, one at a time, as one
//    agentd worker's EventLog does (events/log.ts: one flush in flight).
// 2. Replay: events/s of a stream catch-up (Store.readEvents from a cursor,
//    pages of 500, as http/sse/catch-up.ts reads), alone and under the writers.
// 3. Partitioning: agentd's run_events as created, against the same table
//    declared PARTITION BY RANGE (run_id) with one partition per day (run ids
//    start with their creation time in base 36, so a run-id range is a time
//    range and the primary key (run_id, seq) stays as it is); append events/s
//    at ~1.4M rows, replay reads, and retention: DELETE of the oldest day's
//    rows (+ VACUUM) against DETACH ... CONCURRENTLY / DROP of its partition.
// 4. Connections: what one agentd process opens, and what a new one costs.
//
// Per phase it also prints the CPU used by PostgreSQL (its processes and this
// bench's backends, told apart by application_name), by this process and by
// everything else (from /proc), PostgreSQL CPU and WAL bytes per event. A
// phase in which other processes used more than 15% of a core is marked "!"
// and measured again after waiting for quiet, within BENCH_RETRY_SECONDS
// (60): on a shared machine its figures would be low. About 2.5 minutes on a
// quiet 2-vCPU machine.
//
// Sizes: BENCH_PHASE_SECONDS (4), BENCH_DAYS (7), BENCH_RUNS_PER_DAY (2000),
// BENCH_EVENTS_PER_RUN (100): the partitioning section loads days x runs x
// events rows (1.4M) into each of its two tables. BENCH_SECTIONS=1,2,3,4.
import { readFileSync, readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import os from "node:os";
import pg from "pg";

const dist = (path) => new URL(`../packages/server/dist/${path}`, import.meta.url).href;
const { openStore } = await import(dist("store/open.js"));
const { newId, randomBase62 } = await import(dist("ids.js"));

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const PHASE_S = Number(process.env.BENCH_PHASE_SECONDS ?? 4);
const DAYS = Number(process.env.BENCH_DAYS ?? 7);
const RUNS_PER_DAY = Number(process.env.BENCH_RUNS_PER_DAY ?? 2000);
const EVENTS_PER_RUN = Number(process.env.BENCH_EVENTS_PER_RUN ?? 100);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "1,2,3,4").split(",").map(Number));
const WARMUP_MS = 500;
const PAGE = 500; // server.ts: stream.pageSize
const DAY_MS = 86_400_000;

const base = `agentd_pgscale_${randomBytes(3).toString("hex")}`;
const schemas = [];
const stores = [];
/** DATABASE_URL with this bench's application_name: its backends are told from others' by it. */
const ourUrl = (applicationName = base) => {
  const url = new URL(DATABASE_URL);
  url.searchParams.set("application_name", applicationName);
  return url.toString();
};
const admin = new pg.Client({ connectionString: ourUrl() });
await admin.connect();
const q = async (text, values) => (await admin.query(text, values)).rows;

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const int = (n) => Math.round(n).toLocaleString("en-US");
const f1 = (n) => n.toFixed(1);
const f2 = (n) => n.toFixed(2);
const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

function table(title, headers, rows) {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of cells.slice(1)) console.log(line(row));
}

/**
 * CPU ticks (1/100 s) by pid, each classed "pg" (PostgreSQL's own processes,
 * and the backends serving this bench: `mine`, found by application_name) or
 * "other" (any other user process, and backends serving someone else, such
 * as other tests on the same server); and the machine's busy/total ticks
 * (steal excluded: time the hypervisor gave to other VMs). This process is
 * measured by process.cpuUsage; kernel threads count only in the machine's.
 * Per pid, so a process that ends between two snapshots (an idle pooled
 * connection closed by its pool) is left out, not counted negative.
 */
function cpuTicks(mine) {
  const ticks = new Map();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      const used = Number(fields[11]) + Number(fields[12]); // utime, stime
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (cmdline === "") continue; // a kernel thread
      let kind = "other";
      if (stat.slice(stat.indexOf("(") + 1, close) === "postgres") {
        // "postgres: 15/main: <user> <database> <address> <state>" for a backend, "postgres: 15/main: walwriter" for the server's own.
        const words = cmdline.split(": ").slice(2).join(": ").split(/\s+/);
        const backend = words.length >= 3 && /[(\[]/.test(words[2]);
        kind = !backend || mine.has(Number(pid)) ? "pg" : "other";
      }
      ticks.set(pid, { used, kind });
    } catch {
      // the process ended meanwhile
    }
  }
  const [, ...all] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const machine = all.map(Number);
  const total = machine.slice(0, 7).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq
  const idle = machine[3] + machine[4];
  return { ticks, busy: total - idle, total };
}

async function snapshot() {
  const [{ lsn, pids }] = await q(
    "SELECT pg_current_wal_lsn()::text AS lsn, coalesce(array_agg(pid) FILTER (WHERE application_name = $1), '{}') AS pids FROM pg_stat_activity",
    [base],
  );
  return { ...cpuTicks(new Set(pids)), node: process.cpuUsage(), lsn, at: now() };
}

/** CPU seconds of the processes of `kind` (as classed at `b`) between two snapshots. */
const cpuOf = (a, b, kind) =>
  [...b.ticks].reduce((sum, [pid, { used, kind: k }]) => (k === kind ? sum + used - (a.ticks.get(pid)?.used ?? 0) : sum), 0) / 100;

async function usageBetween(a, b) {
  const seconds = (b.at - a.at) / 1000;
  const [{ bytes }] = await q("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes", [b.lsn, a.lsn]);
  const nodeMicros = b.node.user + b.node.system - a.node.user - a.node.system;
  return {
    seconds,
    pgCpu: cpuOf(a, b, "pg") / seconds, // cores
    otherCpu: cpuOf(a, b, "other") / seconds,
    nodeCpu: nodeMicros / 1e6 / seconds,
    machine: (b.busy - a.busy) / (b.total - a.total), // fraction of all cores
    walBytes: bytes,
  };
}

/** Starts `actors` looping (each `step()` returns how many events it wrote or read) until stop(). */
function startLoad(actors) {
  let stopped = false;
  let failure;
  const samples = [];
  const done = Promise.all(
    actors.map(async (actor) => {
      while (!stopped) {
        const t0 = now();
        try {
          const n = await actor.step();
          samples.push({ group: actor.group, t0, t1: now(), n });
        } catch (error) {
          failure ??= error;
          stopped = true;
        }
      }
    }),
  );
  return {
    samples,
    async stop() {
      stopped = true;
      await done;
      if (failure) throw failure;
      return samples;
    },
  };
}

/** Steps of `group` that started and ended inside [from, to]. */
function windowStats(samples, group, from, to) {
  const inside = samples.filter((s) => s.group === group && s.t0 >= from && s.t1 <= to);
  const latencies = inside.map((s) => s.t1 - s.t0).sort((a, b) => a - b);
  const count = inside.reduce((sum, s) => sum + s.n, 0);
  const seconds = (to - from) / 1000;
  return {
    count,
    ops: inside.length,
    perSecond: count / seconds,
    opsPerSecond: inside.length / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    max: latencies.at(-1) ?? NaN,
  };
}

/** Waits (up to `maxMs`) for other processes to leave the CPUs alone: busy under 15% over a second. */
async function waitQuiet(maxMs) {
  const until = now() + maxMs;
  while (now() < until) {
    const a = cpuTicks(new Set());
    await sleep(1000);
    const b = cpuTicks(new Set());
    if ((b.busy - a.busy) / Math.max(1, b.total - a.total) < 0.15) return;
  }
}
// Seconds this run may spend repeating phases that other processes disturbed.
let retryBudgetMs = Number(process.env.BENCH_RETRY_SECONDS ?? 60) * 1000;
let repeated = 0;

/**
 * Runs the actors: a warm-up, then a measured window of `seconds`. A window
 * in which other processes took more than NOISY of a core is measured again
 * (after waiting for quiet) while the retry budget lasts.
 */
async function phase(actors, seconds = PHASE_S) {
  for (;;) {
    const began = now();
    const result = await phaseOnce(actors, seconds);
    if (result.usage.otherCpu <= NOISY || retryBudgetMs <= 0) return result;
    await waitQuiet(Math.min(retryBudgetMs, 20_000));
    retryBudgetMs -= now() - began;
    repeated++;
  }
}

async function phaseOnce(actors, seconds) {
  const load = startLoad(actors);
  await sleep(WARMUP_MS);
  const before = await snapshot();
  await sleep(seconds * 1000);
  const after = await snapshot();
  await load.stop();
  const usage = await usageBetween(before, after);
  const stats = (group) => windowStats(load.samples, group, before.at, after.at);
  return { usage, stats };
}

// ---------------------------------------------------------------- records

const usage = { inputTokens: 12, outputTokens: 40, totalTokens: 52, costUsd: null };
const DELTA_TEXT = "some tokens of the answer, streamed a few words at a time";
// A model step's checkpoint: the conversation so far (~1 KB), written with the step's events.
const checkpoint = {
  messages: [
    { role: "user", content: "Summarise the incident report and list the follow-ups. ".repeat(6) },
    { role: "assistant", content: "The outage began when the primary ran out of connections; ".repeat(8) },
  ],
  toolTurns: 0,
  pending: [],
  pendingDeadline: null,
  inputStart: 0,
  attempt: 1,
};
const runRecord = (workspaceId, id, createdAt = new Date().toISOString()) => ({
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
  createdAt,
  startedAt: createdAt,
  endedAt: null,
});
const eventOf = (runId, seq) => ({
  runId,
  seq,
  type: "assistant_delta",
  data: JSON.stringify({ type: "assistant_delta", runId, seq, text: DELTA_TEXT }),
});

async function newSchema(suffix) {
  const schema = `${base}_${suffix}`;
  schemas.push(schema);
  return schema;
}

async function open(schema, poolSize = 1) {
  const store = await openStore({ databaseUrl: ourUrl(), schema, poolSize });
  stores.push(store);
  return store;
}

async function insertRuns(store, records) {
  for (let i = 0; i < records.length; i += 500) {
    await store.commit({ newRuns: records.slice(i, i + 500), events: [], runs: [], sessions: [] });
  }
}

/**
 * One writer: a store of its own (one connection) and a ring of leased runs;
 * each step is one fenced group commit of `shape.runs` runs x `shape.events`
 * events, a lastSeq patch per run, and (every `shape.checkpointEvery`
 * commits) a checkpoint + usage patch on the first run (a model step
 * ending), as EventLog.commitPending builds them.
 */
async function makeWriters(schema, count, tag) {
  const writers = [];
  for (let w = 0; w < count; w++) {
    const store = await open(schema, 1);
    const ws = await store.ensureWorkspace("bench");
    const workerId = `${tag}-writer-${w}`;
    const records = Array.from({ length: 100 }, () => runRecord(ws.id, newId("run")));
    await insertRuns(store, records);
    const ring = [];
    for (const record of records) {
      const { lease } = await store.claimRun(record.id, workerId, 3_600_000);
      ring.push({ id: record.id, seq: 0, epoch: lease.epoch });
    }
    let next = 0;
    let commits = 0;
    writers.push({
      store,
      actor: (shape) => ({
        group: "write",
        step: async () => {
          const events = [];
          const runs = [];
          const fences = [];
          const withCheckpoint = commits++ % shape.checkpointEvery === 0;
          for (let r = 0; r < shape.runs; r++) {
            const run = ring[next++ % ring.length];
            for (let e = 0; e < shape.events; e++) events.push(eventOf(run.id, ++run.seq));
            runs.push({ runId: run.id, patch: r === 0 && withCheckpoint ? { lastSeq: run.seq, checkpoint, usage } : { lastSeq: run.seq } });
            fences.push({ runId: run.id, workerId, epoch: run.epoch });
          }
          const result = await store.commit({ events, runs, sessions: [], fences });
          if (result.fenced.length > 0) throw new Error(`fenced: ${result.fenced}`);
          return events.length;
        },
      }),
    });
  }
  return writers;
}

/** A reader: a store of its own; each step is one stream catch-up of a run from seq 0, pages of 500. */
async function makeReaders(schema, count, runIds) {
  const readers = [];
  for (let r = 0; r < count; r++) {
    const store = await open(schema, 1);
    let turn = r * 7;
    readers.push({
      group: "read",
      step: async () => {
        const runId = runIds[turn++ % runIds.length];
        let cursor = 0;
        let read = 0;
        for (;;) {
          const page = await store.readEvents(runId, cursor, PAGE);
          read += page.length;
          if (page.length < PAGE) break;
          cursor = page[page.length - 1].seq;
        }
        return read;
      },
    });
  }
  return readers;
}

// checkpointEvery: one commit in n also ends a model step (checkpoint + usage patch on its first run).
const SHAPES = {
  small: { runs: 1, events: 2, checkpointEvery: 4, label: "1 run x 2 ev" },
  group: { runs: 5, events: 5, checkpointEvery: 1, label: "5 runs x 5 ev" },
  large: { runs: 20, events: 5, checkpointEvery: 1, label: "20 runs x 5 ev" },
};

const CORES = os.cpus().length;
/** Other processes using more than this (cores) during a phase make its figures low: the row is marked. */
const NOISY = 0.15;
/** `stats`: the window's figures of the group whose events the per-event columns divide by; `writes`: whether WAL per event means anything. */
const usageCells = (u, stats, writes = true) => [
  `${Math.round(u.pgCpu * 100)}%`,
  `${Math.round(u.nodeCpu * 100)}%`,
  `${Math.round(u.otherCpu * 100)}%${u.otherCpu > NOISY ? " !" : ""}`,
  `${Math.round(u.machine * 100)}%`,
  stats.count > 0 ? f1((u.pgCpu * 1e6) / stats.perSecond) : "-",
  writes && stats.count > 0 ? int(u.walBytes / stats.count) : "-",
];
const USAGE_HEADERS = ["PG CPU", "bench CPU", "other", "machine", "PG us/ev", "WAL B/ev"];

// ---------------------------------------------------------------- header

const [{ version }] = await q("SELECT split_part(version(), ' ', 2) AS version");
const settings = Object.fromEntries(
  (
    await q(
      "SELECT name, setting, unit FROM pg_settings WHERE name IN ('max_connections','superuser_reserved_connections','shared_buffers','synchronous_commit','wal_level','max_wal_size')",
    )
  ).map((row) => [row.name, row]),
);
const [{ others }] = await q(
  "SELECT count(*)::int AS others FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
);
const sharedMb = (Number(settings.shared_buffers.setting) * 8) / 1024;
console.log(
  `agentd PostgreSQL scaling benchmark — PostgreSQL ${version} at ${new URL(DATABASE_URL).host}, node ${process.version}, ` +
    `${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
);
console.log(
  `PostgreSQL settings: shared_buffers ${sharedMb} MB, synchronous_commit ${settings.synchronous_commit.setting}, ` +
    `max_connections ${settings.max_connections.setting}; other client connections at start: ${others}`,
);
console.log(
  `PG CPU / bench CPU / other: cores used by PostgreSQL (its own processes and this bench's backends) / by this process / by other processes ` +
    `(backends serving others included; "!": over ${NOISY * 100}% of a core, the row's figures are low) (100% = one core); ` +
    `machine: share of all ${os.cpus().length} cores busy; PG us/ev: PostgreSQL CPU per event written (read, in 2.); WAL B/ev: WAL bytes per event written`,
);

// Other processes on the machine skew every figure: wait (up to 60 s) for it to be quiet, and say what was found.
async function machineBusy(ms) {
  const a = cpuTicks(new Set());
  await sleep(ms);
  const b = cpuTicks(new Set());
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}
let idleBusy = await machineBusy(2000);
for (let waited = 0; idleBusy > 0.2 && waited < 60; waited += 5) idleBusy = await machineBusy(5000);
console.log(
  `machine busy before the bench: ${Math.round(idleBusy * 100)}%` +
    (idleBusy > 0.2 ? " — WARNING: other processes are using the CPUs, the figures below are low" : " (quiet)"),
);

const started = now();
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await Promise.allSettled(stores.map((store) => store.close()));
  for (const schema of schemas) await q(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await admin.end();
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`\n${signal}: dropping the bench schemas`);
    cleanup().finally(() => process.exit(130));
  });
}

try {
  // ---------------------------------------------------------------- 1. append
  let appendRows = [];
  let fourWriters;
  let writers1 = [];
  const schema1 = await newSchema("log");
  if (SECTIONS.has(1) || SECTIONS.has(2)) {
    const setup = await open(schema1, 1);
    await setup.ensureWorkspace("bench");
    writers1 = await makeWriters(schema1, 8, "s1");
  }
  if (SECTIONS.has(1)) {
    for (const [shapeName, counts] of [
      ["small", [1, 2, 4, 8]],
      ["group", [1, 2, 4, 8]],
      ["large", [1, 4]],
    ]) {
      const shape = SHAPES[shapeName];
      for (const count of counts) {
        const { usage: u, stats } = await phase(writers1.slice(0, count).map((w) => w.actor(shape)));
        const s = stats("write");
        if (shapeName === "group" && count === 4) fourWriters = s;
        appendRows.push([shape.label, String(count), int(s.perSecond), int(s.opsPerSecond), f2(s.p50), f2(s.p99), ...usageCells(u, s)]);
      }
    }
    table(
      "1. Append: fenced group commits through PostgresStore.commit; one writer = one store/connection, one commit in flight (= one agentd worker)",
      ["commit shape", "writers", "events/s", "commits/s", "p50 ms", "p99 ms", ...USAGE_HEADERS],
      appendRows,
    );
  }

  // ---------------------------------------------------------------- 2. replay
  if (SECTIONS.has(2)) {
    const store = await open(schema1, 1);
    const ws = await store.ensureWorkspace("bench");
    const RUNS = 40;
    const EVENTS = 2000;
    const records = Array.from({ length: RUNS }, () => runRecord(ws.id, newId("run")));
    await insertRuns(store, records);
    for (const record of records) {
      for (let from = 1; from <= EVENTS; from += 500) {
        const events = Array.from({ length: 500 }, (_, i) => eventOf(record.id, from + i));
        await store.commit({ events, runs: [{ runId: record.id, patch: { lastSeq: from + 499 } }], sessions: [] });
      }
    }
    const runIds = records.map((r) => r.id);
    const readers = await makeReaders(schema1, 4, runIds);
    if (!fourWriters) fourWriters = (await phase(writers1.slice(0, 4).map((w) => w.actor(SHAPES.group)))).stats("write");
    const rows = [];
    const row = (label, u, r, w) => [
      label,
      int(r.perSecond),
      f2(r.p50),
      f2(r.p99),
      w ? int(w.perSecond) : "-",
      w ? `${f2(w.p50)} / ${f2(w.p99)}` : "-",
      ...usageCells(u, r, false).slice(0, 5),
    ];
    for (const count of [1, 4]) {
      const { usage: u, stats } = await phase(readers.slice(0, count));
      rows.push(row(`${count} reader${count > 1 ? "s" : ""} alone`, u, stats("read")));
    }
    rows.push([
      "4 writers alone (from 1.)",
      "-",
      "-",
      "-",
      int(fourWriters.perSecond),
      `${f2(fourWriters.p50)} / ${f2(fourWriters.p99)}`,
      "",
      "",
      "",
      "",
      "",
    ]);
    for (const count of [1, 4]) {
      const { usage: u, stats } = await phase([...writers1.slice(0, 4).map((w) => w.actor(SHAPES.group)), ...readers.slice(0, count)]);
      rows.push(row(`4 writers + ${count} reader${count > 1 ? "s" : ""}`, u, stats("read"), stats("write")));
    }
    table(
      `2. Replay: stream catch-up of a ${int(EVENTS)}-event run from seq 0 (Store.readEvents, pages of ${PAGE}); writers as in 1. (5 runs x 5 ev)`,
      [
        "load",
        "read ev/s",
        "catch-up p50 ms",
        "p99 ms",
        "write ev/s",
        "commit p50 / p99 ms",
        ...USAGE_HEADERS.slice(0, 4),
        "PG us/read ev",
      ],
      rows,
    );
  }

  // ---------------------------------------------------------------- 3. partitioning
  if (SECTIONS.has(3)) {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const dayStart = (offset) => today + offset * DAY_MS;
    const bound = (ms) => `run_${ms.toString(36)}`; // ids are run_<base36 ms><12 random>: a prefix compares as the time
    const dayName = (ms) => new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");

    const plain = await newSchema("plain");
    const part = await newSchema("part");

    // The finding: a time column as partition key cannot keep (run_id, seq) unique.
    await q(`CREATE SCHEMA IF NOT EXISTS ${plain}`);
    let refusal = "";
    try {
      await q(
        `CREATE TABLE ${plain}.probe (run_id text, seq integer, created_at timestamptz, PRIMARY KEY (run_id, seq)) PARTITION BY RANGE (created_at)`,
      );
      await q(`DROP TABLE ${plain}.probe`);
      refusal = "accepted (unexpected)";
    } catch (error) {
      refusal = `refused: "${error.message}"`;
    }
    console.log(`\n3. Partitioning. PRIMARY KEY (run_id, seq) on a table PARTITION BY RANGE (created_at): ${refusal}`);
    const loadRows = [];
    const layouts = [];
    for (const [schema, partitioned] of [
      [plain, false],
      [part, true],
    ]) {
      const store = await open(schema, 1);
      const ws = await store.ensureWorkspace("bench");
      if (partitioned) {
        // The same table (LIKE: columns, NOT NULL, defaults), declared partitioned by run_id, one partition per day.
        await q(`CREATE TABLE ${schema}.run_events_p (LIKE ${schema}.run_events INCLUDING ALL) PARTITION BY RANGE (run_id)`);
        await q(`ALTER TABLE ${schema}.run_events_p ADD FOREIGN KEY (run_id) REFERENCES ${schema}.runs(id) ON DELETE CASCADE`);
        await q(`DROP TABLE ${schema}.run_events`);
        await q(`ALTER TABLE ${schema}.run_events_p RENAME TO run_events`);
        for (let d = -DAYS; d <= 2; d++) {
          await q(
            `CREATE TABLE ${schema}.run_events_${dayName(dayStart(d))} PARTITION OF ${schema}.run_events FOR VALUES FROM ('${bound(dayStart(d))}') TO ('${bound(dayStart(d + 1))}')`,
          );
        }
      }
      // DAYS days of history: RUNS_PER_DAY runs a day, EVENTS_PER_RUN events each.
      let begin = now();
      const records = [];
      for (let d = -DAYS; d < 0; d++) {
        for (let i = 0; i < RUNS_PER_DAY; i++) {
          const ms = dayStart(d) + Math.floor((i * DAY_MS) / RUNS_PER_DAY);
          records.push({
            ...runRecord(ws.id, `run_${ms.toString(36)}${randomBase62(12)}`, new Date(ms).toISOString()),
            status: "completed",
            lastSeq: EVENTS_PER_RUN,
          });
        }
      }
      await insertRuns(store, records);
      const runsMs = now() - begin;
      begin = now();
      const loader = new pg.Client({ connectionString: ourUrl() });
      await loader.connect();
      try {
        // Bulk load without the per-row foreign-key trigger (superuser only; the rows are valid by construction).
        await loader.query("SET session_replication_role = replica").catch(() => undefined);
        await loader.query(
          `INSERT INTO ${schema}.run_events (run_id, seq, type, data)
           SELECT r.id, g, 'assistant_delta', '{"type":"assistant_delta","runId":"' || r.id || '","seq":' || g || ',"text":"${DELTA_TEXT}"}'
           FROM ${schema}.runs r CROSS JOIN generate_series(1, ${EVENTS_PER_RUN}) AS g
           WHERE r.id < $1`,
          [bound(today)],
        );
        await loader.query(`VACUUM ANALYZE ${schema}.run_events`);
        await loader.query(`ANALYZE ${schema}.runs`);
      } finally {
        await loader.end();
      }
      const eventsMs = now() - begin;
      const [size] = await q(
        partitioned
          ? `SELECT sum(pg_table_size(c.oid))::float8 AS heap, sum(pg_indexes_size(c.oid))::float8 AS idx, count(*)::int AS parts
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${schema}.run_events'::regclass`
          : `SELECT pg_table_size('${schema}.run_events')::float8 AS heap, pg_indexes_size('${schema}.run_events')::float8 AS idx, 0 AS parts`,
      );
      const rowsLoaded = records.length * EVENTS_PER_RUN;
      loadRows.push([
        partitioned ? `partitioned by day (${size.parts} partitions)` : "plain (as agentd creates it)",
        int(rowsLoaded),
        `${int(size.heap / 2 ** 20)} MB`,
        `${int(size.idx / 2 ** 20)} MB`,
        `${f1(runsMs / 1000)} s + ${f1(eventsMs / 1000)} s`,
      ]);
      layouts.push({ schema, partitioned, oldRuns: records.map((r) => r.id) });
    }
    table("3a. The two tables after loading the history", ["layout", "events", "heap", "indexes", "load (runs + events)"], loadRows);

    // Append and replay on each.
    const perfRows = [];
    for (const layout of layouts) {
      const writers = await makeWriters(layout.schema, 4, layout.partitioned ? "part" : "plain");
      layout.writers = writers;
      const label = layout.partitioned ? "partitioned" : "plain";
      for (const count of [1, 4]) {
        const { usage: u, stats } = await phase(writers.slice(0, count).map((w) => w.actor(SHAPES.group)));
        const s = stats("write");
        perfRows.push([
          `${label}: append, ${count} writer${count > 1 ? "s" : ""}`,
          int(s.perSecond),
          f2(s.p50),
          f2(s.p99),
          ...usageCells(u, s),
        ]);
      }
      // Replay of finished runs of the history (100 events: one page), random days.
      const sample = Array.from({ length: 2000 }, () => layout.oldRuns[Math.floor(Math.random() * layout.oldRuns.length)]);
      const [reader] = await makeReaders(layout.schema, 1, sample);
      const { usage: u, stats } = await phase([reader]);
      const s = stats("read");
      perfRows.push([`${label}: replay, 1 reader`, int(s.perSecond), f2(s.p50), f2(s.p99), ...usageCells(u, s, false)]);
    }
    table(
      `3b. At ${int(DAYS * RUNS_PER_DAY * EVENTS_PER_RUN)} rows: append (5 runs x 5 ev, into today) and replay (a random old run, ${EVENTS_PER_RUN} events)`,
      ["table: workload", "events/s", "p50 ms", "p99 ms", ...USAGE_HEADERS],
      perfRows,
    );

    // Retention under load: 2 writers append into today while the oldest day goes.
    const retentionRows = [];
    const retention = async (layout, label, operation) => {
      const load = startLoad(layout.writers.slice(0, 2).map((w) => w.actor(SHAPES.group)));
      await sleep(1000);
      const baseFrom = now();
      await sleep(1000);
      const opStart = now();
      const result = await operation();
      const opEnd = now();
      await sleep(500);
      const samples = await load.stop();
      const baseline = windowStats(samples, "write", baseFrom, opStart);
      const during = samples.filter((s) => s.group === "write" && s.t1 >= opStart && s.t0 <= opEnd);
      const worst = Math.max(0, ...during.map((s) => s.t1 - s.t0));
      retentionRows.push([label, ...result, `${f2(baseline.p99)} / ${f2(worst)}`]);
    };
    const [plainLayout, partLayout] = layouts;
    const lo = bound(dayStart(-DAYS));
    const hi = bound(dayStart(-DAYS + 1));
    const sizeOf = async (relation) => (await q(`SELECT pg_total_relation_size($1::regclass)::float8 AS bytes`, [relation]))[0].bytes;
    // A partitioned table's own size is 0: sum its partitions.
    const partsSize = async () =>
      (
        await q(
          `SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::float8 AS bytes FROM pg_inherits WHERE inhparent = '${partLayout.schema}.run_events'::regclass`,
        )
      )[0].bytes;
    const mb = (bytes) => `${int(bytes / 2 ** 20)} MB`;
    await retention(plainLayout, "plain: DELETE oldest day's events", async () => {
      const sizeBefore = await sizeOf(`${plainLayout.schema}.run_events`);
      const begin = now();
      const { rowCount } = await admin.query(`DELETE FROM ${plainLayout.schema}.run_events WHERE run_id >= $1 AND run_id < $2`, [lo, hi]);
      const deleteMs = now() - begin;
      const vacuumBegin = now();
      await admin.query(`VACUUM ${plainLayout.schema}.run_events`);
      const vacuumMs = now() - vacuumBegin;
      return [
        int(rowCount),
        `${int(deleteMs)} ms + VACUUM ${int(vacuumMs)} ms`,
        `${mb(sizeBefore)} -> ${mb(await sizeOf(`${plainLayout.schema}.run_events`))}`,
      ];
    });
    const oldest = `${partLayout.schema}.run_events_${dayName(dayStart(-DAYS))}`;
    await retention(partLayout, "partitioned: DETACH CONCURRENTLY + DROP", async () => {
      const [{ count }] = await q(`SELECT count(*)::int AS count FROM ${oldest}`);
      const size = await partsSize();
      const begin = now();
      await admin.query(`ALTER TABLE ${partLayout.schema}.run_events DETACH PARTITION ${oldest} CONCURRENTLY`);
      const detachMs = now() - begin;
      const dropBegin = now();
      await admin.query(`DROP TABLE ${oldest}`);
      const dropMs = now() - dropBegin;
      return [int(count), `${f1(detachMs)} ms + ${f1(dropMs)} ms`, `${mb(size)} -> ${mb(await partsSize())}`];
    });
    const second = `${partLayout.schema}.run_events_${dayName(dayStart(-DAYS + 1))}`;
    await retention(partLayout, "partitioned: DROP TABLE (next day)", async () => {
      const [{ count }] = await q(`SELECT count(*)::int AS count FROM ${second}`);
      const size = await partsSize();
      const begin = now();
      await admin.query(`DROP TABLE ${second}`);
      const dropMs = now() - begin;
      return [int(count), `${f1(dropMs)} ms`, `${mb(size)} -> ${mb(await partsSize())}`];
    });
    // What remains in either layout: the runs rows of that day (one per run).
    const runsBegin = now();
    const { rowCount: runsDeleted } = await admin.query(`DELETE FROM ${partLayout.schema}.runs WHERE id >= $1 AND id < $2`, [lo, hi]);
    retentionRows.push(["either: DELETE that day's runs rows", int(runsDeleted), `${int(now() - runsBegin)} ms`, "-", "(no load)"]);
    table(
      "3c. Retention of the oldest day while 2 writers append into today",
      ["operation", "rows", "time", "events table on disk", "writers' commit p99 before / worst during, ms"],
      retentionRows,
    );
  }

  // ---------------------------------------------------------------- 4. connections
  if (SECTIONS.has(4)) {
    const schema4 = SECTIONS.has(1) || SECTIONS.has(2) ? schema1 : await newSchema("conn");
    const tag = `${base}_conn`;
    const store = await openStore({ databaseUrl: ourUrl(tag), schema: schema4 }); // default poolSize, as `agentd serve` opens it (server.ts passes none)
    stores.push(store);
    const ws = await store.ensureWorkspace("bench");
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? store.readEvents(`run_none_${i}`, 0, PAGE) : store.getRun(ws.id, `run_none_${i}`))),
    );
    const [{ held }] = await q("SELECT count(*)::int AS held FROM pg_stat_activity WHERE application_name = $1", [tag]);
    const connectMs = [];
    for (let i = 0; i < 20; i++) {
      const begin = now();
      const client = new pg.Client({ connectionString: ourUrl() });
      await client.connect();
      await client.query("SELECT 1");
      connectMs.push(now() - begin);
      await client.end();
    }
    connectMs.sort((a, b) => a - b);
    const max = Number(settings.max_connections.setting);
    const reserved = Number(settings.superuser_reserved_connections.setting);
    table(
      "4. Connections",
      ["what", "measured"],
      [
        ["connections one PostgresStore holds after a burst of 200 concurrent reads (default pool)", String(held)],
        ["new connection + first query (loopback, trust auth), p50 / max", `${f2(pct(connectMs, 50))} / ${f2(connectMs.at(-1))} ms`],
        [`max_connections - superuser_reserved_connections`, `${max} - ${reserved} = ${max - reserved}`],
        [`agentd workers that fit at ${held} connections each`, String(Math.floor((max - reserved) / held))],
      ],
    );
  }
  console.log(
    `\ntotal ${f1((now() - started) / 1000)} s; ${repeated} phase(s) repeated because other processes used the CPUs; RSS ${int(process.memoryUsage().rss / 2 ** 20)} MB`,
  );
} finally {
  await cleanup();
}
