import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStream, startTestServer, eventually, type TestServer } from "../helpers.js";

const agent = { systemPrompt: "You are a test agent.", modelId: "mock" };
const clockTool = {
  kind: "local",
  name: "get_time",
  description: "Current time",
  parameters: { type: "object", properties: { tz: { type: "string" } } },
};

describe("one-shot runs over HTTP (mock model)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: { localToolTimeoutMs: 60_000 } });
  });
  afterAll(() => t.close());

  it("POST /agent-runs answers 202 with runId and streamUrl; the stream carries the run to one terminal event", async () => {
    const created = await t.request("POST", "/agent-runs", { ...agent, prompt: "hello there" });
    expect(created.status).toBe(202);
    expect(created.body.runId).toMatch(/^run_/);
    expect(created.body.streamUrl).toBe(`/api/v1/workspaces/${t.workspace}/agent-runs/${created.body.runId}/stream`);

    const { frames, raw } = await readStream(t.url + created.body.streamUrl, t.key);
    const types = frames.map((frame) => frame.data.type);
    expect(types[0]).toBe("started");
    expect(types.at(-1)).toBe("result");
    expect(types.filter((type) => type === "result" || type === "cancelled")).toHaveLength(1);
    // seq gapless from 1, `id:` equals seq, `event:` equals type
    frames.forEach((frame, index) => {
      expect(frame.data.seq).toBe(index + 1);
      expect(frame.id).toBe(String(index + 1));
      expect(frame.event).toBe(frame.data.type);
    });
    const deltas = frames.filter((frame) => frame.data.type === "assistant_delta").map((frame) => frame.data.text).join("");
    const result = frames.at(-1)!.data;
    expect(result.subtype).toBe("success");
    expect(result.text).toBe(deltas);
    expect(result.text).toContain("hello there");
    // exact wire shape of the first frame: fields at the top level of data
    expect(raw.startsWith(`id: 1\nevent: started\ndata: {"seq":1,"at":"`)).toBe(true);

    const snapshot = await t.request("GET", `/agent-runs/${created.body.runId}`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.body).toMatchObject({ id: created.body.runId, status: "completed", text: result.text, subtype: "success", lastSeq: frames.length });
    expect(snapshot.body.usage.totalTokens).toBeGreaterThan(0);
  });

  it("replays exactly the later events by ?lastSeq= and by Last-Event-ID, to concurrent readers", async () => {
    const { body } = await t.request("POST", "/agent-runs", { ...agent, prompt: "one two three four five" });
    const full = await readStream(t.url + body.streamUrl, t.key);
    const all = full.frames.map((frame) => frame.data.seq);
    const [bySeq, byHeader, both] = await Promise.all([
      readStream(`${t.url}${body.streamUrl}?lastSeq=3`, t.key),
      readStream(t.url + body.streamUrl, t.key, { "last-event-id": "5" }),
      readStream(`${t.url}${body.streamUrl}?lastSeq=2`, t.key, { "last-event-id": "4" }),
    ]);
    expect(bySeq.frames.map((frame) => frame.data.seq)).toEqual(all.filter((seq) => seq > 3));
    expect(byHeader.frames.map((frame) => frame.data.seq)).toEqual(all.filter((seq) => seq > 5));
    expect(both.frames.map((frame) => frame.data.seq)).toEqual(all.filter((seq) => seq > 4));
    const atEnd = await readStream(`${t.url}${body.streamUrl}?lastSeq=${all.length}`, t.key);
    expect(atEnd.status).toBe(200);
    expect(atEnd.frames).toEqual([]);
  });

  it("rejects a malformed cursor naming it", async () => {
    const { body } = await t.request("POST", "/agent-runs", { ...agent, prompt: "x" });
    const response = await t.request("GET", `/agent-runs/${body.runId}/stream?lastSeq=abc`);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe("invalid_request");
    expect(response.body.error).toContain("lastSeq");
  });

  it("local tool round trip: pause on local_tool_call, resume on the POSTed result", async () => {
    const { body } = await t.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: 'call get_time {"tz":"UTC"}' });
    const runId = body.runId;
    const call = await eventually(async () => {
      const snapshot = await t.request("GET", `/agent-runs/${runId}`);
      return snapshot.body.status === "paused" ? snapshot.body.pendingToolCalls[0] : undefined;
    });
    expect(call).toMatchObject({ name: "get_time", args: { tz: "UTC" } });

    const unknown = await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: "nope", result: "x" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("unknown_tool_use");

    const accepted = await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: call.toolUseId, result: "12:00" });
    expect(accepted.status).toBe(200);
    const duplicate = await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: call.toolUseId, result: "13:00" });
    expect([404, 409]).toContain(duplicate.status);

    const { frames } = await readStream(`${t.url}${body.streamUrl}`, t.key);
    const types = frames.map((frame) => frame.data.type);
    expect(types).toContain("local_tool_call");
    const echo = frames.find((frame) => frame.data.type === "local_tool_result_in")!.data;
    expect(echo).toMatchObject({ toolUseId: call.toolUseId, result: "12:00" });
    const result = frames.at(-1)!.data;
    expect(result).toMatchObject({ type: "result", subtype: "success" });
    expect(result.text).toContain("12:00");
    expect(frames.filter((frame) => frame.data.type === "local_tool_result_in")).toHaveLength(1);

    const late = await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: call.toolUseId, result: "x" });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe("run_terminal");
  });

  it("HEAD on the stream of a paused run answers its head at once, with a cursor too (fuzz seed 995285 hung)", async () => {
    const { body } = await t.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time" });
    await eventually(async () => ((await t.request("GET", `/agent-runs/${body.runId}`)).body.status === "paused" ? true : undefined));
    for (const headers of [{}, { "last-event-id": "1" }] as Record<string, string>[]) {
      const response = await fetch(t.url + body.streamUrl, {
        method: "HEAD",
        headers: { authorization: `Bearer ${t.key}`, ...headers },
        signal: AbortSignal.timeout(2_000),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    }
    await t.request("POST", `/agent-runs/${body.runId}/cancel`, {});
  });

  it("a tool error reaches the model as an error, and the run goes on", async () => {
    const { body } = await t.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time" });
    const call = await eventually(async () => (await t.request("GET", `/agent-runs/${body.runId}`)).body.pendingToolCalls[0]);
    await t.request("POST", `/agent-runs/${body.runId}/tool-results`, { toolUseId: call.toolUseId, error: "clock is broken" });
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    expect(frames.at(-1)!.data.subtype).toBe("success");
    expect(frames.at(-1)!.data.text).toContain("clock is broken");
  });

  it("cancel is idempotent, ends a paused run with `cancelled`, and results after it are accepted and ignored", async () => {
    const { body } = await t.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time" });
    const call = await eventually(async () => (await t.request("GET", `/agent-runs/${body.runId}`)).body.pendingToolCalls[0]);
    const first = await t.request("POST", `/agent-runs/${body.runId}/cancel`);
    const second = await t.request("POST", `/agent-runs/${body.runId}/cancel`, { reason: "again" });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    expect(frames.at(-1)!.data.type).toBe("cancelled");
    expect(frames.filter((frame) => ["result", "cancelled"].includes(frame.data.type))).toHaveLength(1);
    const late = await t.request("POST", `/agent-runs/${body.runId}/tool-results`, { toolUseId: call.toolUseId, result: "x" });
    expect(late.status).toBe(200);
    expect(late.body.ignored).toBe(true);
    expect((await t.request("GET", `/agent-runs/${body.runId}`)).body.status).toBe("cancelled");
  });

  it("runs 20 runs concurrently, each to its own single terminal event", async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, index) => t.request("POST", "/agent-runs", { ...agent, prompt: `concurrent ${index}` })),
    );
    const streams = await Promise.all(created.map(({ body }) => readStream(t.url + body.streamUrl, t.key)));
    streams.forEach(({ frames }, index) => {
      expect(frames.map((frame) => frame.data.seq)).toEqual(frames.map((_, i) => i + 1));
      expect(frames.at(-1)!.data.text).toContain(`concurrent ${index}`);
    });
  });

  it("a retried POST with the same Idempotency-Key gets the first answer and starts no second run", async () => {
    const body = { ...agent, prompt: "only once" };
    const first = await t.request("POST", "/agent-runs", body, { "idempotency-key": "retry-1" });
    const again = await t.request("POST", "/agent-runs", body, { "idempotency-key": "retry-1" });
    const other = await t.request("POST", "/agent-runs", body, { "idempotency-key": "retry-2" });
    expect(first.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(other.body.runId).not.toBe(first.body.runId);
    const tooLong = await t.request("POST", "/agent-runs", body, { "idempotency-key": "k".repeat(300) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toContain("Idempotency-Key");
  });

  it("the mock answers a structured-output run with the simplest JSON that fits the schema", async () => {
    const outputSchema = {
      type: "object",
      properties: { city: { type: "string" }, population: { type: "integer", minimum: 1 }, tags: { type: "array", items: { type: "string" }, minItems: 1 }, kind: { enum: ["capital", "town"] } },
      required: ["city", "population"],
    };
    const { body } = await t.request("POST", "/agent-runs", { ...agent, prompt: "describe Paris", outputSchema });
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    expect(frames.at(-1)!.data).toMatchObject({ subtype: "success", output: { city: "mock", population: 1, tags: ["mock"], kind: "capital" } });
  });

  it("a run with `messages` instead of `prompt` sees the whole conversation", async () => {
    const { body, status } = await t.request("POST", "/agent-runs", {
      ...agent,
      messages: [
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "second" },
      ],
    });
    expect(status).toBe(202);
    const { frames } = await readStream(t.url + body.streamUrl, t.key);
    expect(frames.at(-1)!.data.text).toContain("second");
  });
});

describe("local tool deadline", () => {
  it("ends the run with error_local_tool_timeout when no result comes", async () => {
    const t = await startTestServer({ config: { localToolTimeoutMs: 150 } });
    try {
      const { body } = await t.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time" });
      const { frames } = await readStream(t.url + body.streamUrl, t.key);
      const result = frames.at(-1)!.data;
      expect(result).toMatchObject({ type: "result", subtype: "error_local_tool_timeout" });
      expect(result.error).toContain("get_time");
      expect((await t.request("GET", `/agent-runs/${body.runId}`)).body.status).toBe("failed");
    } finally {
      await t.close();
    }
  });
});

describe("heartbeats", () => {
  it("sends comment frames while a stream is idle", async () => {
    const t = await startTestServer({ heartbeatMs: 40, config: { localToolTimeoutMs: 400 } });
    try {
      const { body } = await t.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time" });
      const { raw } = await readStream(t.url + body.streamUrl, t.key);
      expect(raw).toContain(": ping\n\n");
    } finally {
      await t.close();
    }
  });
});
