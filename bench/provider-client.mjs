// `npm run bench:providers` (= `npm run build && node bench/provider-client.mjs`):
// client CPU per streamed model call (20 tokens, one delta chunk each on the wire) of every provider
// type's adapter, each built by the server's own registry
// (createModelRegistry) exactly as a config's `providers` entry would be:
// `openai` and `openai-compatible` against the fake provider's Chat
// Completions route, `anthropic` against its Messages route. The fake
// provider runs in a child process so only the adapter's CPU is counted.
// Types alternate within each round, so a noisy machine hits them alike.
// BENCH_CALLS (per measurement), BENCH_CONCURRENCY, BENCH_ROUNDS and
// BENCH_TYPES (comma list) change the sizes; AGENTD_DIST points at another
// build of packages/server.
import { fork } from "node:child_process";
import os from "node:os";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = pathToFileURL(resolve(process.env.AGENTD_DIST ?? fileURLToPath(new URL("../packages/server/dist", import.meta.url)))).href;

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = 300;
const TYPES = (process.env.BENCH_TYPES ?? "openai,anthropic,openai-compatible").split(",").map((type) => type.trim()).filter(Boolean);

if (process.argv[2] === "provider") {
  const { startFakeProvider } = await import(`${dist}/testing/index.js`);
  const fake = await startFakeProvider({ tokens: 20, record: false });
  process.send({ openaiBaseUrl: fake.openaiBaseUrl, anthropicBaseUrl: fake.anthropicBaseUrl });
} else {
  const cpus = os.cpus();
  console.log(
    `machine: node ${process.version}, ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${os.platform()} ${os.arch()}, load average ${os.loadavg()[0].toFixed(2)} at start`,
  );
  console.log(
    `provider adapters as built by createModelRegistry, against the fake provider (0 latency, own process): client CPU (process.cpuUsage) per streamed call of 20 tokens (20 delta chunks on the wire), ` +
    `${CALLS} calls sequential and ${CALLS} at c=${CONCURRENCY} per type per round, after ${WARMUP} warm-up calls`,
  );
  const child = fork(fileURLToPath(import.meta.url), ["provider"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const urls = await new Promise((ready) => child.once("message", ready));
  const { createModelRegistry } = await import(`${dist}/models/registry.js`);
  const baseUrl = (type) => (type === "anthropic" ? urls.anthropicBaseUrl : urls.openaiBaseUrl);
  const registry = createModelRegistry({
    providers: TYPES.map((type) => ({ name: type, type, apiKey: "bench", baseUrl: baseUrl(type), models: [{ id: "fake-20" }] })),
  }, {});
  const request = () => ({ system: "You are a benchmark.", messages: [{ role: "user", content: "go" }], tools: [], params: {}, signal: new AbortController().signal });
  // An adapter may join deltas that arrived in one read into one part: the text is what must come through whole.
  const expected = Array.from({ length: 20 }, (_, index) => `tok${index}`).join(" ");
  async function call(model) {
    let text = "";
    let finished = false;
    for await (const part of model.stream(request())) {
      if (part.type === "text-delta") text += part.text;
      if (part.type === "finish") finished = true;
    }
    if (text !== expected || !finished) throw new Error(`expected the 20 tokens and a finish, got ${JSON.stringify(text.slice(0, 80))}${finished ? "" : ", no finish"}`);
  }
  async function measure(model, concurrency) {
    let next = 0;
    const worker = async () => { while (next++ < CALLS) await call(model); };
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const used = process.cpuUsage(cpu);
    return { cpuMs: (used.user + used.system) / 1000 / CALLS, callsPerS: (CALLS / (performance.now() - started)) * 1000 };
  }
  const results = new Map(TYPES.map((type) => [type, { sequential: [], concurrent: [] }]));
  let failed = false;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const type of TYPES) {
      try {
        const model = registry.resolve(`provider:${type}`);
        for (let i = 0; i < WARMUP; i++) await call(model); // JIT and keep-alive sockets
        const sequential = await measure(model, 1);
        const concurrent = await measure(model, CONCURRENCY);
        results.get(type).sequential.push(sequential.cpuMs);
        results.get(type).concurrent.push(concurrent.cpuMs);
        console.log(
          `round ${round} ${type.padEnd(17)} sequential ${sequential.cpuMs.toFixed(3)} ms CPU/call (${sequential.callsPerS.toFixed(0)} calls/s)` +
          `   c=${CONCURRENCY} ${concurrent.cpuMs.toFixed(3)} ms CPU/call (${concurrent.callsPerS.toFixed(0)} calls/s)`,
        );
      } catch (error) {
        failed = true;
        console.log(`round ${round} ${type.padEnd(17)} FAILED: ${error.message}`);
      }
    }
  }
  // The lowest of the rounds: noise on a shared machine only ever adds CPU.
  const best = (values) => (values.length === 0 ? "–" : `${Math.min(...values).toFixed(3)} ms`);
  console.log(`ms CPU per call, lowest of ${ROUNDS} rounds: ` + TYPES.map((type) => `${type} ${best(results.get(type).sequential)} sequential / ${best(results.get(type).concurrent)} at c=${CONCURRENCY}`).join("; "));
  child.kill();
  process.exit(failed ? 1 : 0);
}
