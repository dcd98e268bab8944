import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "@agentd/server";
import { registryOf, scriptedModel } from "@agentd/server/testing";
import { eventually, startTestServer, type TestServer } from "../helpers.js";

/*
 * Issue #8: one key queued 2,000 runs in 11 s into an unbounded in-memory
 * queue. Now queued + running runs per workspace are capped (429 with
 * Retry-After), paused ones separately (429), and the process as a whole
 * (503 with Retry-After); deep or oversized input is a 400 naming the field,
 * never a 500, and the server keeps serving.
 */

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const hanging = () => {
  const model = scriptedModel({ hang: true });
  return { catalog: () => registryOf(model).catalog(), resolve: () => model };
};
const run = { systemPrompt: "You are a test agent.", prompt: "hi" };
/** A model that calls the local tool `ask`: every run of `paused` pauses. */
const asking = () => {
  const model = scriptedModel({ toolCalls: [{ name: "ask" }] });
  return { catalog: () => registryOf(model).catalog(), resolve: () => model };
};
const paused = { ...run, tools: [{ kind: "local", name: "ask" }] };

/** Creates `count` runs of `paused`, one at a time, each waited for until it is paused. */
async function pauseRuns(server: TestServer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const created = await server.request("POST", "/agent-runs", paused);
    expect(created.status).toBe(202);
    await eventually(async () => ((await server.request("GET", `/agent-runs/${created.body.runId}`)).body.status === "paused" ? true : undefined));
  }
}

describe("caps on runs", () => {
  it("a workspace's queued + running runs are capped: 429 rate_limited with Retry-After; another workspace is not affected", async () => {
    t = await startTestServer({ models: hanging(), config: { limits: { maxActiveRunsPerWorkspace: 20 } } });
    const answers = await Promise.all(Array.from({ length: 60 }, () => t!.request("POST", "/agent-runs", run)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(20);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(40);
    expect(refused[0]!.body).toMatchObject({ code: "rate_limited" });
    expect(refused[0]!.body.message).toMatch(/20 runs queued or running/);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);

    // Another workspace has its own cap.
    const { key } = await createApiKey(t.server.store, { workspace: "other" });
    const other = await fetch(`${t.url}/api/v1/workspaces/other/agent-runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(run),
    });
    expect(other.status).toBe(202);

    // Ending runs frees room.
    const ids = answers.filter((answer) => answer.status === 202).map((answer) => answer.body.runId as string);
    for (const id of ids.slice(0, 5)) expect((await t.request("POST", `/agent-runs/${id}/cancel`, {})).status).toBe(200);
    await eventually(async () => ((await t!.request("POST", "/agent-runs", run)).status === 202 ? true : undefined), 5_000);
  });

  it("paused runs are capped separately: they do not count as active, and past their own cap new runs get 429", async () => {
    t = await startTestServer({
      models: asking(),
      config: { limits: { maxActiveRunsPerWorkspace: 3, maxPausedRunsPerWorkspace: 5 } },
    });
    await pauseRuns(t, 5);
    // Five paused runs, over the active cap of 3: they hold no slot. But the paused cap is reached.
    const refused = await eventually(async () => {
      const answer = await t!.request("POST", "/agent-runs", paused);
      return answer.status === 429 ? answer : undefined;
    });
    expect(refused.body.message).toMatch(/5 paused runs/);
    expect(refused.headers.get("retry-after")).not.toBeNull();
  });

  it("one workspace's paused runs do not take the process: it meets its own 429, another workspace still runs", async () => {
    t = await startTestServer({
      models: asking(),
      config: { limits: { maxPausedRunsPerWorkspace: 5, maxQueuedRuns: 5 } },
    });
    await pauseRuns(t, 5);
    const refused = await eventually(async () => {
      const answer = await t!.request("POST", "/agent-runs", paused);
      return answer.status === 429 ? answer : undefined;
    });
    expect(refused.body.code).toBe("rate_limited");
    const { key } = await createApiKey(t.server.store, { workspace: "other" });
    const other = await fetch(`${t.url}/api/v1/workspaces/other/agent-runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(paused),
    });
    expect(other.status).toBe(202);
  });

  it("the process holds at most maxQueuedRuns: past it, 503 with Retry-After, and the server keeps serving", async () => {
    t = await startTestServer({ models: hanging(), config: { limits: { maxQueuedRuns: 10 } } });
    const answers = await Promise.all(Array.from({ length: 25 }, () => t!.request("POST", "/agent-runs", run)));
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(10);
    const full = answers.filter((answer) => answer.status === 503);
    expect(full).toHaveLength(15);
    expect(full[0]!.body).toMatchObject({ code: "unavailable" });
    expect(Number(full[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await t.request("GET", "/agent-runs?limit=100")).body.runs).toHaveLength(10);
  });
});

/** JSON text nested `depth` levels inside `inner`: built as text, since JSON.stringify of it would overflow. */
const nested = (depth: number, inner = "{}") => `${'{"a":'.repeat(depth)}${inner}${"}".repeat(depth)}`;

describe("deep and oversized input", () => {
  it("dependencies nested 5,000 deep, tool parameters 5,000 deep, a body 100,000 deep: 400 naming the field", async () => {
    t = await startTestServer({ maxBodyBytes: 4 * 1024 * 1024 });
    const cases: Array<[string, string]> = [
      [`{"systemPrompt":"x","prompt":"x","dependencies":${nested(5_000)}}`, "dependencies.a.a"],
      [`{"systemPrompt":"x","prompt":"x","tools":[{"kind":"local","name":"t","parameters":{"type":"object","properties":${nested(5_000)}}}]}`, "tools.0.parameters.properties.a"],
      [`{"systemPrompt":"x","prompt":"x","metadata":${"[".repeat(100_000)}${"]".repeat(100_000)}}`, "metadata.0.0"],
      [`{"systemPrompt":"x","prompt":"x","outputSchema":${nested(100)}}`, "outputSchema.a"],
    ];
    for (const [body, path] of cases) {
      const answer = await t.request("POST", "/agent-runs", body);
      expect(answer.status, path).toBe(400);
      expect(answer.body).toMatchObject({ code: "invalid_request" });
      expect(answer.body.issues[0].path.startsWith(path), `${answer.body.issues[0].path} starts with ${path}`).toBe(true);
      expect(answer.body.issues[0].message).toMatch(/nested more than 64 levels/);
    }
    const session = await t.request("POST", "/agent-sessions", `{"systemPrompt":"x","outputSchema":${nested(3_000)}}`);
    expect(session.status).toBe(400);
    expect((await t.request("POST", "/agent-runs", run)).status).toBe(202);
  });

  it("a lone surrogate is a 400 naming the field, not stored as U+FFFD; a proper pair is kept as sent", async () => {
    t = await startTestServer();
    const lone = await t.request("POST", "/agent-runs", '{"systemPrompt":"x","prompt":"x","metadata":{"k":"a\\ud800b"}}');
    expect(lone.status).toBe(400);
    expect(lone.body.issues[0].path).toBe("metadata.k");
    const key = await t.request("POST", "/agent-runs", '{"systemPrompt":"x","prompt":"x","dependencies":{"\\udc00":1}}');
    expect(key.status).toBe(400);
    const pair = await t.request("POST", "/agent-runs", '{"systemPrompt":"x","prompt":"smile \\ud83d\\ude00","modelId":"mock"}');
    expect(pair.status).toBe(202);
    const snapshot = await eventually(async () => {
      const got = await t!.request("GET", `/agent-runs/${pair.body.runId}`);
      return got.body.status === "completed" ? got.body : undefined;
    });
    expect(snapshot.text).toContain("smile \u{1F600}");
  });

  it("a request target the URL parser refuses gets a 400, and the server keeps serving", async () => {
    t = await startTestServer();
    const { port } = new URL(t.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => socket.end("GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it("requests node's parser refuses get the documented error body", async () => {
    t = await startTestServer();
    const { port } = new URL(t.url);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1", () => socket.write(text));
        let answer = "";
        socket.on("data", (chunk) => (answer += chunk.toString()));
        socket.on("close", () => resolve(answer));
        socket.on("error", reject);
      });
    const cases: Array<[string, number, string]> = [
      ["FUZZ /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid_request"],
      ["GET /healthz HTTP/1.1\r\nHost: a\r\nX: a\r\n  folded\r\n\r\n", 400, "invalid_request"],
      [`GET /healthz HTTP/1.1\r\nHost: a\r\nX: ${"h".repeat(20_000)}\r\n\r\n`, 431, "headers_too_large"],
      ["GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\nExpect: fuzz\r\n\r\n", 417, "expectation_failed"],
    ];
    for (const [request, status, code] of cases) {
      const answer = await raw(request);
      expect(answer.startsWith(`HTTP/1.1 ${status} `), answer.slice(0, 80)).toBe(true);
      const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4).replace(/\r\n0\r\n\r\n$/, "").replace(/^[0-9a-f]+\r\n/, ""));
      expect(body).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
    }
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it("the depth limit is configurable (limits.maxJsonDepth)", async () => {
    t = await startTestServer({ config: { limits: { maxJsonDepth: 8 } } });
    const answer = await t.request("POST", "/agent-runs", `{"systemPrompt":"x","prompt":"x","dependencies":${nested(8)}}`);
    expect(answer.status).toBe(400);
    expect(answer.body.issues[0].path).toBe("dependencies.a.a.a.a.a.a.a");
    expect((await t.request("POST", "/agent-runs", `{"systemPrompt":"x","prompt":"x","dependencies":${nested(6)}}`)).status).toBe(202);
  });

  it("tool schemas, output schemas and messages have size limits: 400 naming the field", async () => {
    t = await startTestServer({ maxBodyBytes: 4 * 1024 * 1024 });
    const big = Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`p${i}`, { type: "string", description: "d".repeat(80) }]));
    const cases: Array<[unknown, string]> = [
      [{ ...run, tools: [{ kind: "local", name: "t", parameters: { type: "object", properties: big } }] }, "tools.0.parameters"],
      [{ ...run, outputSchema: { type: "object", properties: big } }, "outputSchema"],
      [{ systemPrompt: "x", messages: [{ role: "user", content: "m".repeat(1_000_001) }] }, "messages.0.content"],
    ];
    for (const [body, path] of cases) {
      const answer = await t.request("POST", "/agent-runs", body);
      expect(answer.status, path).toBe(400);
      expect(answer.body.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    }
  });
});
