import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers.js";

const agent = { systemPrompt: "You are a test agent.", modelId: "mock" };

describe("auth", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it("401 without a key or with a wrong one; X-API-Key works like Bearer", async () => {
    const none = await fetch(t.api("/models"));
    expect(none.status).toBe(401);
    const noneBody = await none.json();
    expect(noneBody).toMatchObject({ code: "unauthorized" });
    expect(typeof noneBody.error).toBe("string");
    expect(noneBody.message).toBe(noneBody.error);
    expect((await fetch(t.api("/models"), { headers: { authorization: "Bearer agd_wrong" } })).status).toBe(401);
    expect((await fetch(t.api("/models"), { headers: { "x-api-key": t.key } })).status).toBe(200);
  });

  it("a key used on another workspace's URL gets 404", async () => {
    const response = await fetch(`${t.url}/api/v1/workspaces/other/models`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(response.status).toBe(404);
    expect((await response.json()).code).toBe("not_found");
  });
});

describe("bad input gets a clear error naming the field, never a 500", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => t.close());

  const cases: Array<[string, unknown, string, string]> = [
    ["malformed JSON", "{not json", "invalid_json", "JSON"],
    ["empty body", "", "invalid_json", "empty"],
    ["a JSON array", "[]", "invalid_request", "(body)"],
    ["unknown field", { ...agent, prompt: "x", promt: "typo" }, "invalid_request", "promt"],
    ["missing prompt and messages", { ...agent }, "invalid_request", "prompt"],
    ["both prompt and messages", { ...agent, prompt: "x", messages: [{ role: "user", content: "y" }] }, "invalid_request", "messages"],
    ["no systemPrompt or agentId", { modelId: "mock", prompt: "x" }, "invalid_request", "systemPrompt"],
    ["wrong type", { ...agent, prompt: 42 }, "invalid_request", "prompt"],
    ["bad message role", { ...agent, messages: [{ role: "robot", content: "x" }] }, "invalid_request", "messages.0.role"],
    ["17 metadata entries", { ...agent, prompt: "x", metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, "invalid_request", "metadata"],
    ["bad metadata key", { ...agent, prompt: "x", metadata: { "bad key!": "v" } }, "invalid_request", "metadata.bad key!"],
    ["long metadata value", { ...agent, prompt: "x", metadata: { k: "v".repeat(257) } }, "invalid_request", "metadata.k"],
    ["non-string metadata value", { ...agent, prompt: "x", metadata: { k: 1 } }, "invalid_request", "metadata.k"],
    [
      "metadata over 4 KB",
      { ...agent, prompt: "x", metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`key_${i}`, "v".repeat(250)])) },
      "invalid_request",
      "4096",
    ],
    ["unknown model", { ...agent, modelId: "no-such-model", prompt: "x" }, "invalid_model", "no-such-model"],
    ["unsupported tool kind", { ...agent, prompt: "x", tools: [{ kind: "mantyx", id: "t1" }] }, "invalid_request", "tools.0"],
    ["an unknown MCP server", { ...agent, prompt: "x", tools: [{ kind: "mcp", name: "t", server: "files", tool: "read" }] }, "invalid_request", "tools.0.server"],
    ["bad tool name", { ...agent, prompt: "x", tools: [{ kind: "local", name: "bad name" }] }, "invalid_request", "tools.0.name"],
    ["non-object tool schema", { ...agent, prompt: "x", tools: [{ kind: "local", name: "t", parameters: { type: "string" } }] }, "invalid_request", "tools.0.parameters"],
    [
      "duplicate tool names",
      { ...agent, prompt: "x", tools: [{ kind: "local", name: "t" }, { kind: "local", name: "t" }] },
      "invalid_request",
      "tools.1.name",
    ],
    ["maxToolTurns negative", { ...agent, prompt: "x", budgets: { maxToolTurns: -1 } }, "invalid_request", "budgets.maxToolTurns"],
    ["temperature out of range", { ...agent, prompt: "x", modelParams: { temperature: 3 } }, "invalid_request", "modelParams.temperature"],
    ["unknown named agent", { agentId: "nobody", prompt: "x" }, "not_found", "nobody"],
  ];

  for (const [name, body, code, mentions] of cases) {
    it(`POST /agent-runs with ${name} → ${code} mentioning '${mentions}'`, async () => {
      const response = await t.request("POST", "/agent-runs", body);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(code === "not_implemented" ? 502 : 500);
      expect(response.body.code).toBe(code);
      expect(response.body.error).toContain(mentions);
    });
  }

  it("names the candidates of an unknown model", async () => {
    const response = await t.request("POST", "/agent-runs", { ...agent, modelId: "nope", prompt: "x" });
    expect(response.body.candidates).toEqual(expect.arrayContaining([expect.stringContaining("mock")]));
  });

  it("413 for a body over the limit, and the server keeps serving", async () => {
    const response = await t.request("POST", "/agent-runs", { ...agent, prompt: "x".repeat(100 * 1024) });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe("payload_too_large");
    expect((await t.request("GET", "/models")).status).toBe(200);
  });

  it("415 for a body that is not JSON", async () => {
    const response = await t.request("POST", "/agent-runs", "prompt=x", { "content-type": "text/plain" });
    expect(response.status).toBe(415);
  });

  it("unknown routes and runs are 404 JSON; wrong methods 405", async () => {
    const route = await t.request("GET", "/nothing-here");
    expect(route.status).toBe(404);
    expect(route.body.code).toBe("not_found");
    expect((await t.request("GET", "/agent-runs/run_missing")).status).toBe(404);
    expect((await t.request("POST", "/agent-runs/run_missing/cancel")).status).toBe(404);
    expect((await t.request("POST", "/agent-runs/run_missing/tool-results", { toolUseId: "x", result: "y" })).status).toBe(404);
    expect((await t.request("GET", "/agent-runs/run_missing/stream")).status).toBe(404);
    expect((await fetch(`${t.url}/nope`)).status).toBe(404);
    expect((await t.request("PUT", "/agent-runs")).status).toBe(405);
  });

  it("tool-results need exactly one of result or error, as a string", async () => {
    const run = await t.request("POST", "/agent-runs", { ...agent, prompt: "x" });
    for (const body of [{ toolUseId: "a" }, { toolUseId: "a", result: "x", error: "y" }, { toolUseId: "a", result: { x: 1 } }, { result: "x" }]) {
      const response = await t.request("POST", `/agent-runs/${run.body.runId}/tool-results`, body);
      expect(response.status).toBe(400);
      expect(response.body.issues.length).toBeGreaterThan(0);
    }
  });

  it("GET /agent-runs lists runs (no longer 501); a bad parameter is a 400 naming it", async () => {
    const created = await t.request("POST", "/agent-runs", { ...agent, prompt: "x", metadata: { probe: "list" } });
    const response = await t.request("GET", "/agent-runs?metadata=probe:list&limit=1");
    expect(response.status).toBe(200);
    expect(response.body.runs.map((run: { id: string }) => run.id)).toEqual([created.body.runId]);
    const bad = await t.request("GET", "/agent-runs?status=nope");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "invalid_request", issues: [{ path: "status" }] });
    expect(bad.body.error).toContain("status: invalid value 'nope'");
  });

  it("serves /healthz and /openapi.json without a key", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const doc = await (await fetch(`${t.url}/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/v1/workspaces/{workspace}/agent-runs/{runId}/tool-results");
    expect(doc.paths["/api/v1/workspaces/{workspace}/agent-runs"].post.requestBody.content["application/json"].schema.properties).toHaveProperty("prompt");
    const list = doc.paths["/api/v1/workspaces/{workspace}/agent-runs"].get;
    expect(list.parameters.map((param: { name: string }) => param.name)).toEqual(["workspace", "status", "agentId", "sessionId", "metadata", "createdAfter", "createdBefore", "limit", "cursor"]);
    expect(list.responses["200"].content["application/json"].schema.properties).toHaveProperty("nextCursor");
  });

  it("GET /models lists the catalog with the mock labelled as a mock", async () => {
    const response = await t.request("GET", "/models");
    expect(response.status).toBe(200);
    const mock = response.body.models.find((model: any) => model.provider === "mock");
    expect(mock).toMatchObject({ vendorModelId: "mock", mock: true });
    expect(mock.label.toLowerCase()).toContain("mock");
    expect(response.body.defaultModelId).toBe(mock.id);
  });
});
