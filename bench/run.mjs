// `npm run bench`: agentd on its embedded store against a zero-latency fake
// OpenAI-compatible provider, each in its own process. Prints the figures of
// issue #2: latency over the direct provider call, throughput at c=50, server
// CPU per run, time to first delta, RSS.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { postJson, readUntil } from "./http.mjs";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const CONCURRENT_RUNS = Number(process.env.BENCH_RUNS ?? 6000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const script = fileURLToPath(new URL("./processes.mjs", import.meta.url));

function start(role, ...args) {
  const execArgv = role === "agentd" && process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(script, [role, ...args], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, ...message }));
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

const ask = (child) => new Promise((resolve) => { child.once("message", resolve); child.send("stats"); });
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (value) => `${value.toFixed(2)} ms`;

const provider = await start("provider");
const agentd = await start("agentd", JSON.stringify(provider));
const headers = { authorization: `Bearer ${agentd.key}` };
const runsUrl = `${agentd.url}/api/v1/workspaces/bench/agent-runs`;
const isTerminal = (text) => text.includes("event: result\n") || text.includes("event: cancelled\n");

async function oneRun(modelId, onFirstDelta) {
  const { streamUrl } = await postJson(runsUrl, { systemPrompt: "You are a benchmark.", modelId, prompt: "go" }, headers);
  const text = await readUntil(`${agentd.url}${streamUrl}`, "GET", undefined, headers, isTerminal, onFirstDelta);
  if (!text.includes('"subtype":"success"')) throw new Error(`run did not succeed: ${text.slice(-300)}`);
}

async function directCall() {
  const body = { model: "fake-20", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "go" }] };
  await readUntil(provider.direct, "POST", body, { authorization: "Bearer bench" }, (text) => text.includes("[DONE]"));
}

async function timeSequential(label, fn, count) {
  for (let i = 0; i < 50; i++) await fn(); // warm-up
  const samples = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { label, p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const direct = await timeSequential("direct", directCall, SEQUENTIAL);
const viaAgentd = await timeSequential("agentd", () => oneRun("provider:fake:fake-20"), SEQUENTIAL);

// throughput at concurrency 50, with the server's CPU time over the same window
const before = await ask(agentd.child);
let next = 0;
let failures = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < CONCURRENT_RUNS) {
      next++;
      await oneRun(process.env.BENCH_MODEL ?? "provider:fake:fake-20").catch(() => failures++);
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
const after = await ask(agentd.child);
const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;

// time to first delta on a 200-token stream
const ttfd = [];
for (let i = 0; i < 200; i++) {
  const begin = performance.now();
  let first;
  await oneRun("provider:fake200:fake-200", (text) => {
    if (first === undefined && text.includes("event: assistant_delta")) first = performance.now() - begin;
  });
  ttfd.push(first);
}
ttfd.sort((a, b) => a - b);
const final = await ask(agentd.child);

console.log(`agentd benchmark — embedded store (SQLite WAL), fake OpenAI-compatible provider with 0 latency, node ${process.version}`);
console.log(`one-shot run, 1 model call of 20 tokens, ${SEQUENTIAL} sequential runs:`);
console.log(`  direct call to the provider      p50 ${ms(direct.p50)}  p99 ${ms(direct.p99)}`);
console.log(`  POST → terminal event via agentd p50 ${ms(viaAgentd.p50)}  p99 ${ms(viaAgentd.p99)}`);
console.log(`  agentd overhead                  p50 ${ms(viaAgentd.p50 - direct.p50)}  p99 ${ms(viaAgentd.p99 - direct.p99)}   (target p50 ≤ 2 ms)`);
console.log(`throughput at concurrency ${CONCURRENCY}: ${CONCURRENT_RUNS} runs in ${elapsed.toFixed(2)} s = ${(CONCURRENT_RUNS / elapsed).toFixed(0)} runs/s (target ≥ 2,000), ${failures} failed`);
console.log(`server CPU per run: ${(cpuMs / CONCURRENT_RUNS).toFixed(3)} ms (target ≤ 0.5 ms)`);
console.log(`time to first delta, 200-token stream: p50 ${ms(percentile(ttfd, 50))}  p99 ${ms(percentile(ttfd, 99))}`);
console.log(`server RSS after the load: ${(final.rss / 1024 / 1024).toFixed(0)} MB (target ≤ 150 MB)`);

agentd.child.send("exit");
provider.child.kill();
process.exit(failures > 0 ? 1 : 0);
