// `npm run build && node bench/provider-client.mjs`: client CPU per streamed
// Chat Completions call (20 deltas), the AI SDK adapter (`openai` type)
// against the hand-written client of models/openai-chat (`openai-compatible`
// type). The fake provider runs in a child process so only the client's CPU
// is counted. AGENTD_DIST points at another build of packages/server.
import { fork } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = pathToFileURL(resolve(process.env.AGENTD_DIST ?? fileURLToPath(new URL("../packages/server/dist", import.meta.url)))).href;

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);

if (process.argv[2] === "provider") {
  const { startFakeProvider } = await import(`${dist}/testing/index.js`);
  const fake = await startFakeProvider({ tokens: 20, record: false });
  process.send({ baseUrl: fake.openaiBaseUrl });
} else {
  const child = fork(fileURLToPath(import.meta.url), ["provider"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { baseUrl } = await new Promise((ready) => child.once("message", ready));
  const { createModelRegistry } = await import(`${dist}/models/registry.js`);
  const registry = createModelRegistry({
    providers: ["openai", "openai-compatible"].map((type) => ({ name: type, type, apiKey: "bench", baseUrl, models: [{ id: "fake-20" }] })),
  }, {});
  const request = () => ({ system: "You are a benchmark.", messages: [{ role: "user", content: "go" }], tools: [], params: {}, signal: new AbortController().signal });
  async function call(model) {
    let deltas = 0;
    for await (const part of model.stream(request())) if (part.type === "text-delta") deltas += 1;
    if (deltas !== 20) throw new Error(`expected 20 deltas, got ${deltas}`);
  }
  async function measure(model, concurrency) {
    let next = 0;
    const worker = async () => { while (next++ < CALLS) await call(model); };
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const used = process.cpuUsage(cpu);
    return { cpuUs: (used.user + used.system) / CALLS, wallMs: performance.now() - started };
  }
  for (const round of [1, 2]) {
    for (const type of ["openai", "openai-compatible"]) {
      const model = registry.resolve(`provider:${type}`);
      for (let i = 0; i < 300; i++) await call(model); // warm-up: JIT and keep-alive sockets
      const sequential = await measure(model, 1);
      const concurrent = await measure(model, CONCURRENCY);
      console.log(
        `round ${round} ${type.padEnd(18)} sequential ${sequential.cpuUs.toFixed(0).padStart(5)} µs CPU/call (${(CALLS / sequential.wallMs * 1000).toFixed(0)} calls/s)` +
        `   c=${CONCURRENCY} ${concurrent.cpuUs.toFixed(0).padStart(5)} µs CPU/call (${(CALLS / concurrent.wallMs * 1000).toFixed(0)} calls/s)`,
      );
    }
  }
  child.kill();
}
