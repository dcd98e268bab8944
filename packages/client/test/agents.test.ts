import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Agentd, APIUserAbortError, defineTool, RunCancelledError, RunFailedError } from "../src/index.js";
import { fakeRun } from "./helpers/fake-run.js";
import { tick, usage } from "./helpers/fake-server.js";

const call = (toolUseId: string, name: string, args: Record<string, unknown>) => ({ type: "local_tool_call", toolUseId, name, args });
const started = { type: "started", runId: "run_1", modelId: "mock" };

describe("agents.run with local tools", () => {
  it("executes each call, posts results and errors, and resolves with the answer", async () => {
    const weather = defineTool({
      name: "get_weather",
      description: "Weather for a city",
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }, context) => ({ city, temperature: 21, runId: context.runId, toolUseId: context.toolUseId }),
    });
    const shout = defineTool({ name: "shout", parameters: z.object({ text: z.string() }), execute: ({ text }) => text.toUpperCase() });
    const explode = defineTool({ name: "explode", parameters: { type: "object" }, execute: () => {
      throw new Error("kaboom");
    } });
    const server = fakeRun({
      before: [started, call("t1", "get_weather", { city: "Paris" }), call("t2", "shout", { text: 42 }), call("t3", "nope", {}), call("t4", "explode", {}), call("t5", "shout", { text: "hi" })],
    });
    const deltas: string[] = [];
    const result = await new Agentd({ apiKey: "k", fetch: server.fetch }).agents.run({
      agentId: "helper",
      prompt: "go",
      tools: [weather, shout, explode],
      onDelta: (text) => deltas.push(text),
    });

    expect(result).toMatchObject({ runId: "run_1", text: "Done", status: "completed", subtype: "success", usage });
    expect(result.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(deltas).toEqual(["Do", "ne"]);
    const byId = Object.fromEntries(server.toolResults.map((r) => [r.toolUseId, r]));
    expect(byId.t1).toEqual({ toolUseId: "t1", result: JSON.stringify({ city: "Paris", temperature: 21, runId: "run_1", toolUseId: "t1" }) });
    expect(byId.t2?.error).toMatch(/^invalid arguments for tool "shout": text: /);
    expect(byId.t3?.error).toMatch(/no handler for local tool "nope"/);
    expect(byId.t4).toEqual({ toolUseId: "t4", error: 'tool "explode" failed: kaboom' });
    expect(byId.t5).toEqual({ toolUseId: "t5", result: "HI" });

    // The server saw definitions only, never the handlers or the zod internals.
    expect(server.created()?.body).toEqual({
      agentId: "helper",
      prompt: "go",
      tools: [
        { kind: "local", name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false } },
        { kind: "local", name: "shout", parameters: { type: "object", properties: { text: { type: "string" } }, required: ["text"], additionalProperties: false } },
        { kind: "local", name: "explode", parameters: { type: "object" } },
      ],
    });
  });

  it("runs the tool calls of one turn concurrently", async () => {
    let arrivals = 0;
    let release!: () => void;
    const bothStarted = new Promise<void>((resolve) => (release = resolve));
    const wait = defineTool({
      name: "wait",
      parameters: { type: "object" },
      execute: async () => {
        if (++arrivals === 2) release();
        // Sequential execution would never get here for the first call.
        await Promise.race([bothStarted, tick(2_000).then(() => Promise.reject(new Error("ran sequentially")))]);
        return "ok";
      },
    });
    const server = fakeRun({ before: [started, call("a", "wait", {}), call("b", "wait", {})] });
    await new Agentd({ apiKey: "k", fetch: server.fetch }).agents.run({ systemPrompt: "s", prompt: "p", tools: [wait] });
    expect(server.toolResults).toEqual([
      { toolUseId: "a", result: "ok" },
      { toolUseId: "b", result: "ok" },
    ]);
  });

  it("rejects with RunFailedError on an error result and RunCancelledError on cancel", async () => {
    const failing = fakeRun({ before: [started], after: [{ type: "result", subtype: "error_model", error: "provider down", usage, durationMs: 1 }] });
    const error = await new Agentd({ apiKey: "k", fetch: failing.fetch }).agents.run({ systemPrompt: "s", prompt: "p" }).catch((e: unknown) => e);
    expect(RunFailedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ runId: "run_1", subtype: "error_model", message: "run run_1 failed (error_model): provider down" });

    const cancelled = fakeRun({ before: [started], after: [{ type: "cancelled", reason: "by admin", usage }] });
    const cancel = await new Agentd({ apiKey: "k", fetch: cancelled.fetch }).agents.run({ systemPrompt: "s", prompt: "p" }).catch((e: unknown) => e);
    expect(RunCancelledError.isInstance(cancel)).toBe(true);
    expect(cancel).toMatchObject({ runId: "run_1", reason: "by admin" });
  });

  it("cancels the run on the server and rejects with APIUserAbortError when the signal aborts", async () => {
    const controller = new AbortController();
    let toolSignal: AbortSignal | undefined;
    const slow = defineTool({
      name: "slow",
      parameters: { type: "object" },
      execute: (_args, context) => {
        toolSignal = context.signal;
        controller.abort();
        return new Promise(() => undefined);
      },
    });
    const server = fakeRun({ before: [started, call("t1", "slow", {})] });
    const error = await new Agentd({ apiKey: "k", fetch: server.fetch })
      .agents.run({ systemPrompt: "s", prompt: "p", tools: [slow], signal: controller.signal })
      .catch((e: unknown) => e);
    expect(APIUserAbortError.isInstance(error)).toBe(true);
    expect(server.cancels).toHaveLength(1);
    expect(server.cancels[0]?.body).toEqual({ reason: "aborted by the client" });
    expect(toolSignal?.aborted).toBe(true);
    expect(server.toolResults).toEqual([]);
  });
});

describe("agents.stream", () => {
  it("yields every event including a failed result, without throwing", async () => {
    const server = fakeRun({ before: [started], after: [{ type: "result", subtype: "error_max_tool_turns", error: "budget", usage, durationMs: 1 }] });
    const types: string[] = [];
    for await (const event of new Agentd({ apiKey: "k", fetch: server.fetch }).agents.stream({ systemPrompt: "s", prompt: "p" })) types.push(event.type);
    expect(types).toEqual(["started", "result"]);
  });

  it("answers tool calls while the caller iterates", async () => {
    const echo = defineTool({ name: "echo", parameters: z.object({ v: z.number() }), execute: ({ v }) => v * 2 });
    const server = fakeRun({ before: [started, call("t1", "echo", { v: 21 })] });
    const seen: string[] = [];
    for await (const event of new Agentd({ apiKey: "k", fetch: server.fetch }).agents.stream({ systemPrompt: "s", prompt: "p", tools: [echo] })) {
      seen.push(event.type);
    }
    expect(server.toolResults).toEqual([{ toolUseId: "t1", result: "42" }]);
    expect(seen.at(-1)).toBe("result");
  });
});
