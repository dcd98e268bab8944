// Child processes of the benchmark: agentd and the fake provider each get
// their own process, so the server's CPU and memory are measured alone.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const role = process.argv[2];

if (role === "provider") {
  const { startFakeProvider } = await import("../packages/server/dist/testing/index.js");
  const short = await startFakeProvider({ tokens: 20, record: false });
  const long = await startFakeProvider({ tokens: 200, record: false });
  process.send({
    ready: true,
    // Chat Completions (openai, openai-compatible): `short` / `long` / `direct` as cluster.mjs reads them.
    short: short.openaiBaseUrl,
    long: long.openaiBaseUrl,
    direct: `${short.openaiBaseUrl}/chat/completions`,
    // Anthropic Messages: the same two servers, the other route.
    anthropicShort: short.anthropicBaseUrl,
    anthropicLong: long.anthropicBaseUrl,
    anthropicDirect: `${short.anthropicBaseUrl}/messages`,
  });
} else if (role === "worker") {
  // One worker of a cluster on PostgreSQL + Redis (bench/cluster.mjs).
  const { createServer, createApiKey, createLogger } = await import("../packages/server/dist/index.js");
  const urls = JSON.parse(process.argv[3]);
  const env = JSON.parse(process.argv[4]);
  const server = await createServer({
    env,
    logger: createLogger("error"),
    config: { providers: [{ name: "fake", type: "openai-compatible", baseUrl: urls.short, apiKey: "bench", models: [{ id: "fake-20" }] }], defaultModelId: "provider:fake:fake-20" },
  });
  const { url } = await server.listen(0);
  const key = process.argv[5] === "with-key" ? (await createApiKey(server.store, { workspace: "bench" })).key : undefined;
  process.on("message", (message) => {
    if (message === "stats") process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
    if (message === "exit") server.close().finally(() => process.exit(0));
  });
  process.send({ ready: true, url, key });
} else if (role === "agentd") {
  const { createServer, createApiKey, createLogger, openStore } = await import("../packages/server/dist/index.js");
  const urls = JSON.parse(process.argv[3]);
  // The provider path under test (bench/run.mjs): only its providers are configured.
  const path = process.argv[4] ?? "openai-compatible";
  const dataDir = mkdtempSync(join(tmpdir(), "agentd-bench-"));
  const store = await openStore({ dataDir });
  const { key } = await createApiKey(store, { workspace: "bench" });
  if (process.env.BENCH_COUNT_COMMITS) {
    const commit = store.commit.bind(store);
    const stats = { commits: 0, events: 0, runs: 0, newRuns: 0, ms: 0 };
    store.commit = async (batch) => {
      const started = performance.now();
      stats.commits++; stats.events += batch.events.length; stats.runs += batch.runs.length; stats.newRuns += batch.newRuns?.length ?? 0;
      await commit(batch);
      stats.ms += performance.now() - started;
    };
    process.on("exit", () => console.error("commits", JSON.stringify(stats), "per commit ms", (stats.ms / stats.commits).toFixed(3)));
  }
  const server = await createServer({
    store,
    env: {},
    logger: createLogger("error"),
    config: agentdConfig(path, urls),
  });
  const { url } = await server.listen(0);
  process.on("message", (message) => {
    if (message === "stats") process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
    if (message === "exit") server.close().finally(() => process.exit(0));
  });
  process.send({ ready: true, url, key, dataDir });
}

/** One path's providers: a 20-token and a 200-token model of the path's type; `mock` needs none (the built-in model). */
function agentdConfig(path, urls) {
  if (path === "mock") return { defaultModelId: "mock" };
  const anthropic = path === "anthropic";
  const [short, long] = anthropic ? [urls.anthropicShort, urls.anthropicLong] : [urls.short, urls.long];
  if (!["openai", "anthropic", "openai-compatible"].includes(path)) throw new Error(`unknown provider path '${path}'`);
  return {
    providers: [
      { name: "fake", type: path, baseUrl: short, apiKey: "bench", models: [{ id: "fake-20" }] },
      { name: "fake200", type: path, baseUrl: long, apiKey: "bench", models: [{ id: "fake-200" }] },
    ],
    defaultModelId: "provider:fake:fake-20",
  };
}
