import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, defineTool } from "@agentd/server";
import { registryOf, scriptedModel, type ScriptedReply } from "@agentd/server/testing";
import { otelSettings } from "../../src/traces/otel.js";
import { eventually, startTestServer, tempDir, type TestServer } from "../helpers.js";

/*
 * Issue #11, OpenTelemetry export: with an OTLP endpoint set, every ended
 * run's trace reaches the collector over OTLP/HTTP (JSON) with the ids and
 * times GET /traces/{runId} shows, named and attributed by the GenAI
 * semantic conventions; without one, no @opentelemetry package is loaded;
 * a collector that hangs fails no run and holds no close for long.
 */

/** A span as the OTLP/JSON body carries it, its attributes decoded. */
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
};
type Received = {
  spans: OtlpSpan[];
  resources: Array<Record<string, unknown>>;
  scopes: string[];
  contentTypes: string[];
  apiKeys: string[];
};

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}
const attributesOf = (list: Array<{ key: string; value: AnyValue }> = []) =>
  Object.fromEntries(list.map((kv) => [kv.key, value(kv.value)]));

/** A stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver: POST /v1/traces, JSON. `hang`: accept and never answer. */
async function collector(options: { hang?: boolean } = {}): Promise<{ url: string; received: Received; close(): Promise<void> }> {
  const received: Received = { spans: [], resources: [], scopes: [], contentTypes: [], apiKeys: [] };
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (options.hang) return;
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      received.contentTypes.push(String(req.headers["content-type"]));
      received.apiKeys.push(String(req.headers["x-api-key"]));
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const resourceSpans of body.resourceSpans ?? []) {
        received.resources.push(attributesOf(resourceSpans.resource?.attributes));
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          received.scopes.push(`${scopeSpans.scope?.name}@${scopeSpans.scope?.version}`);
          for (const span of scopeSpans.spans ?? []) received.spans.push({ ...span, attributes: attributesOf(span.attributes) });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const PRICE = { inputPer1MUsd: 3, outputPer1MUsd: 15, cacheReadPer1MUsd: 0.3 };
const config = {
  tools: [
    defineTool({
      name: "lookup",
      execute: async (args: Record<string, unknown>) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return `found ${String(args.q)}`;
      },
    }),
  ],
};
const tools = [
  { kind: "code", name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } },
  { kind: "local", name: "confirm" },
];

/** A scripted model that plays `turns`, then answers (a new one per run: a scripted model counts its calls). */
function playing(turns: ScriptedReply[]) {
  const model = scriptedModel((_request, call) => turns[call] ?? { text: "done", usage: { inputTokens: 900, outputTokens: 90 } }, {
    vendorModelId: "gpt-test",
  });
  Object.assign(model.info, { pricing: PRICE });
  return model;
}

/** Models that resolve to whatever `current()` is. */
function modelsOf(current: () => ReturnType<typeof playing>) {
  return { catalog: () => registryOf(current()).catalog(), resolve: () => current() };
}

describe("the OTEL_* variables", () => {
  it("turn the export on with an endpoint, off without one or when disabled; a bad value names its variable", () => {
    expect(otelSettings({})).toBeUndefined();
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " })).toBeUndefined();
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toMatchObject({ url: "http://c:4318/v1/traces", batch: {} });
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/base" })!.url).toBe("http://c:4318/base/v1/traces");
    // The signal's own endpoint is used as given, and wins.
    const both = otelSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://vendor.example/otlp/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=two%3D2",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=3",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_BSP_SCHEDULE_DELAY: "0",
      OTEL_SERVICE_NAME: "billing-agents",
    });
    expect(both).toEqual({
      url: "https://vendor.example/otlp/traces",
      headers: { a: "1", b: "3" },
      timeoutMillis: 2500,
      serviceName: "billing-agents",
      batch: { scheduledDelayMillis: 0 },
      protocolIgnored: "grpc",
    });
    expect(otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_HEADERS: "k=v%3D1" })!.headers).toEqual({
      k: "v=1",
    });
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => otelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_BSP_MAX_QUEUE_SIZE: "lots" })).toThrow(
      /OTEL_BSP_MAX_QUEUE_SIZE/,
    );
  });
});

const nanos = (value: string | number) => BigInt(String(value));
const isoNanos = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe("OpenTelemetry export to an OTLP/HTTP collector", () => {
  let otlp: Awaited<ReturnType<typeof collector>>;
  let t: TestServer;
  let model = playing([]);
  const models = modelsOf(() => model);
  beforeAll(async () => {
    otlp = await collector();
    t = await startTestServer({
      config,
      models,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=key%20one",
        OTEL_SERVICE_NAME: "agentd-otel-test",
        OTEL_BSP_SCHEDULE_DELAY: "20",
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await otlp?.close();
  });

  async function run(script: ScriptedReply[], extra: Record<string, unknown> = {}) {
    model = playing(script);
    const { status, body } = await t.request("POST", "/agent-runs", {
      systemPrompt: "never exported",
      prompt: "secret prompt",
      tools,
      ...extra,
    });
    expect(status, JSON.stringify(body)).toBe(202);
    return body.runId as string;
  }
  const ended = (runId: string) =>
    eventually(async () => {
      const body = (await t.request("GET", `/agent-runs/${runId}`)).body;
      return ["completed", "failed", "cancelled"].includes(body.status) ? body : undefined;
    });
  const trace = async (runId: string) => (await t.request("GET", `/traces/${runId}`)).body as { traceId: string; spans: any[] };
  /** The collector's spans of a trace, once its root and `count` spans have arrived. */
  const exported = (traceId: string, count: number) =>
    eventually(() => {
      const spans = otlp.received.spans.filter((span) => span.traceId === traceId);
      return spans.length >= count && spans.some((span) => !span.parentSpanId) ? spans : undefined;
    }, 10_000);

  it("a tool run: the collector gets its tree with agentd's ids, times, GenAI names and attributes", async () => {
    const runId = await run([
      { toolCalls: [{ name: "lookup", args: { q: "secret argument" } }], usage: { inputTokens: 1_234, outputTokens: 56 } },
    ]);
    expect((await ended(runId)).status).toBe("completed");
    const stored = await trace(runId);
    const spans = await exported(stored.traceId, stored.spans.length);
    expect(spans).toHaveLength(stored.spans.length);
    expect(otlp.received.contentTypes[0]).toBe("application/json");
    expect(otlp.received.apiKeys[0]).toBe("key one");

    // The same tree: every span id, parent, start and end of GET /traces/{runId}.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    for (const span of stored.spans) {
      const sent = byId.get(span.spanId)!;
      expect(sent, `${span.name} ${span.spanId}`).toBeDefined();
      expect(sent.parentSpanId || null).toBe(span.parentSpanId);
      expect(nanos(sent.startTimeUnixNano)).toBe(isoNanos(span.startedAt));
      expect(nanos(sent.endTimeUnixNano)).toBe(isoNanos(span.endedAt));
    }
    const root = spans.find((span) => !span.parentSpanId)!;
    const chats = spans.filter((span) => span.attributes["gen_ai.operation.name"] === "chat");
    const toolSpans = spans.filter((span) => span.attributes["gen_ai.operation.name"] === "execute_tool");
    expect(chats).toHaveLength(2);
    expect(toolSpans).toHaveLength(1);
    expect(chats.every((span) => span.parentSpanId === root.spanId)).toBe(true);
    const storedTool = stored.spans.find((span) => span.name === "tool");
    expect(toolSpans[0]!.parentSpanId).toBe(storedTool.parentSpanId);
    expect(chats.map((span) => span.spanId)).toContain(toolSpans[0]!.parentSpanId);

    const storedRoot = stored.spans.find((span) => span.name === "run");
    expect(root).toMatchObject({ name: "invoke_agent", kind: 1, status: { code: 0 } }); // INTERNAL, UNSET
    expect(root.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.provider.name": "scripted",
      "gen_ai.request.model": "gpt-test",
      "gen_ai.usage.input_tokens": storedRoot.attributes.inputTokens,
      "gen_ai.usage.output_tokens": storedRoot.attributes.outputTokens,
      "gen_ai.usage.cache_read.input_tokens": 0,
      "agentd.run.id": runId,
      "agentd.run.status": "completed",
      "agentd.run.subtype": "success",
      "agentd.model.id": model.id,
      "agentd.model_calls": 2,
      "agentd.tool_calls": 1,
      "agentd.attempt": 1,
    });
    expect(root.attributes["agentd.cost_usd"]).toBeCloseTo(storedRoot.attributes.costUsd, 9);
    expect(root.attributes["agentd.workspace.id"]).toEqual(expect.any(String));

    const first = chats.find((span) => span.spanId === toolSpans[0]!.parentSpanId)!;
    expect(first).toMatchObject({ name: "chat gpt-test", kind: 3, status: { code: 0 } }); // CLIENT
    expect(first.attributes).toMatchObject({
      "gen_ai.provider.name": "scripted",
      "gen_ai.system": "scripted",
      "gen_ai.request.model": "gpt-test",
      "gen_ai.usage.input_tokens": 1_234,
      "gen_ai.usage.output_tokens": 56,
      "gen_ai.response.finish_reasons": [expect.any(String)],
      "agentd.tool_calls": 1,
    });
    expect(first.attributes["gen_ai.response.time_to_first_chunk"]).toBeGreaterThanOrEqual(0);
    expect(first.attributes["agentd.cost_usd"]).toBeCloseTo((1_234 * 3 + 56 * 15) / 1e6, 9);

    expect(toolSpans[0]).toMatchObject({ name: "execute_tool lookup", kind: 1, status: { code: 0 } });
    expect(toolSpans[0]!.attributes).toMatchObject({
      "gen_ai.tool.name": "lookup",
      "gen_ai.tool.call.id": storedTool.attributes.toolUseId,
      "gen_ai.tool.type": "extension",
      "agentd.tool.outcome": "ok",
    });

    expect(otlp.received.resources[0]).toMatchObject({ "service.name": "agentd-otel-test", "service.version": expect.any(String) });
    expect(otlp.received.scopes[0]).toMatch(/^agentd@/);
    // Prompts, system prompts, tool arguments and results never leave.
    const everything = JSON.stringify(otlp.received);
    for (const secret of ["secret prompt", "never exported", "secret argument", "found secret"]) expect(everything).not.toContain(secret);
  });

  it("a run that pauses is exported once it ends, with its wait span; a failed run's root is an error", async () => {
    const runId = await run([{ toolCalls: [{ name: "confirm", args: {} }] }]);
    const call = await eventually(async () => (await t.request("GET", `/agent-runs/${runId}`)).body.pendingToolCalls?.[0]);
    const { traceId } = await trace(runId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(otlp.received.spans.filter((span) => span.traceId === traceId)).toEqual([]);
    await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: call.toolUseId, result: "yes" });
    await ended(runId);
    const stored = await trace(runId);
    const spans = await exported(traceId, stored.spans.length);
    const wait = spans.find((span) => span.name === "wait local_tool")!;
    expect(wait).toMatchObject({ kind: 1, attributes: { "agentd.wait.kind": "local_tool" } });
    expect(spans.find((span) => span.name === "execute_tool confirm")!.attributes).toMatchObject({ "gen_ai.tool.type": "function" });

    const failing = await run([{ error: { status: 400, message: "bad request from the provider" } }]);
    expect((await ended(failing)).status).toBe("failed");
    const failed = await trace(failing);
    const sent = await exported(failed.traceId, failed.spans.length);
    const root = sent.find((span) => !span.parentSpanId)!;
    expect(root.status.code).toBe(2); // ERROR
    expect(root.status.message).toBe(failed.spans.find((span) => span.name === "run").error);
    expect(root.attributes).toMatchObject({ "agentd.run.status": "failed", "error.type": "error_model" });
    const step = sent.find((span) => span.attributes["gen_ai.operation.name"] === "chat")!;
    expect(step.status.code).toBe(2);
    expect(step.attributes["error.type"]).toBe("model_error");
  });
});

describe("a collector that never answers", () => {
  it("fails no run, costs them no time, and holds close() for at most its timeout; failures are logged, once", async () => {
    const otlp = await collector({ hang: true });
    const lines: string[] = [];
    let model = playing([]);
    const models = modelsOf(() => model);
    const t = await startTestServer({
      config,
      models,
      logger: createLogger("info", (line) => lines.push(line)),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_TIMEOUT: "200", OTEL_BSP_SCHEDULE_DELAY: "10" },
    });
    try {
      for (let i = 0; i < 5; i++) {
        model = playing([{ toolCalls: [{ name: "lookup", args: { q: "a" } }] }]);
        const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools });
        const started = Date.now();
        const done = await eventually(async () => {
          const snapshot = (await t.request("GET", `/agent-runs/${body.runId}`)).body;
          return snapshot.status === "completed" ? snapshot : undefined;
        });
        expect(done.status).toBe("completed");
        expect(Date.now() - started).toBeLessThan(1_000);
      }
      await eventually(() => (lines.some((line) => line.includes("OpenTelemetry export: spans were not delivered")) ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      const closing = Date.now();
      await t.close();
      expect(Date.now() - closing).toBeLessThan(6_000);
      await otlp.close();
    }
    const failures = lines.filter((line) => line.includes("spans were not delivered"));
    // The first at once, then at most one a minute (and what is left at close).
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.length).toBeLessThanOrEqual(2);
    expect(JSON.parse(failures[0]!)).toMatchObject({ level: "warn", failures: expect.any(Number) });
  });
});

/*
 * Whether @opentelemetry is loaded is asked of a real process: a child
 * importing the built server, run with a hook that records every module it
 * loads (ESM through a loader hook, CommonJS through require.cache). With
 * the endpoint set, the same child must show them loaded: the check can fail.
 */
const here = fileURLToPath(new URL(".", import.meta.url));
const child = join(here, "fixtures", "otel-child.mjs");
const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

async function childModules(env: Record<string, string>): Promise<{ modules: string[]; out: Record<string, unknown> }> {
  const dir = tempDir();
  const modulesFile = join(dir, "modules.txt");
  const proc = spawn(process.execPath, ["--import", join(here, "fixtures", "otel-probe.mjs"), child], {
    env: { PATH: process.env.PATH ?? "", AGENTD_DATA_DIR: dir, OTEL_PROBE_OUT: modulesFile, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
  expect(code, stderr).toBe(0);
  const modules = readFileSync(modulesFile, "utf8").split("\n").filter(Boolean);
  return { modules, out: JSON.parse(stdout.trim().split("\n").at(-1)!) };
}

// prom-client (the /metrics registry) loads @opentelemetry/api itself, for exemplars: the export's packages are the others.
const exportPackage = /@opentelemetry[\\/](?!api[\\/])/;

if (!existsSync(dist)) throw new Error("packages/server/dist is missing: run `npm run build` (npm test does it)");

describe("the export off (no OTLP endpoint): none of its packages load", () => {
  it("a process that serves runs loads no @opentelemetry package but prom-client's api; with an endpoint it does", async () => {
    const off = await childModules({});
    expect(off.out).toMatchObject({ status: "completed" });
    expect(off.modules.length).toBeGreaterThan(50);
    expect(off.modules.filter((url) => exportPackage.test(url))).toEqual([]);

    const otlp = await collector();
    try {
      const on = await childModules({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: "10" });
      expect(on.out).toMatchObject({ status: "completed" });
      const loaded = on.modules.filter((url) => exportPackage.test(url));
      for (const name of ["exporter-trace-otlp-http", "sdk-trace-base", "resources", "semantic-conventions"]) {
        expect(
          loaded.some((url) => url.includes(`@opentelemetry/${name}/`)),
          name,
        ).toBe(true);
      }
      // The child closed its server: the close flushed the run's spans to the collector.
      expect(otlp.received.spans.some((span) => span.traceId === on.out.traceId && !span.parentSpanId)).toBe(true);
    } finally {
      await otlp.close();
    }
  }, 60_000);
});
