import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "@agentd/server";
import { registryOf, scriptedModel, type ScriptedReply } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { eventually, readStream, startTestServer, type TestServer } from "../helpers.js";

/** A model that plays a list of turns, then echoes the last tool results it saw. */
function playing(turns: ScriptedReply[]) {
  return scriptedModel((request: ModelStepRequest, call: number) => {
    if (call < turns.length) return turns[call]!;
    const results = request.messages.filter((message) => message.role === "tool");
    return { text: `saw ${results.map((message) => (message.role === "tool" ? (message.error ? `error:${message.error}` : message.result) : "")).join(" | ")}` };
  });
}

const calls: Array<{ name: string; args: unknown; dependencies: unknown }> = [];
let aborted = 0;
const config = {
  tools: [
    defineTool({
      name: "add",
      description: "Adds two numbers",
      parameters: z.object({ a: z.number(), b: z.number() }),
      execute: (args: Record<string, unknown>, context) => {
        calls.push({ name: "add", args, dependencies: context.dependencies });
        return { sum: (args.a as number) + (args.b as number) };
      },
    }),
    defineTool({
      name: "slow",
      parameters: { type: "object", properties: { ms: { type: "number" } }, required: ["ms"] },
      execute: (args: Record<string, unknown>, { signal }) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve(`slept ${String(args.ms)}`), args.ms as number);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            aborted++;
            reject(new Error("aborted"));
          });
        }),
    }),
    defineTool({ name: "explode", execute: () => Promise.reject(new Error("kaboom")) }),
    defineTool({ name: "bigint", execute: () => ({ n: 10n }) }),
  ],
};
const tools = [
  { kind: "code", name: "add" },
  { kind: "code", name: "slow" },
  { kind: "code", name: "explode" },
  { kind: "code", name: "bigint" },
];

describe("server tools (code tools from the config)", () => {
  let t: TestServer;
  let model = playing([]);
  beforeAll(async () => {
    t = await startTestServer({ config, models: { catalog: () => registryOf(model).catalog(), resolve: () => model } });
  });
  afterAll(() => t.close());

  async function run(turns: ScriptedReply[], extra: Record<string, unknown> = {}) {
    model = playing(turns);
    const { body, status } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools, ...extra });
    expect(status).toBe(202);
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    return { runId: body.runId as string, events: frames.map((frame) => frame.data), model };
  }

  it("runs a code tool with the run's dependencies, reports tool_call / tool_result, and the model sees the result", async () => {
    calls.length = 0;
    const { events, model: used } = await run([{ toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] }], { dependencies: { tenant: "acme", secret: "s3cret" } });
    expect(calls).toEqual([{ name: "add", args: { a: 2, b: 3 }, dependencies: { tenant: "acme", secret: "s3cret" } }]);
    const call = events.find((event) => event.type === "tool_call");
    const result = events.find((event) => event.type === "tool_result");
    expect(call).toMatchObject({ name: "add", args: { a: 2, b: 3 } });
    expect(result).toMatchObject({ toolUseId: call.toolUseId, name: "add", ok: true, summary: '{"sum":5}' });
    expect(typeof result.durationMs).toBe("number");
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success", text: 'saw {"sum":5}' });
    // dependencies never reach the model
    expect(JSON.stringify(used.calls)).not.toContain("s3cret");
  });

  it("runs the server calls of one turn concurrently, bounded by budgets.toolConcurrency", async () => {
    const three = { toolCalls: [1, 2, 3].map((n) => ({ name: "slow", args: { ms: 150 + n } })) };
    let started = Date.now();
    await run([three]);
    const parallel = Date.now() - started;
    started = Date.now();
    await run([three], { budgets: { toolConcurrency: 1 } });
    const serial = Date.now() - started;
    expect(parallel).toBeLessThan(400);
    expect(serial).toBeGreaterThanOrEqual(450);
  });

  it("does not call a tool whose arguments fail its schema; the model gets the validation error", async () => {
    calls.length = 0;
    const { events } = await run([{ toolCalls: [{ name: "add", args: { a: "two", b: 3 } }] }]);
    expect(calls).toEqual([]);
    expect(events.at(-1).text).toMatch(/error:invalid arguments for tool 'add': a: must be number/);
  });

  it("a tool that throws, a result that is not JSON, and an unknown tool are errors for the model; the run goes on", async () => {
    const { events } = await run([{ toolCalls: [{ name: "explode" }, { name: "bigint" }, { name: "nope" }] }]);
    const results = events.filter((event) => event.type === "tool_result");
    expect(results.map((event) => [event.name, event.ok])).toEqual(expect.arrayContaining([["explode", false], ["bigint", false]]));
    const text = events.at(-1).text as string;
    expect(text).toContain("error:kaboom");
    expect(text).toContain("not JSON-serialisable");
    expect(text).toContain("unknown tool 'nope'");
    expect(events.at(-1).subtype).toBe("success");
  });

  it("cancel reaches a running server tool through its abort signal", async () => {
    model = playing([{ toolCalls: [{ name: "slow", args: { ms: 10_000 } }] }]);
    const before = aborted;
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools });
    await eventually(async () => ((await t.request("GET", `/agent-runs/${body.runId}`)).body.lastSeq >= 3 ? true : undefined));
    await t.request("POST", `/agent-runs/${body.runId}/cancel`);
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    expect(frames.at(-1)!.data.type).toBe("cancelled");
    await eventually(() => (aborted > before ? true : undefined));
  });

  it("per-tool call limits refuse the extra call and tell the model", async () => {
    const { events } = await run([{ toolCalls: [{ name: "add", args: { a: 1, b: 1 } }, { name: "add", args: { a: 1, b: 2 } }] }], { budgets: { toolCallLimits: { add: 1 } } });
    expect(events.at(-1).text).toContain("may be called at most 1 times");
  });

  it("the loop guard ends a run that repeats the same call", async () => {
    const same = { toolCalls: [{ name: "add", args: { a: 1, b: 1 } }] };
    const { events } = await run([same, same, same, same], { budgets: { loopGuard: 3 } });
    expect(events.find((event) => event.type === "loop_detected")).toMatchObject({ name: "add", repeats: 3 });
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "error_loop_detected" });
  });

  it("the wall-clock budget ends a run that takes too long", async () => {
    const { events } = await run([{ hang: true }], { budgets: { maxDurationMs: 200 } });
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "error_timeout" });
  });

  it("bad tool definitions are refused when the run is defined", async () => {
    const unknown = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: [{ kind: "code", name: "missing" }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("tools.0.name");
    const badSchema = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: [{ kind: "local", name: "t", parameters: { type: "array" } }] });
    expect(badSchema.status).toBe(400);
    expect(badSchema.body.error).toContain("tools.0.parameters");
    const badOutput = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", outputSchema: { type: "object", properties: { a: { type: "nonsense" } } } });
    expect(badOutput.status).toBe(400);
    expect(badOutput.body.error).toContain("outputSchema");
  });
});

describe("structured output", () => {
  let t: TestServer;
  let model = playing([]);
  beforeAll(async () => {
    t = await startTestServer({ models: { catalog: () => registryOf(model).catalog(), resolve: () => model } });
  });
  afterAll(() => t.close());
  const outputSchema = { type: "object", properties: { answer: { type: "string" }, confidence: { type: "number" } }, required: ["answer", "confidence"], additionalProperties: false };

  async function run(turns: ScriptedReply[]) {
    model = playing(turns);
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "capital of France?", outputSchema });
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    return { runId: body.runId as string, events: frames.map((frame) => frame.data) };
  }

  it("returns the validated object as output, tells the model the schema", async () => {
    const { runId, events } = await run([{ text: '```json\n{"answer": "Paris", "confidence": 0.9}\n```' }]);
    expect(events.at(-1)).toMatchObject({ subtype: "success", output: { answer: "Paris", confidence: 0.9 }, text: '{"answer":"Paris","confidence":0.9}' });
    expect(model.calls[0]!.system).toContain('"required":["answer","confidence"]');
    expect((await t.request("GET", `/agent-runs/${runId}`)).body.output).toEqual({ answer: "Paris", confidence: 0.9 });
  });

  it("gives one repair turn on a mismatch", async () => {
    const { events } = await run([{ text: '{"answer": "Paris"}' }, { text: '{"answer": "Paris", "confidence": 1}' }]);
    expect(events.at(-1)).toMatchObject({ subtype: "success", output: { answer: "Paris", confidence: 1 } });
    const repair = model.calls[1]!.messages.at(-1)!;
    expect(repair.role).toBe("user");
    expect(repair.role === "user" && repair.content).toContain("confidence");
  });

  it("ends with error_output_schema and the validation errors when the repair fails too", async () => {
    const { events } = await run([{ text: "Paris!" }, { text: '{"answer": 3, "confidence": 1}' }]);
    const result = events.at(-1);
    expect(result).toMatchObject({ type: "result", subtype: "error_output_schema" });
    expect(result.issues).toEqual([{ path: "answer", message: "must be string" }]);
  });
});

describe("HTTP tools through the engine", () => {
  it("calls an allowlisted endpoint and refuses one that is not, without sending it anything", async () => {
    const { createServer: createHttpServer } = await import("node:http");
    const hits = { target: 0, sentinel: 0 };
    const received: string[] = [];
    const listen = (name: "target" | "sentinel") =>
      new Promise<{ port: number; close: () => void }>((resolve) => {
        const server = createHttpServer((req, res) => {
          hits[name]++;
          res.setHeader("content-type", "application/json");
          if (name === "target") received.push(req.headers.authorization ?? "");
          res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }));
        }).listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, close: () => server.close() }));
      });
    const target = await listen("target");
    const sentinel = await listen("sentinel");
    const model = playing([
      {
        toolCalls: [
          { name: "weather", args: { city: "São Paulo" } },
          { name: "internal", args: {} },
        ],
      },
    ]);
    // Tools that read the environment or reach private addresses are the
    // operator's to define (issue #8): they live in a config agent.
    const t = await startTestServer({
      config: {
        httpTools: { allow: [`127.0.0.1:${target.port}`] },
        agents: {
          weatherman: {
            systemPrompt: "x",
            tools: [
              {
                kind: "http",
                name: "weather",
                description: "Weather for a city",
                method: "GET",
                url: `http://127.0.0.1:${target.port}/weather/{city}`,
                headers: { authorization: { env: "WEATHER_TOKEN", prefix: "Bearer " } },
                parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
              },
              { kind: "http", name: "internal", method: "GET", url: `http://localhost:${sentinel.port}/admin` },
            ],
          },
        },
      },
      env: { WEATHER_TOKEN: "tok-123" },
      models: { catalog: () => registryOf(model).catalog(), resolve: () => model },
    });
    try {
      const { body } = await t.request("POST", "/agent-runs", { agentId: "weatherman", prompt: "go" });
      const { frames } = await readStream(t.url + body.streamUrl, t.key);
      const text = frames.at(-1)!.data.text as string;
      expect(text).toContain('"path":"/weather/S%C3%A3o%20Paulo"');
      // the token was sent; the echo of it is redacted before the model sees it
      expect(text).toContain('"auth":"[redacted]"');
      expect(text).toMatch(/error:.*loopback/);
      expect(hits).toEqual({ target: 1, sentinel: 0 });
      expect(received).toEqual(["Bearer tok-123"]);
      // the secret is read at call time: the stored spec and the tool_call events hold only its variable's name
      const snapshot = await t.request("GET", `/agent-runs/${body.runId}`);
      expect(JSON.stringify(snapshot.body.agentSpec)).not.toContain("tok-123");
      expect(JSON.stringify(snapshot.body.agentSpec)).toContain("WEATHER_TOKEN");
      expect(JSON.stringify(frames.filter((frame) => frame.data.type === "tool_call"))).not.toContain("tok-123");
    } finally {
      await t.close();
      target.close();
      sentinel.close();
    }
  });
});

describe("MCP tools through the engine", () => {
  const fixture = new URL("../tools/fixtures/mcp-stdio-server.mjs", import.meta.url).pathname;

  it("offers the MCP tool to the model with the server's description and schema, and calls it", async () => {
    const model = playing([{ toolCalls: [{ name: "sum", args: { a: 2, b: 40 } }] }]);
    const t = await startTestServer({
      config: { mcpServers: { calc: { command: process.execPath, args: [fixture] } } },
      models: { catalog: () => registryOf(model).catalog(), resolve: () => model },
    });
    try {
      const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: [{ kind: "mcp", name: "sum", server: "calc", tool: "add" }] });
      const { frames } = await readStream(t.url + body.streamUrl, t.key);
      expect(frames.at(-1)!.data).toMatchObject({ subtype: "success", text: "saw 42" });
      const offered = model.calls[0]!.tools.find((tool) => tool.name === "sum")!;
      expect(offered.description).toBe("Adds two numbers");
      expect(offered.parameters).toMatchObject({ type: "object", properties: { a: { type: "number" } } });
    } finally {
      await t.close();
    }
  });

  it("a server that cannot start fails the run with a message naming it", async () => {
    const model = playing([{ text: "unused" }]);
    const t = await startTestServer({
      config: { mcpServers: { broken: { command: "/nonexistent/mcp-server" } } },
      models: { catalog: () => registryOf(model).catalog(), resolve: () => model },
    });
    try {
      const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: [{ kind: "mcp", name: "x", server: "broken", tool: "x" }] });
      const { frames } = await readStream(t.url + body.streamUrl, t.key);
      expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "error_tool_unavailable" });
      expect(frames.at(-1)!.data.error).toContain("MCP server 'broken'");
    } finally {
      await t.close();
    }
  });
});
