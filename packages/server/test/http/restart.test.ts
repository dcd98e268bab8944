import { describe, expect, it } from "vitest";
import { createLogger, createServer, openStore } from "@agentd/server";
import { eventually, readStream, startTestServer, tempDir } from "../helpers.js";

const agent = { systemPrompt: "You are a test agent.", modelId: "mock" };
const clockTool = { kind: "local", name: "get_time", parameters: { type: "object", properties: {} } };

describe("a restart of agentd loses nothing", () => {
  it("finished runs, their streams and sessions replay after restart; a paused run resumes", async () => {
    const dataDir = tempDir();
    const first = await startTestServer({ dataDir });
    const done = await first.request("POST", "/agent-runs", { ...agent, prompt: "remember me" });
    const before = await readStream(first.url + done.body.streamUrl, first.key);
    const session = await first.request("POST", "/agent-sessions", { ...agent, metadata: { env: "test" } });
    const turn = await first.request("POST", `/agent-sessions/${session.body.sessionId}/messages`, { prompt: "first turn" });
    await readStream(first.url + turn.body.streamUrl, first.key);
    const paused = await first.request("POST", "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time" });
    const call = await eventually(async () => (await first.request("GET", `/agent-runs/${paused.body.runId}`)).body.pendingToolCalls[0]);
    await first.close();

    // a second process on the same data directory, same key
    const store = await openStore({ dataDir });
    const server = await createServer({ store, logger: createLogger("silent"), env: {} });
    const { url } = await server.listen(0);
    try {
      const api = (path: string) => `${url}/api/v1/workspaces/${first.workspace}${path}`;
      const headers = { authorization: `Bearer ${first.key}`, "content-type": "application/json" };

      const after = await readStream(url + done.body.streamUrl, first.key);
      expect(after.raw).toBe(before.raw);

      const info = await (await fetch(api(`/agent-sessions/${session.body.sessionId}`), { headers })).json();
      expect(info.messages).toHaveLength(2);
      expect(info.metadata).toEqual({ env: "test" });

      const snapshot = await (await fetch(api(`/agent-runs/${paused.body.runId}`), { headers })).json();
      expect(snapshot.status).toBe("paused");
      expect(snapshot.pendingToolCalls).toEqual([call]);
      const answer = await fetch(api(`/agent-runs/${paused.body.runId}/tool-results`), {
        method: "POST",
        headers,
        body: JSON.stringify({ toolUseId: call.toolUseId, result: "noon" }),
      });
      expect(answer.status).toBe(200);
      const { frames } = await readStream(url + paused.body.streamUrl, first.key);
      expect(frames.map((frame) => frame.data.seq)).toEqual(frames.map((_, index) => index + 1));
      expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "success" });
      expect(frames.at(-1)!.data.text).toContain("noon");
    } finally {
      await server.close();
    }
  });
});

describe("a run interrupted by a shutdown", () => {
  it("is picked up by the next start: run_resumed, the step repeated, one terminal event, seq gapless", async () => {
    const { startFakeProvider } = await import("@agentd/server/testing");
    const fake = await startFakeProvider();
    const dataDir = tempDir();
    const config = {
      providers: [{ name: "fake", type: "openai-compatible" as const, baseUrl: fake.openaiBaseUrl, apiKey: "k", models: [{ id: "fake-1" }] }],
    };
    try {
      fake.script({ hang: true });
      const first = await startTestServer({ dataDir, config });
      const { body } = await first.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "fake-1", prompt: "survive" });
      await eventually(async () => ((await first.request("GET", `/agent-runs/${body.runId}`)).body.status === "running" ? true : undefined));
      await eventually(() => (fake.requestCount > 0 ? true : undefined));
      await first.close();

      fake.script({ text: "made it" });
      const store = await openStore({ dataDir });
      const second = await createServer({ store, config, logger: createLogger("silent"), env: {} });
      expect(second.recovered).toBe(1);
      const { url } = await second.listen(0);
      try {
        const { frames } = await readStream(url + body.streamUrl, first.key);
        const types = frames.map((frame) => frame.data.type);
        expect(frames.map((frame) => frame.data.seq)).toEqual(frames.map((_, index) => index + 1));
        expect(types.filter((type) => type === "started")).toHaveLength(1);
        expect(frames.find((frame) => frame.data.type === "run_resumed")!.data).toMatchObject({ attempt: 2 });
        expect(types.filter((type) => type === "result" || type === "cancelled")).toHaveLength(1);
        expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "success", text: "made it" });
      } finally {
        await second.close();
      }
    } finally {
      await fake.close();
    }
  });
});

describe("one executing process per data directory", () => {
  it("refuses a second server on the same data directory, takes over a lock left by a dead process", async () => {
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const dataDir = tempDir();
    const first = await createServer({ dataDir, logger: createLogger("silent"), env: {} });
    await expect(createServer({ dataDir, logger: createLogger("silent"), env: {} })).rejects.toMatchObject({ code: "conflict", message: expect.stringContaining(`pid ${process.pid}`) });
    // the CLI's key command still works meanwhile
    const store = await openStore({ dataDir });
    await store.ensureWorkspace("side-door");
    await store.close();
    await first.close();
    // a lock whose process is gone is stale
    writeFileSync(join(dataDir, "agentd.db.lock"), "999999999");
    const next = await createServer({ dataDir, logger: createLogger("silent"), env: {} });
    await next.close();
  });
});
