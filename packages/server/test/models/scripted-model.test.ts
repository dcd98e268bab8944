import { registryOf, scriptedModel } from "@agentd/server/testing";
import { expect, test } from "vitest";
import { AgentdError } from "../../src/errors.js";
import { ModelError } from "../../src/models/types.js";
import { collect, finishOf, stepRequest, textOf } from "./helpers.js";

test("a list answers one reply per call, records every call, then fails loudly", async () => {
  const model = scriptedModel([{ toolCalls: [{ name: "lookup", args: { q: "x" } }] }, { text: "Found it." }]);
  const first = await collect(model, stepRequest({ messages: [{ role: "user", content: "find x" }] }));
  expect(first.slice(0, -1)).toEqual([{ type: "tool-call", toolUseId: "call_1", name: "lookup", args: { q: "x" } }]);
  expect(finishOf(first).finishReason).toBe("tool-calls");
  expect(textOf(await collect(model))).toBe("Found it.");
  expect(model.calls.map((call) => call.messages[0])).toEqual([{ role: "user", content: "find x" }, { role: "user", content: "hello" }]);
  await expect(collect(model)).rejects.toThrow(/no reply scripted for call #3/);
  expect(model.info.mock).toBe(true);
});

test("a function gets the request and the call index", async () => {
  const model = scriptedModel((request, index) => ({ text: `${index}: ${request.messages.length} messages` }));
  expect(textOf(await collect(model))).toBe("0: 1 messages");
  expect(textOf(await collect(model))).toBe("1: 1 messages");
});

test("error replies throw ModelError with the status", async () => {
  const error = await collect(scriptedModel({ error: { status: 429, message: "slow down" } })).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ModelError);
  expect((error as ModelError).status).toBe(429);
  expect((error as ModelError).message).toContain("slow down");
});

test("hang waits for the abort; chunk delays are abortable", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  await expect(collect(scriptedModel({ hang: true }), stepRequest({ signal: controller.signal }))).rejects.toMatchObject({ name: "AbortError" });

  const slow = new AbortController();
  const seen: string[] = [];
  const started = Date.now();
  await expect((async () => {
    for await (const part of scriptedModel({ text: "a b c d e f g h", chunkDelayMs: 200 }).stream(stepRequest({ signal: slow.signal }))) {
      if (part.type === "text-delta") seen.push(part.text);
      slow.abort();
    }
  })()).rejects.toMatchObject({ name: "AbortError" });
  expect(seen).toHaveLength(1);
  expect(Date.now() - started).toBeLessThan(1000);
});

test("dropMidStream yields part of the text, then a ModelError", async () => {
  const seen: string[] = [];
  await expect((async () => {
    for await (const part of scriptedModel({ text: "a b c d", dropMidStream: true }).stream(stepRequest())) if (part.type === "text-delta") seen.push(part.text);
  })()).rejects.toBeInstanceOf(ModelError);
  expect(seen.join("")).toBe("a b ");
});

test("registryOf resolves by catalog or vendor id and rejects others like the real registry", () => {
  const a = scriptedModel({ text: "a" }, { vendorModelId: "alpha" });
  const b = scriptedModel({ text: "b" }, { vendorModelId: "beta" });
  const registry = registryOf(a, b);
  expect(registry.resolve(undefined)).toBe(a);
  expect(registry.resolve("beta")).toBe(b);
  expect(registry.resolve("provider:scripted:beta")).toBe(b);
  expect(() => registry.resolve("gamma")).toThrow(AgentdError);
});

test("streamError yields part of the text, then a ModelError with the message", async () => {
  const parts: string[] = [];
  const error = await (async () => {
    for await (const part of scriptedModel({ text: "a b c d", streamError: "Overloaded" }).stream(stepRequest())) if (part.type === "text-delta") parts.push(part.text);
  })().catch((caught: unknown) => caught);
  expect((error as ModelError).message).toBe("scripted: stream error: Overloaded");
  expect(parts.join("")).toBe("a b ");
});
