import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createLogger, createServer, defineTool, openStore } from "@agentd/server";
import { registryOf, scriptedModel, type ScriptedReply } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { eventually, parseSse, readStream, startTestServer, tempDir } from "../helpers.js";

/** Connects to a stream (headers received) and resolves its whole text once the server ends it. */
async function openStream(url: string, key: string): Promise<{ text: Promise<string> }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" } });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const text = (async () => {
    let text = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // the server cut the connection: what arrived is the point
    }
    return text;
  })();
  return { text }; // wrapped: an async function returning a bare promise would wait for it
}

/*
 * Graceful shutdown (issue #4): close({ graceMs }) stops taking work, lets
 * model steps and server tools in flight finish, hands back the rest marked
 * as such (no crash counted), and ends the streams so clients resume.
 */

const wait = defineTool({
  name: "wait",
  parameters: { type: "object", properties: { ms: { type: "number" } }, required: ["ms"] },
  execute: (args: Record<string, unknown>) => new Promise((resolve) => setTimeout(() => resolve(`waited ${String(args.ms)}`), args.ms as number)),
});
const config = { tools: [wait] };
const spec = { systemPrompt: "x", modelId: "scripted", tools: [{ kind: "code", name: "wait" }] };

/** Turn 1 (slow, streamed) calls `wait`; turn 2 answers with what the tool said. */
function twoTurns(chunkDelayMs: number) {
  return scriptedModel((request: ModelStepRequest): ScriptedReply => {
    const result = request.messages.find((message) => message.role === "tool");
    if (result && result.role === "tool") return { text: `done after ${result.result ?? result.error}` };
    return { text: "one two three four five six", chunkDelayMs, toolCalls: [{ name: "wait", args: { ms: 200 } }] };
  });
}

const modelsOf = (model: ReturnType<typeof scriptedModel>) => ({ catalog: () => registryOf(model).catalog(), resolve: () => model });

describe("graceful shutdown", () => {
  it("lets the model step and the server tool in flight finish, hands the run over, and the next start goes on without counting a crash", async () => {
    const dataDir = tempDir();
    const model = twoTurns(60);
    const first = await startTestServer({ dataDir, config, models: modelsOf(model) });
    const { body } = await first.request("POST", "/agent-runs", { ...spec, prompt: "go" });
    const streaming = await openStream(first.url + body.streamUrl, first.key);
    await eventually(() => (model.calls.length > 0 ? true : undefined));
    await first.server.close({ graceMs: 10_000 });

    // The stream ended without a terminal event, after the step and the tool it started.
    const frames = parseSse(await streaming.text);
    const types = frames.map((frame) => frame.data.type);
    expect(types).toContain("assistant_message");
    expect(types).toContain("tool_result");
    expect(types.filter((type) => type === "result" || type === "cancelled")).toHaveLength(0);
    expect(model.calls).toHaveLength(1); // no second step was started while draining

    const store = await openStore({ dataDir });
    const workspaceId = (await store.getWorkspaceBySlug(first.workspace))!.id;
    const stored = await store.getRun(workspaceId, body.runId);
    expect(stored).toMatchObject({ status: "running" });
    expect(stored!.checkpoint.handedOff).toBe(true);
    expect(stored!.checkpoint.pending).toEqual([expect.objectContaining({ name: "wait", result: "waited 200" })]);

    const second = await createServer({ store, config, models: modelsOf(model), logger: createLogger("silent"), env: {} });
    const { url } = await second.listen(0);
    try {
      const { frames: all } = await readStream(url + body.streamUrl, first.key);
      expect(all.map((frame) => frame.data.seq)).toEqual(all.map((_, index) => index + 1));
      expect(all.slice(0, frames.length).map((frame) => frame.data)).toEqual(frames.map((frame) => frame.data));
      expect(all.find((frame) => frame.data.type === "run_resumed")!.data).toMatchObject({
        attempt: 2,
        reason: expect.stringContaining("handed it over"),
      });
      expect(all.at(-1)!.data).toMatchObject({ type: "result", subtype: "success", text: "done after waited 200" });
      expect(model.calls).toHaveLength(2); // the tool's result was kept: only the second step ran
      const ended = await store.getRun(workspaceId, body.runId);
      expect(ended!.checkpoint.crashes ?? 0).toBe(0);
      expect(ended!.checkpoint.handedOff).toBeUndefined();
    } finally {
      await second.close();
    }
  });

  it("a step longer than the grace period is abandoned at the deadline and repeated by the next start", async () => {
    const dataDir = tempDir();
    const model = scriptedModel((request: ModelStepRequest, call: number): ScriptedReply => (call === 0 ? { hang: true } : { text: "second try" }));
    const first = await startTestServer({ dataDir, models: modelsOf(model) });
    const { body } = await first.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "scripted", prompt: "go" });
    await eventually(() => (model.calls.length > 0 ? true : undefined));
    const began = Date.now();
    await first.server.close({ graceMs: 300 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(280);
    expect(Date.now() - began).toBeLessThan(5_000);

    const store = await openStore({ dataDir });
    const second = await createServer({ store, models: modelsOf(model), logger: createLogger("silent"), env: {} });
    const { url } = await second.listen(0);
    try {
      const { frames } = await readStream(url + body.streamUrl, first.key);
      expect(frames.find((frame) => frame.data.type === "run_resumed")!.data.reason).toContain("handed it over");
      expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "success", text: "second try" });
    } finally {
      await second.close();
    }
  });

  it("answers 503 (the client retries elsewhere) to requests arriving while it drains", async () => {
    const model = scriptedModel((): ScriptedReply => ({ text: "slow answer here", chunkDelayMs: 150 }));
    const store = await openStore({ memory: true });
    const { createApiKey } = await import("@agentd/server");
    const { key } = await createApiKey(store, { workspace: "acme" });
    const app = await createServer({ store, models: modelsOf(model), logger: createLogger("silent"), env: {} });
    // Embedded in the caller's own HTTP server, which keeps listening while agentd drains.
    const host = createHttpServer(app.handler);
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(host.address() as AddressInfo).port}/api/v1/workspaces/acme`;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    try {
      const created = await fetch(`${base}/agent-runs`, { method: "POST", headers, body: JSON.stringify({ systemPrompt: "x", modelId: "scripted", prompt: "go" }) });
      const { runId, streamUrl } = (await created.json()) as { runId: string; streamUrl: string };
      const streaming = await openStream(`http://127.0.0.1:${(host.address() as AddressInfo).port}${streamUrl}`, key);
      await eventually(() => (model.calls.length > 0 ? true : undefined));
      const closing = app.close({ graceMs: 5_000 });
      const refused = await fetch(`${base}/agent-runs`, { method: "POST", headers, body: JSON.stringify({ systemPrompt: "x", modelId: "scripted", prompt: "again" }) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("connection")).toBe("close");
      expect(await refused.json()).toMatchObject({ code: "unavailable", message: expect.stringContaining("shutting down") });
      await closing;
      // The run in flight finished within the grace period; its stream got the terminal event.
      expect(await streaming.text).toContain("event: result");
      expect(runId).toMatch(/^run_/);
    } finally {
      await new Promise<void>((resolve) => host.close(() => resolve()));
    }
  });

  it("refuses a bad re-attempt cap, naming the setting", async () => {
    const store = await openStore({ memory: true });
    await expect(createServer({ store, env: { AGENTD_MAX_RUN_ATTEMPTS: "0" }, logger: createLogger("silent") })).rejects.toThrow(
      "AGENTD_MAX_RUN_ATTEMPTS must be an integer >= 1 (got '0')",
    );
    await store.close();
    const { validateConfig } = await import("../../src/config/load.js");
    expect(() => validateConfig({ maxRunAttempts: 1.5 }, "agentd.config.json")).toThrow(/maxRunAttempts/);
  });

  it("ends a run whose executions keep dying with their worker (maxRunAttempts)", async () => {
    const dataDir = tempDir();
    const model = scriptedModel((): ScriptedReply => ({ hang: true }));
    const first = await startTestServer({ dataDir, models: modelsOf(model) });
    const { body } = await first.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "scripted", prompt: "go" });
    await eventually(() => (model.calls.length > 0 ? true : undefined));
    await first.close();
    // What a process killed mid-step leaves: no hand-over mark; it has died twice already.
    const store = await openStore({ dataDir });
    const record = (await store.getRun((await store.getWorkspaceBySlug(first.workspace))!.id, body.runId))!;
    const checkpoint = { ...record.checkpoint, crashes: 2 };
    delete checkpoint.handedOff;
    await store.commit({ events: [], runs: [{ runId: record.id, patch: { checkpoint } }], sessions: [] });

    const second = await createServer({ store, models: modelsOf(model), env: { AGENTD_MAX_RUN_ATTEMPTS: "3" }, logger: createLogger("silent") });
    const { url } = await second.listen(0);
    try {
      const { frames } = await readStream(url + body.streamUrl, first.key);
      expect(frames.find((frame) => frame.data.type === "run_resumed")!.data).toMatchObject({ attempt: 2 });
      expect(frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "error_max_attempts", error: expect.stringContaining("3 times") });
    } finally {
      await second.close();
    }
  });
});
