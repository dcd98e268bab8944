import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, defineTool, openStore, type Store } from "@agentd/server";
import { registryOf, scriptedModel, type ScriptedReply } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { postgresEnv } from "../pg-env.js";
import { eventually, readStream, startTestServer, tempDir, type TestServer } from "../helpers.js";

/*
 * Issue #11, traces: every run's spans (run > model > tool, wait for
 * pauses), usage and cost on the terminal event, the snapshot and the root
 * span, and the routes that read and delete them; on SQLite and PostgreSQL.
 */

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL cases of the traces test");
// The restart case's own schema: its second process recovers every unfinished run it finds.
const restartSchema = (await postgresEnv("PostgreSQL restart case of the traces test")).schema;

/** Prices of the scripted model in these tests, USD per million tokens. */
const PRICE = { inputPer1MUsd: 3, outputPer1MUsd: 15, cacheReadPer1MUsd: 0.3 };

type Span = {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  status: string;
  error: string | null;
  attributes: Record<string, any>;
};

/** Replies in turn, then an answer naming the tool results it saw. */
function playing(turns: ScriptedReply[]) {
  const model = scriptedModel((request: ModelStepRequest, call: number) => {
    if (call < turns.length) return turns[call]!;
    const results = request.messages.filter((message) => message.role === "tool").length;
    return { text: `saw ${results} results`, usage: { inputTokens: 1_000 + call, outputTokens: 200 } };
  });
  Object.assign(model.info, { pricing: PRICE });
  return model;
}

/** Every child lies inside its parent's interval; exactly one root. */
function expectNested(spans: Span[]): void {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  expect(spans.filter((span) => span.parentSpanId === null).map((span) => span.name)).toEqual(["run"]);
  for (const span of spans) {
    expect(span.endedAt, `${span.name} ${span.spanId} is closed`).not.toBeNull();
    expect(Date.parse(span.endedAt!)).toBeGreaterThanOrEqual(Date.parse(span.startedAt));
    if (span.parentSpanId === null) continue;
    const parent = byId.get(span.parentSpanId);
    expect(parent, `the parent of ${span.name} ${span.spanId}`).toBeDefined();
    expect(Date.parse(span.startedAt)).toBeGreaterThanOrEqual(Date.parse(parent!.startedAt));
    expect(Date.parse(span.endedAt!)).toBeLessThanOrEqual(Date.parse(parent!.endedAt!));
  }
}

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

let executed = 0;
const config = {
  tools: [
    defineTool({
      name: "lookup",
      execute: async (args: Record<string, unknown>) => {
        executed++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return `found ${String(args.q)}`;
      },
    }),
  ],
};
const tools = [
  { kind: "code", name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } },
  { kind: "local", name: "confirm" },
  { kind: "local", name: "approve_me", requiresApproval: true },
];

describe.each(stores)("traces (%s)", (_name, open, enabled) => {
  let t: TestServer;
  let store: Store;
  let model = playing([]);
  const models = { catalog: () => registryOf(model).catalog(), resolve: () => model };
  const tag = randomBytes(3).toString("hex");
  beforeAll(async () => {
    if (!enabled) return;
    store = await open();
    t = await startTestServer({ store, config, models, workspace: `traces-${tag}` });
  });
  afterAll(() => t?.close());

  async function run(turns: ScriptedReply[], extra: Record<string, unknown> = {}) {
    model = playing(turns);
    const { status, body } = await t.request("POST", "/agent-runs", {
      systemPrompt: "x",
      prompt: "go",
      tools,
      metadata: { suite: tag },
      ...extra,
    });
    expect(status, JSON.stringify(body)).toBe(202);
    return body as { runId: string; streamUrl: string };
  }
  const ended = (runId: string) =>
    eventually(async () => {
      const body = (await t.request("GET", `/agent-runs/${runId}`)).body;
      return ["completed", "failed", "cancelled"].includes(body.status) ? body : undefined;
    });
  const trace = async (runId: string) => {
    const response = await t.request("GET", `/traces/${runId}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as { runId: string; traceId: string; spans: Span[] };
  };

  it.skipIf(!enabled)("a tool run: run > model > tool, nested; tokens add up to the usage, cost is tokens × price", async () => {
    const { runId, streamUrl } = await run([
      {
        toolCalls: [
          { name: "lookup", args: { q: "a" } },
          { name: "lookup", args: { q: "b" } },
        ],
        usage: { inputTokens: 1_234, outputTokens: 56 },
      },
    ]);
    const snapshot = await ended(runId);
    expect(snapshot.status).toBe("completed");
    const body = await trace(runId);
    expect(body.runId).toBe(runId);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expectNested(body.spans);
    const root = body.spans.find((span) => span.name === "run")!;
    const steps = body.spans.filter((span) => span.name === "model");
    const calls = body.spans.filter((span) => span.name === "tool");
    expect(steps).toHaveLength(2);
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.parentSpanId).toBe(steps[0]!.spanId);
      expect(call).toMatchObject({ kind: "server", status: "ok", attributes: { toolName: "lookup", outcome: "ok" } });
      expect(call.attributes.durationMs).toBeGreaterThanOrEqual(0);
    }
    for (const step of steps) {
      expect(step.parentSpanId).toBe(root.spanId);
      expect(step.attributes).toMatchObject({ modelId: model.id, finishReason: expect.any(String) });
      expect(step.attributes.latencyMs).toBeGreaterThanOrEqual(0);
      expect(step.attributes.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    }
    expect(steps[0]!.attributes).toMatchObject({ inputTokens: 1_234, outputTokens: 56, toolCalls: 2 });

    const input = steps.reduce((sum, step) => sum + step.attributes.inputTokens, 0);
    const output = steps.reduce((sum, step) => sum + step.attributes.outputTokens, 0);
    const usage = { inputTokens: input, outputTokens: output, modelCalls: 2, toolCalls: 2 };
    expect(snapshot.usage).toMatchObject({ ...usage, totalTokens: input + output });
    expect(root.attributes).toMatchObject({ ...usage, runStatus: "completed" });
    const cost = (input * PRICE.inputPer1MUsd + output * PRICE.outputPer1MUsd) / 1_000_000;
    expect(snapshot.usage.costUsd).toBeCloseTo(cost, 9);
    expect(root.attributes.costUsd).toBeCloseTo(cost, 9);
    expect(steps.reduce((sum, step) => sum + step.attributes.costUsd, 0)).toBeCloseTo(cost, 9);
    const { frames } = await readStream(t.url + streamUrl, t.key);
    expect(frames.at(-1)!.data).toMatchObject({ type: "result", usage: snapshot.usage });
  });

  it.skipIf(!enabled)("a local-tool pause and an approval each have a wait span; the local call is a local tool span", async () => {
    const { runId } = await run([{ toolCalls: [{ name: "confirm", args: {} }] }, { toolCalls: [{ name: "approve_me", args: {} }] }]);
    const call = await eventually(async () => (await t.request("GET", `/agent-runs/${runId}`)).body.pendingToolCalls[0]);
    const live = await trace(runId);
    expect(live.spans.find((span) => span.name === "run")!.endedAt).toBeNull();
    expect(live.spans.find((span) => span.name === "wait")).toMatchObject({ kind: "local_tool", endedAt: null });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: call.toolUseId, result: "yes" })).status).toBe(200);
    const approval = await eventually(async () => (await t.request("GET", `/agent-runs/${runId}`)).body.pendingApprovals[0]);
    expect(
      (await t.request("POST", `/agent-runs/${runId}/continue`, { approvals: [{ toolUseId: approval.toolUseId, approved: false }] }))
        .status,
    ).toBe(200);
    await ended(runId);
    const { spans } = await trace(runId);
    expectNested(spans);
    const waits = spans.filter((span) => span.name === "wait");
    expect(waits.map((span) => span.kind)).toEqual(["local_tool", "approval"]);
    expect(waits[0]!.attributes.waitedMs).toBeGreaterThanOrEqual(10);
    const calls = spans.filter((span) => span.name === "tool");
    expect(calls.map((span) => [span.kind, span.attributes.toolName, span.attributes.outcome, span.status])).toEqual([
      ["local", "confirm", "ok", "ok"],
      ["local", "approve_me", "rejected", "error"],
    ]);
  });

  it.skipIf(!enabled)("a failed run's trace is an error: its root says why; GET /traces?status=error lists it", async () => {
    const lookup = { toolCalls: [{ name: "lookup", args: { q: "x" } }] };
    const failing = await run([lookup, { toolCalls: [{ name: "lookup", args: { q: "y" } }] }], { budgets: { maxToolTurns: 1 } });
    await ended(failing.runId);
    const root = (await trace(failing.runId)).spans.find((span) => span.name === "run")!;
    expect(root).toMatchObject({ status: "error", attributes: { runStatus: "failed", subtype: "error_max_tool_turns" } });
    expect(root.error).toContain("maxToolTurns");
    const ok = await run([{ text: "fine" }]);
    await ended(ok.runId);

    const errors = await t.request("GET", `/traces?status=error&metadata=suite:${tag}`);
    expect(errors.status).toBe(200);
    expect(errors.body.traces.map((summary: { runId: string }) => summary.runId)).toContain(failing.runId);
    expect(errors.body.traces.every((summary: { status: string }) => summary.status === "error")).toBe(true);
    const all = await t.request("GET", `/traces?metadata=suite:${tag}&limit=1`);
    expect(all.body.traces).toHaveLength(1);
    expect(all.body.traces[0]).toMatchObject({
      runId: ok.runId,
      status: "ok",
      runStatus: "completed",
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const next = await t.request("GET", `/traces?metadata=suite:${tag}&limit=1&cursor=${encodeURIComponent(all.body.nextCursor)}`);
    expect(next.body.traces[0].runId).not.toBe(ok.runId);
    const bad = await t.request("GET", "/traces?status=broken");
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("status");
  });

  it.skipIf(!enabled)(
    "DELETE /traces/{runId} removes the trace only; DELETE /agent-runs/{runId} refuses a live run (409), then removes it all",
    async () => {
      const done = await run([{ text: "hi" }]);
      await ended(done.runId);
      expect((await trace(done.runId)).spans.map((span) => span.name)).toEqual(["run", "model"]);
      // Only the model step is a row: the root is made up from the run's row when read (one INSERT per one-shot run, not two).
      expect((await store.readSpans(done.runId)).map((span) => span.name)).toEqual(["model"]);
      expect((await t.request("DELETE", `/traces/${done.runId}`)).status).toBe(200);
      // What is left is the root: the run's own row (its times, status and usage), shown while the run exists.
      expect((await trace(done.runId)).spans).toMatchObject([{ name: "run", parentSpanId: null, attributes: { runStatus: "completed" } }]);
      expect((await t.request("GET", `/agent-runs/${done.runId}`)).status).toBe(200);

      const paused = await run([{ toolCalls: [{ name: "confirm", args: {} }] }]);
      const call = await eventually(async () => (await t.request("GET", `/agent-runs/${paused.runId}`)).body.pendingToolCalls[0]);
      const refused = await t.request("DELETE", `/agent-runs/${paused.runId}`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("conflict");
      await t.request("POST", `/agent-runs/${paused.runId}/tool-results`, { toolUseId: call.toolUseId, result: "ok" });
      await ended(paused.runId);
      expect((await t.request("DELETE", `/agent-runs/${paused.runId}`)).status).toBe(200);
      expect((await t.request("GET", `/agent-runs/${paused.runId}`)).status).toBe(404);
      expect((await t.request("GET", `/traces/${paused.runId}`)).status).toBe(404);
      expect((await readStream(t.url + paused.streamUrl, t.key)).status).toBe(404);
      expect((await t.request("DELETE", `/agent-runs/${paused.runId}`)).status).toBe(404);
      expect((await t.request("DELETE", `/traces/run_missing`)).status).toBe(404);
    },
  );

  it.skipIf(!enabled)(
    "a run cancelled while paused: every usage field on its terminal event, its unanswered call and its wait closed",
    async () => {
      const { runId, streamUrl } = await run([{ toolCalls: [{ name: "confirm", args: {} }] }]);
      await eventually(async () => ((await t.request("GET", `/agent-runs/${runId}`)).body.status === "paused" ? true : undefined));
      expect((await t.request("POST", `/agent-runs/${runId}/cancel`, {})).status).toBe(200);
      const { frames } = await readStream(t.url + streamUrl, t.key);
      expect(frames.at(-1)!.data).toMatchObject({
        type: "cancelled",
        usage: { modelCalls: 1, toolCalls: 1, cachedInputTokens: 0, costUsd: expect.any(Number) },
      });
      const { spans } = await trace(runId);
      expectNested(spans);
      expect(spans.find((span) => span.name === "tool")).toMatchObject({ status: "error", attributes: { outcome: "unanswered" } });
      expect(spans.find((span) => span.name === "wait")!.endedAt).not.toBeNull();
    },
  );

  it.skipIf(!enabled)("another workspace's key sees, lists and deletes none of it", async () => {
    const done = await run([{ text: "mine" }]);
    await ended(done.runId);
    const other = await createApiKey(t.server.store, { workspace: `other-${tag}` });
    const as = (method: string, path: string) =>
      t.request(method, `${t.url}/api/v1/workspaces/${other.workspace}${path}`, undefined, { authorization: `Bearer ${other.key}` });
    expect((await as("GET", `/traces/${done.runId}`)).status).toBe(404);
    expect((await as("DELETE", `/traces/${done.runId}`)).status).toBe(404);
    expect((await as("DELETE", `/agent-runs/${done.runId}`)).status).toBe(404);
    expect((await as("GET", `/traces`)).body.traces).toEqual([]);
    expect((await trace(done.runId)).spans.length).toBeGreaterThan(0);
    expect((await t.request("GET", `/agent-runs/${done.runId}`)).status).toBe(200);
  });
});

const durable: Array<[string, () => () => Promise<Store>, boolean]> = [
  [
    "SQLite",
    () => {
      const dataDir = tempDir();
      return () => openStore({ dataDir });
    },
    true,
  ],
  ["PostgreSQL", () => () => openStore({ databaseUrl, schema: restartSchema }), pgReachable],
];

describe.each(durable)("a run killed and resumed (%s)", (_name, storage, enabled) => {
  it.skipIf(!enabled)("shows both attempts in its trace: the first's model step, the second's tool call and answer", async () => {
    const open = storage();
    let release: (() => void) | undefined;
    const hanging = {
      tools: [
        defineTool({
          name: "lookup",
          execute: (_args: Record<string, unknown>, context: { signal: AbortSignal }) =>
            new Promise((resolve, reject) => {
              release = () => resolve("late");
              context.signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true });
            }),
        }),
      ],
    };
    const model = playing([{ toolCalls: [{ name: "lookup", args: { q: "a" } }] }]);
    const models = { catalog: () => registryOf(model).catalog(), resolve: () => model };
    const first = await startTestServer({ store: await open(), config: hanging, models });
    const { body } = await first.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: [tools[0]] });
    await eventually(() => (release ? true : undefined));
    await first.close();

    const store = await open();
    const second = await createServer({ store, config, models, logger: createLogger("silent"), env: {} });
    const { url } = await second.listen(0);
    try {
      const headers = { authorization: `Bearer ${first.key}` };
      const api = (path: string) => `${url}/api/v1/workspaces/${first.workspace}${path}`;
      await eventually(async () => {
        const snapshot = await (await fetch(api(`/agent-runs/${body.runId}`), { headers })).json();
        return snapshot.status === "completed" ? snapshot : undefined;
      });
      const { spans } = (await (await fetch(api(`/traces/${body.runId}`), { headers })).json()) as { spans: Span[] };
      expectNested(spans);
      const attempts = spans.map((span) => [span.name, span.attempt]);
      expect(attempts).toContainEqual(["run", 1]);
      expect(attempts).toContainEqual(["model", 1]);
      expect(attempts).toContainEqual(["tool", 2]);
      expect(attempts).toContainEqual(["model", 2]);
      const root = spans.find((span) => span.name === "run")!;
      const steps = spans.filter((span) => span.name === "model");
      expect(root.attributes.inputTokens).toBe(steps.reduce((sum, step) => sum + step.attributes.inputTokens, 0));
      expect(root.attributes.modelCalls).toBe(steps.length);
    } finally {
      await second.close();
    }
  });
});
