import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, defineTool, type Logger } from "@agentd/server";
import { readStream, startTestServer, tempDir, type TestServer } from "../helpers.js";
import { captureErrorBody } from "../hygiene/capture.js";
import { check, checked, report, successSchemas, type Failure } from "./check.js";
import { sender, type FuzzRequest } from "./http.js";
import { innocentTraffic } from "./innocent.js";
import { fuzzRequests, ROUTE_HINTS, type World } from "./requests.js";
import { routesOf } from "./routes.js";
import { DEFAULT_ADMISSION_LIMITS } from "../../src/runs/admission.js";

/**
 * Issue #8's schema-driven fuzz: every operation of the server's own OpenAPI
 * document, with bodies generated from its request schemas and then broken
 * (wrong types, missing and extra fields, huge strings, nesting 100,000
 * deep, NUL and lone surrogates, `__proto__` keys), bad query strings, path
 * parameters, content types, headers and keys, and raw requests node:http
 * would not send, against a real server over real HTTP, while another
 * workspace runs valid traffic. `npm test` sends 10,000 requests;
 * `npm run test:fuzz` 100,000 (FUZZ_REQUESTS). FUZZ_SEED replays a run.
 */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 24);
const B_RUNS = Number(process.env.FUZZ_INNOCENT_RUNS ?? Math.max(200, Math.round(REQUESTS / 50)));
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Valid creates of pausing runs A sends beside the fuzz, to meet its caps (issue #8 (c)). */
const FLOOD_RUNS = Math.max(200, Math.round(REQUESTS / 20));

/** The server's error log: silent, but every entry is a failure (a 500, a failed commit after a 2xx, a crash in a run). */
function recordingLogger(): Logger & { entries: { msg: string; fields: Record<string, unknown> }[] } {
  const entries: { msg: string; fields: Record<string, unknown> }[] = [];
  return { entries, info: () => undefined, warn: () => undefined, error: (fields, msg) => void entries.push({ msg, fields }) };
}

/**
 * The default caps divided by 200 (same ratios as shipped), so that 10,000
 * requests reach them: A's runs meet 429/503 with Retry-After, and B, far
 * below its own caps, must not notice.
 */
const LIMITS = {
  maxActiveRunsPerWorkspace: Math.max(5, Math.round(DEFAULT_ADMISSION_LIMITS.maxActiveRunsPerWorkspace / 200)),
  maxPausedRunsPerWorkspace: Math.max(60, Math.round(DEFAULT_ADMISSION_LIMITS.maxPausedRunsPerWorkspace / 200)),
  maxQueuedRuns: Math.max(60, Math.round(DEFAULT_ADMISSION_LIMITS.maxQueuedRuns / 200)),
};

const config = {
  limits: LIMITS,
  agents: { assistant: { systemPrompt: "You assist." } },
  tools: [defineTool({ name: "echo_deps", execute: (args: Record<string, unknown>, context: { dependencies?: unknown }) => JSON.stringify({ args, dependencies: context.dependencies }) })],
};

describe("schema-driven fuzz of every route", () => {
  let t: TestServer;
  const logger = recordingLogger();
  const b = { slug: "fuzz-b", key: "" };
  const c = { slug: "fuzz-c", key: "" };

  beforeAll(async () => {
    t = await startTestServer({ dataDir: tempDir(), workspace: "fuzz-a", logger, config });
    b.key = (await createApiKey(t.server.store, { workspace: b.slug })).key;
    c.key = (await createApiKey(t.server.store, { workspace: c.slug })).key;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A run of `key`'s workspace, read until it completes or pauses. */
  async function run(workspace: string, key: string, body: Record<string, unknown>): Promise<{ runId: string; snapshot: any }> {
    const created = await t.request("POST", `${t.url}/api/v1/workspaces/${workspace}/agent-runs`, body, { authorization: `Bearer ${key}` });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const runId = created.body.runId as string;
    for (let i = 0; i < 200; i++) {
      const snapshot = await t.request("GET", `${t.url}/api/v1/workspaces/${workspace}/agent-runs/${runId}`, undefined, { authorization: `Bearer ${key}` });
      if (snapshot.body.status !== "queued" && snapshot.body.status !== "running") return { runId, snapshot: snapshot.body };
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`run ${runId} did not settle`);
  }

  async function world(): Promise<World> {
    const a = { slug: t.workspace, key: t.key };
    // One at a time: the scaled-down caps allow A only a few active runs.
    const serially = async <T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> => {
      const made: T[] = [];
      for (let i = 0; i < n; i++) made.push(await make(i));
      return made;
    };
    const completed = await serially(3, (i) => run(a.slug, a.key, { systemPrompt: "s", modelId: "mock", prompt: `fixture ${i}` }));
    const local = await serially(20, () => run(a.slug, a.key, { systemPrompt: "s", prompt: "call get_time {}", tools: [{ kind: "local", name: "get_time" }] }));
    const approval = await serially(20, () =>
      run(a.slug, a.key, { systemPrompt: "s", prompt: "call approve_me {}", tools: [{ kind: "local", name: "approve_me", requiresApproval: true }] }),
    );
    for (const paused of [...local, ...approval]) expect(paused.snapshot.status).toBe("paused");
    const toolUseIds = [...new Set([...local, ...approval].flatMap(({ snapshot }) => [...snapshot.pendingToolCalls, ...snapshot.pendingApprovals].map((call: { toolUseId: string }) => call.toolUseId)))];
    const bRuns = await serially(2, () => run(b.slug, b.key, { systemPrompt: "s", prompt: "b fixture" }));
    const session = async (workspace: string, key: string) =>
      (await t.request("POST", `${t.url}/api/v1/workspaces/${workspace}/agent-sessions`, { systemPrompt: "s", modelId: "mock" }, { authorization: `Bearer ${key}` })).body.sessionId as string;
    const sessions = await serially(3, () => session(a.slug, a.key));
    const ended = await session(a.slug, a.key);
    expect((await t.request("DELETE", `/agent-sessions/${ended}`)).status).toBe(200);
    const cursor = async (workspace: string, key: string) =>
      (await t.request("GET", `${t.url}/api/v1/workspaces/${workspace}/agent-runs?limit=1`, undefined, { authorization: `Bearer ${key}` })).body.nextCursor as string;
    return {
      a,
      b,
      c,
      runs: { a: completed.map((r) => r.runId), pausedLocal: local.map((r) => r.runId), pausedApproval: approval.map((r) => r.runId), b: bRuns.map((r) => r.runId) },
      toolUseIds: [...toolUseIds, "call_0", "call_9"],
      sessions: { a: sessions, ended: [ended], b: [await session(b.slug, b.key)] },
      cursors: [await cursor(a.slug, a.key), await cursor(b.slug, b.key)],
      agentId: "assistant",
      codeTool: "echo_deps",
      maxBodyBytes: MAX_BODY_BYTES,
    };
  }

  it(
    `${REQUESTS} fuzzed requests: no 5xx, no reset, every error documented, workspace B unharmed`,
    async () => {
      const docResponse = await t.request("GET", `${t.url}/openapi.json`);
      expect(docResponse.status).toBe(200);
      const doc = docResponse.body as Record<string, unknown>;
      const routes = routesOf(doc);
      expect(routes.length, "the OpenAPI document lists no operations").toBeGreaterThan(0);
      const missing = routes.filter((route) => !Object.hasOwn(ROUTE_HINTS, route.operationId)).map((route) => route.id);
      expect(missing, "operations of the OpenAPI document without a generator (ROUTE_HINTS in requests.ts)").toEqual([]);
      const stale = Object.keys(ROUTE_HINTS).filter((id) => !routes.some((route) => route.operationId === id));
      expect(stale, "generators for operations the OpenAPI document no longer lists").toEqual([]);

      const w = await world();
      const schemas = successSchemas(doc, routes);
      const arbitrary = fuzzRequests(routes, w, doc);
      const origin = new URL(t.url);
      console.log(
        `fuzz: seed ${SEED}, ${REQUESTS} requests over ${routes.length} operations, concurrency ${CONCURRENCY}` +
          ` (replay: FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} npx vitest run packages/server/test/fuzz)`,
      );

      const crashes: string[] = [];
      const onCrash = (error: unknown) => void crashes.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.on("unhandledRejection", onCrash);
      process.on("uncaughtException", onCrash);

      const innocent = innocentTraffic({ origin, workspace: b.slug, key: b.key, minRuns: B_RUNS, workers: 4, timeoutMs: 30_000 });
      const http = sender(origin, { concurrency: CONCURRENCY, timeoutMs: 20_000, streamMs: 150 });
      const failures: Failure[] = [];
      const statuses = new Map<string, Map<number, number>>();
      const coverage = new Map<string, number>();
      const BATCH = 200;
      let batch: FuzzRequest[] = [];
      let batches = 0;
      let taken = 0;
      // Generated a batch at a time from the seed: the same seed gives the same requests.
      const take = (): FuzzRequest | undefined => {
        if (taken >= REQUESTS) return undefined;
        if (batch.length === 0) batch = fc.sample(arbitrary, { seed: SEED + batches++, numRuns: Math.min(BATCH, REQUESTS - taken) }).reverse();
        taken++;
        return batch.pop();
      };
      // A's flood, beside the fuzz: valid runs that pause on a local tool, until A meets its caps.
      const flood = { sent: 0, capped: 0 };
      const floodPath = `/api/v1/workspaces/${w.a.slug}/agent-runs`;
      const flooding = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (flood.sent < FLOOD_RUNS) {
            flood.sent++;
            const req: FuzzRequest = {
              route: routes.find((route) => route.operationId === "createRun")!.id,
              method: "POST",
              path: floodPath,
              headers: { authorization: `Bearer ${w.a.key}`, "content-type": "application/json" },
              body: { kind: "json", value: { systemPrompt: "s", prompt: "call get_time {}", tools: [{ kind: "local", name: "get_time" }] } },
              tags: ["flood"],
            };
            const outcome = await http.send(req);
            if (outcome.ok && (outcome.response.status === 429 || outcome.response.status === 503)) flood.capped++;
            const failure = check(req, outcome, schemas);
            if (failure) failures.push(failure);
          }
        }),
      );
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let req = take(); req !== undefined; req = take()) {
            const outcome = await http.send(req);
            if (outcome.ok) captureErrorBody(outcome.response.status, outcome.response.text);
            const byStatus = statuses.get(req.route) ?? new Map<number, number>();
            const status = outcome.ok ? outcome.response.status : -1;
            byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
            statuses.set(req.route, byStatus);
            for (const tag of req.tags) {
              // `deep@dependencies` → `deep`, `query:limit` stays: what kind of damage, not where.
              const kind = tag.includes("@") ? tag.slice(0, tag.indexOf("@")) : tag.replace(/-\d+$/, "");
              coverage.set(kind, (coverage.get(kind) ?? 0) + 1);
            }
            const failure = check(req, outcome, schemas);
            if (failure) failures.push(failure);
          }
        }),
      );
      await flooding;
      const seconds = (performance.now() - started) / 1000;
      http.close();
      innocent.stop();
      await innocent.done;
      const innocentStats = innocent.stats();

      console.log(
        [
          `fuzz: ${REQUESTS} requests in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)}/s); B: ${innocentStats.runs} runs, ${innocentStats.requests} requests`,
          `  caps ${JSON.stringify(LIMITS)}; A's flood: ${flood.sent} creates, ${flood.capped} refused with 429/503`,
          `  successes checked against the document's schemas: ${checked.successes}`,
          `  mutations: ${[...coverage].sort((x, y) => y[1] - x[1]).map(([kind, n]) => `${kind}×${n}`).join(" ")}`,
          ...[...statuses].sort().map(([route, byStatus]) => `  ${route}: ${[...byStatus].sort((x, y) => x[0] - y[0]).map(([status, n]) => `${status === -1 ? "none" : status}×${n}`).join(" ")}`),
        ].join("\n"),
      );

      // After the fuzz: A's operator answers the backlog (cancels its paused runs, a page at a
      // time); then the server answers, and normal runs of A work end to end.
      let cancelled = 0;
      for (let page = 0; page < 100; page++) {
        const paused = await t.request("GET", "/agent-runs?status=paused&limit=100");
        expect(paused.status, JSON.stringify(paused.body)).toBe(200);
        if (paused.body.runs.length === 0) break;
        for (const { runId } of paused.body.runs as { runId: string }[]) {
          const response = await t.request("POST", `/agent-runs/${runId}/cancel`, { reason: "after the fuzz" });
          expect(response.status, JSON.stringify(response.body)).toBe(200);
          cancelled++;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      console.log(`fuzz: cancelled ${cancelled} paused runs of A after the fuzz`);
      const health = await t.request("GET", `${t.url}/healthz`);
      const after = await t.request("POST", "/agent-runs", { systemPrompt: "You are terse.", modelId: "mock", prompt: "still there?" });
      const stream = after.status === 202 ? await readStream(t.url + after.body.streamUrl, t.key) : undefined;
      const last = stream?.frames.at(-1)?.data;
      const local = await run(t.workspace, t.key, { systemPrompt: "s", prompt: "call get_time {}", tools: [{ kind: "local", name: "get_time" }] });
      const answered = await t.request("POST", `/agent-runs/${local.runId}/tool-results`, { toolUseId: local.snapshot.pendingToolCalls[0]?.toolUseId, result: "12:00" });
      const localStream = await readStream(`${t.url}/api/v1/workspaces/${t.workspace}/agent-runs/${local.runId}/stream`, t.key);

      process.off("unhandledRejection", onCrash);
      process.off("uncaughtException", onCrash);

      const problems = [
        ...(failures.length > 0 ? [report(failures)] : []),
        ...(crashes.length > 0 ? [`${crashes.length} unhandled errors in the server process:\n${crashes.slice(0, 3).join("\n\n")}`] : []),
        ...(logger.entries.length > 0
          ? [
              `${logger.entries.length} errors logged by the server:\n${logger.entries
                .slice(0, 5)
                .map((entry) => `  ${entry.msg}: ${JSON.stringify(entry.fields, (key, value) => (value instanceof Error ? `${value.name}: ${value.message}` : value)).slice(0, 400)}`)
                .join("\n")}`,
            ]
          : []),
        ...(innocentStats.failures.length > 0 ? [`workspace B (valid traffic) saw ${innocentStats.failures.length} failures:\n  ${innocentStats.failures.slice(0, 10).join("\n  ")}`] : []),
        ...(innocentStats.runs < B_RUNS ? [`workspace B finished ${innocentStats.runs} runs, fewer than ${B_RUNS}`] : []),
        ...(flood.capped === 0 ? [`A's flood of ${flood.sent} paused runs never met a cap (429/503): runs pile up without bound`] : []),
        ...(health.status !== 200 ? [`/healthz after the fuzz → ${health.status}`] : []),
        ...(last?.type !== "result" || last?.text !== "[mock] You said: still there?" ? [`a run of A after the fuzz: ${after.status} ${JSON.stringify(last ?? after.body).slice(0, 300)}`] : []),
        ...(answered.status !== 200 || localStream.frames.at(-1)?.data?.subtype !== "success" ? [`a local-tool run of A after the fuzz: ${answered.status} ${JSON.stringify(localStream.frames.at(-1)?.data).slice(0, 300)}`] : []),
      ];
      if (problems.length > 0) console.log(`fuzz FAILED (seed ${SEED}):\n${problems.join("\n\n")}`);
      expect(problems, `fuzz with FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS}`).toEqual([]);
    },
    Math.max(180_000, REQUESTS * 20),
  );
});
