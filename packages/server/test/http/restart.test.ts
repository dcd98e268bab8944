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
