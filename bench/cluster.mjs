// `node bench/cluster.mjs` (after npm run build): agentd workers on PostgreSQL +
// Redis (DATABASE_URL, REDIS_URL; defaults: the local services), 1, 2 and 4
// of them, against the zero-latency fake provider; the load generator spreads
// requests over the workers like a load balancer. Prints, per worker count:
// runs/s at c=50, p50/p99 of POST → terminal event, CPU per run (all workers),
// events persisted per second.
import { fork } from "node:child_process";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { postJson, readUntil } from "./http.mjs";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const RUNS = Number(process.env.BENCH_RUNS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const COUNTS = (process.env.BENCH_WORKERS ?? "1,2,4").split(",").map(Number);
const script = fileURLToPath(new URL("./processes.mjs", import.meta.url));

// BENCH_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

function start(...args) {
  const execArgv = args[0] === "worker" ? profile : [];
  const child = fork(script, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, ...message }));
    child.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}
const ask = (child) => new Promise((resolve) => { child.once("message", resolve); child.send("stats"); });
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const isTerminal = (text) => text.includes("event: result\n") || text.includes("event: cancelled\n");

const db = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
const redisUp = await new Promise((resolve) => {
  const socket = net.connect({ host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) });
  socket.setTimeout(3_000, () => socket.destroy(new Error("timeout")));
  socket.once("connect", () => socket.end(() => resolve(true)));
  socket.once("error", () => resolve(false));
});
const pgUp = await db.connect().then(() => true, () => false);
if (!pgUp || !redisUp) {
  // `npm run bench` runs this after the embedded benchmark: a machine without the services still gets that one.
  console.log(`agentd cluster benchmark SKIPPED: PostgreSQL at ${new URL(DATABASE_URL).host} ${pgUp ? "up" : "unreachable"}, Redis at ${new URL(REDIS_URL).host} ${redisUp ? "up" : "unreachable"} (set DATABASE_URL / REDIS_URL)`);
  process.exit(0);
}
const provider = await start("provider");
console.log(`agentd cluster benchmark — PostgreSQL (${new URL(DATABASE_URL).host}) + Redis, fake provider with 0 latency, node ${process.version}, ${RUNS} runs at c=${CONCURRENCY}`);
for (const count of COUNTS) {
  const schema = `agentd_bench_${randomBytes(4).toString("hex")}`;
  const prefix = `agentd-bench-${randomBytes(4).toString("hex")}:`;
  const env = (i) => JSON.stringify({ DATABASE_URL, AGENTD_DB_SCHEMA: schema, REDIS_URL, AGENTD_REDIS_PREFIX: prefix, AGENTD_WORKER_ID: `bench-${i}` });
  const workers = [await start("worker", JSON.stringify(provider), env(0), "with-key")];
  for (let i = 1; i < count; i++) workers.push(await start("worker", JSON.stringify(provider), env(i)));
  const key = workers[0].key;
  const headers = { authorization: `Bearer ${key}` };
  let turn = 0;
  const oneRun = async () => {
    const worker = workers[turn++ % workers.length];
    const { streamUrl } = await postJson(`${worker.url}/api/v1/workspaces/bench/agent-runs`, { systemPrompt: "b", prompt: "go" }, headers);
    const reader = workers[turn++ % workers.length]; // the stream may land on another worker
    const text = await readUntil(`${reader.url}${streamUrl}`, "GET", undefined, headers, isTerminal);
    if (!text.includes('"subtype":"success"')) throw new Error(`run did not succeed: ${text.slice(-200)}`);
  };
  for (let i = 0; i < 100; i++) await oneRun();
  const samples = [];
  for (let i = 0; i < 300; i++) {
    const begin = performance.now();
    await oneRun();
    samples.push(performance.now() - begin);
  }
  samples.sort((a, b) => a - b);
  const before = await Promise.all(workers.map((worker) => ask(worker.child)));
  const eventsBefore = Number((await db.query(`SELECT count(*) FROM ${schema}.run_events`)).rows[0].count);
  let next = 0;
  let failures = 0;
  const begin = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < RUNS) {
      next++;
      await oneRun().catch(() => failures++);
    }
  }));
  const seconds = (performance.now() - begin) / 1000;
  const after = await Promise.all(workers.map((worker) => ask(worker.child)));
  const eventsAfter = Number((await db.query(`SELECT count(*) FROM ${schema}.run_events`)).rows[0].count);
  const cpuMs = after.reduce((sum, stats, i) => sum + (stats.cpu.user + stats.cpu.system - before[i].cpu.user - before[i].cpu.system) / 1000, 0);
  console.log(
    `${count} worker${count > 1 ? "s" : " "}: ${(RUNS / seconds).toFixed(0)} runs/s, sequential p50 ${percentile(samples, 50).toFixed(2)} ms p99 ${percentile(samples, 99).toFixed(2)} ms, ` +
      `CPU ${(cpuMs / RUNS).toFixed(2)} ms/run (all workers), ${((eventsAfter - eventsBefore) / seconds).toFixed(0)} events/s persisted, ${failures} failed`,
  );
  await Promise.all(workers.map((worker) => new Promise((resolve) => { worker.child.once("exit", resolve); worker.child.send("exit"); })));
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
await db.end();
provider.child.kill();
process.exit(0);
