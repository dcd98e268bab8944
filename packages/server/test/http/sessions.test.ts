import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeProvider, type FakeProvider } from "@agentd/server/testing";
import { eventually, readStream, startTestServer, type TestServer } from "../helpers.js";

describe("sessions", () => {
  let t: TestServer;
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider();
    t = await startTestServer({
      config: {
        providers: [{ name: "fake", type: "openai-compatible", baseUrl: fake.openaiBaseUrl, apiKey: "test", models: [{ id: "fake-1" }] }],
        defaultModelId: "provider:fake:fake-1",
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it("carries history across messages and appends the turns on success", async () => {
    const created = await t.request("POST", "/agent-sessions", { systemPrompt: "Be brief.", name: "chat", metadata: { customer: "acme" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ sessionId: expect.stringMatching(/^ses_/), name: "chat", createdAt: expect.any(String) });
    const id = created.body.sessionId;

    fake.script([{ text: "Hi Alice." }, { text: "Your name is Alice." }]);
    const first = await t.request("POST", `/agent-sessions/${id}/messages`, { prompt: "My name is Alice" });
    expect(first.status).toBe(202);
    await readStream(t.url + first.body.streamUrl, t.key);
    const second = await t.request("POST", `/agent-sessions/${id}/messages`, { prompt: "What is my name?", metadata: { turn: "2" } });
    const { frames } = await readStream(t.url + second.body.streamUrl, t.key);
    expect(frames.at(-1)!.data.text).toBe("Your name is Alice.");

    // the provider saw the first exchange before the new prompt
    const sent = fake.requests.at(-1)!.body.messages.map((message: any) => [message.role, message.content]);
    expect(sent).toEqual([
      ["system", "Be brief."],
      ["user", "My name is Alice"],
      ["assistant", "Hi Alice."],
      ["user", "What is my name?"],
    ]);

    const info = await t.request("GET", `/agent-sessions/${id}`);
    expect(info.body).toMatchObject({
      id,
      name: "chat",
      status: "active",
      endedAt: null,
      metadata: { customer: "acme" },
      activeRunId: null,
      messages: [
        { role: "user", content: "My name is Alice" },
        { role: "assistant", content: "Hi Alice." },
        { role: "user", content: "What is my name?" },
        { role: "assistant", content: "Your name is Alice." },
      ],
    });
    // metadata: session ⊕ message override, snapshotted on the run
    expect((await t.request("GET", `/agent-runs/${second.body.runId}`)).body.metadata).toEqual({ customer: "acme", turn: "2" });
  });

  it("one run at a time: a second concurrent message gets 409 session_busy; DELETE ends it and cancels the run", async () => {
    const { body } = await t.request("POST", "/agent-sessions", { systemPrompt: "x" });
    fake.script({ hang: true });
    const first = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "slow" });
    expect(first.status).toBe(202);
    const busy = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "again" });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe("session_busy");

    const ended = await t.request("DELETE", `/agent-sessions/${body.sessionId}`);
    expect(ended.status).toBe(200);
    const { frames } = await readStream(t.url + first.body.streamUrl, t.key);
    expect(frames.at(-1)!.data.type).toBe("cancelled");
    const info = await t.request("GET", `/agent-sessions/${body.sessionId}`);
    expect(info.body.status).toBe("ended");
    expect(info.body.endedAt).not.toBeNull();
    const after = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "hello?" });
    expect(after.status).toBe(409);
    expect(after.body.code).toBe("session_ended");
    expect((await t.request("DELETE", `/agent-sessions/${body.sessionId}`)).status).toBe(200);
  });

  it("a failed run frees the session without adding to its history", async () => {
    const { body } = await t.request("POST", "/agent-sessions", { systemPrompt: "x" });
    fake.script({ error: { status: 500, message: "upstream exploded" } });
    const run = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "fail please" });
    const { frames } = await readStream(t.url + run.body.streamUrl, t.key);
    expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "error_model" });
    const info = await eventually(async () => {
      const response = await t.request("GET", `/agent-sessions/${body.sessionId}`);
      return response.body.activeRunId === null ? response.body : undefined;
    });
    expect(info.messages).toEqual([]);
    fake.script({ text: "fine now" });
    const retry = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "again" });
    expect(retry.status).toBe(202);
  });

  it("validates session requests naming the field", async () => {
    expect((await t.request("POST", "/agent-sessions", { systemPrompt: "x", prompt: "no prompt here" })).body.error).toContain("prompt");
    expect((await t.request("POST", "/agent-sessions", {})).body.error).toContain("systemPrompt");
    const { body } = await t.request("POST", "/agent-sessions", { systemPrompt: "x" });
    const empty = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "" });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toContain("prompt");
    expect((await t.request("GET", "/agent-sessions/ses_missing")).status).toBe(404);
    expect((await t.request("POST", "/agent-sessions/ses_missing/messages", { prompt: "x" })).status).toBe(404);
  });
});

describe("provider behaviour through the engine", () => {
  let t: TestServer;
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider();
    t = await startTestServer({
      config: {
        providers: [
          { name: "fake", type: "openai-compatible", baseUrl: fake.openaiBaseUrl, apiKey: "test", models: [{ id: "fake-1" }] },
          { name: "down", type: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1", apiKey: "test", models: [{ id: "down-1" }] },
        ],
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it("a provider HTTP error ends the run with error_model and the provider's message", async () => {
    fake.script({ error: { status: 401, message: "Incorrect API key provided" } });
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "provider:fake:fake-1", prompt: "hi" });
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    const result = frames.at(-1)!.data;
    expect(result).toMatchObject({ type: "result", subtype: "error_model" });
    expect(result.error).toContain("Incorrect API key provided");
  });

  it("an unreachable provider ends the run with error_model, never a silent EOF", async () => {
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "provider:down:down-1", prompt: "hi" });
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "error_model" });
    expect(frames.at(-1)!.data.error).toMatch(/down/);
  });

  it("cancel aborts the in-flight model call and the stream ends with cancelled", async () => {
    fake.script({ hang: true });
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "provider:fake:fake-1", prompt: "hang" });
    const streaming = readStream(t.url + body.streamUrl, t.key);
    await eventually(async () => ((await t.request("GET", `/agent-runs/${body.runId}`)).body.status === "running" ? true : undefined));
    const started = Date.now();
    await t.request("POST", `/agent-runs/${body.runId}/cancel`, { reason: "user pressed stop" });
    const { frames } = await streaming;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(frames.at(-1)!.data).toMatchObject({ type: "cancelled", reason: "user pressed stop" });
  });

  it("streams the provider's deltas in order and reports usage", async () => {
    fake.script({ text: "alpha beta gamma" });
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "fake-1", prompt: "hi" });
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    const text = frames.filter((frame) => frame.data.type === "assistant_delta").map((frame) => frame.data.text).join("");
    expect(text).toBe("alpha beta gamma");
    expect(frames.at(-1)!.data.usage.totalTokens).toBeGreaterThan(0);
  });

  it("stops at budgets.maxToolTurns", async () => {
    fake.script(() => ({ toolCalls: [{ name: "again", args: {} }] }));
    const { body } = await t.request("POST", "/agent-runs", {
      systemPrompt: "x",
      modelId: "fake-1",
      prompt: "loop",
      budgets: { maxToolTurns: 2 },
      tools: [{ kind: "local", name: "again" }],
    });
    const stream = readStream(t.url + body.streamUrl, t.key);
    for (let answered = 0; answered < 2; ) {
      const snapshot = await t.request("GET", `/agent-runs/${body.runId}`);
      const call = snapshot.body.pendingToolCalls[0];
      if (call) {
        await t.request("POST", `/agent-runs/${body.runId}/tool-results`, { toolUseId: call.toolUseId, result: "ok" });
        answered++;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const { frames } = await stream;
    expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "error_max_tool_turns" });
    expect(frames.filter((frame) => frame.data.type === "local_tool_call")).toHaveLength(2);
    fake.script({ text: "done" });
  });
});

describe("session concurrency policy", () => {
  it("onBusy: enqueue runs the message after the current one, on the history it left; the snapshot shows the queue", async () => {
    const { registryOf, scriptedModel } = await import("@agentd/server/testing");
    const model = scriptedModel([{ text: "first answer", chunkDelayMs: 60 }, { text: "second answer" }, { text: "third answer" }]);
    const t = await startTestServer({ models: { catalog: () => registryOf(model).catalog(), resolve: () => model } });
    try {
      const { body } = await t.request("POST", "/agent-sessions", { systemPrompt: "x" });
      const id = body.sessionId;
      const first = await t.request("POST", `/agent-sessions/${id}/messages`, { prompt: "one" });
      const second = await t.request("POST", `/agent-sessions/${id}/messages`, { prompt: "two", onBusy: "enqueue" });
      const third = await t.request("POST", `/agent-sessions/${id}/messages`, { prompt: "three", onBusy: "enqueue" });
      const rejected = await t.request("POST", `/agent-sessions/${id}/messages`, { prompt: "four" });
      expect([first.status, second.status, third.status, rejected.status]).toEqual([202, 202, 202, 409]);
      const info = await t.request("GET", `/agent-sessions/${id}`);
      expect(info.body.activeRunId).toBe(first.body.runId);
      expect(info.body.queuedRunIds).toEqual([second.body.runId, third.body.runId]);
      expect((await t.request("GET", `/agent-runs/${second.body.runId}`)).body.status).toBe("queued");

      const last = await readStream(t.url + third.body.streamUrl, t.key);
      expect(last.frames.at(-1)!.data.text).toBe("third answer");
      // each queued run saw the turns before it
      expect(model.calls[2]!.messages.map((message) => (message.role === "user" || message.role === "assistant" ? message.content : ""))).toEqual([
        "one",
        "first answer",
        "two",
        "second answer",
        "three",
      ]);
      const after = await t.request("GET", `/agent-sessions/${id}`);
      expect(after.body.queuedRunIds).toEqual([]);
      expect(after.body.messages).toHaveLength(6);
    } finally {
      await t.close();
    }
  });

  it("ending the session cancels its queued runs too", async () => {
    const { registryOf, scriptedModel } = await import("@agentd/server/testing");
    const model = scriptedModel(() => ({ hang: true }));
    const t = await startTestServer({ models: { catalog: () => registryOf(model).catalog(), resolve: () => model } });
    try {
      const { body } = await t.request("POST", "/agent-sessions", { systemPrompt: "x" });
      await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "one" });
      const queued = await t.request("POST", `/agent-sessions/${body.sessionId}/messages`, { prompt: "two", onBusy: "enqueue" });
      await t.request("DELETE", `/agent-sessions/${body.sessionId}`);
      const { frames } = await readStream(t.url + queued.body.streamUrl, t.key);
      expect(frames.map((frame) => frame.data.type)).toEqual(["cancelled"]);
      expect((await t.request("GET", `/agent-runs/${queued.body.runId}`)).body.status).toBe("cancelled");
    } finally {
      await t.close();
    }
  });
});
