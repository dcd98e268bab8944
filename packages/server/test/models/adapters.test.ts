import { startFakeProvider, type FakeProvider } from "@agentd/server/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { ProviderConfig, ProviderType } from "../../src/config/types.js";
import { createModelRegistry } from "../../src/models/registry.js";
import { ModelError, type LanguageModel } from "../../src/models/types.js";
import { collect, finishOf, refusedUrl, stepRequest, textOf } from "./helpers.js";

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ tokens: 5 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.script();
  fake.requests.length = 0;
});

const providerFor = (type: Exclude<ProviderType, "mock">, baseUrl: string): ProviderConfig => ({
  name: `test-${type}`,
  type,
  apiKey: "sk-test",
  baseUrl,
  models: [{ id: type === "anthropic" ? "claude-haiku-4-5" : "gpt-4o-mini" }],
  headers: { "x-team": "agents" },
});
const modelFor = (type: Exclude<ProviderType, "mock">, baseUrl?: string): LanguageModel => {
  const base = baseUrl ?? (type === "anthropic" ? fake.anthropicBaseUrl : fake.openaiBaseUrl);
  return createModelRegistry({ providers: [providerFor(type, base)] }, {}).resolve(`provider:test-${type}`);
};

describe.each(["openai", "openai-compatible", "anthropic"] as const)("%s adapter against the fake provider", (type) => {
  test("streams text as several deltas and ends with one finish carrying usage", async () => {
    const parts = await collect(modelFor(type));
    // The hand-written clients join deltas that arrive in one network read
    // (the fake provider sends all five at once).
    expect(parts.filter((part) => part.type === "text-delta").length).toBe(1);
    expect(textOf(parts)).toBe("tok0 tok1 tok2 tok3 tok4");
    const finish = finishOf(parts);
    expect(finish.finishReason).toBe("stop");
    expect(finish.usage.outputTokens).toBe(5);
    expect(finish.usage.inputTokens).toBeGreaterThan(0);
    expect(fake.requests[0]!.headers["x-team"]).toBe("agents");
  });

  test("tool calls come out with parsed args", async () => {
    fake.script({ text: "Checking.", toolCalls: [{ name: "get_time", args: { tz: "UTC", hours: [1, 2] } }, { name: "noop" }] });
    const parts = await collect(modelFor(type), stepRequest({
      tools: [{ name: "get_time", description: "current time", parameters: { type: "object", properties: { tz: { type: "string" } } } }, { name: "noop", description: "", parameters: {} }],
    }));
    const calls = parts.filter((part) => part.type === "tool-call");
    expect(calls.map((call) => [call.name, call.args])).toEqual([["get_time", { tz: "UTC", hours: [1, 2] }], ["noop", {}]]);
    expect(new Set(calls.map((call) => call.toolUseId)).size).toBe(2);
    expect(textOf(parts)).toBe("Checking.");
    expect(finishOf(parts).finishReason).toBe("tool-calls");
  });

  test("an HTTP error from the provider is a ModelError naming provider, status and message", async () => {
    fake.script({ error: { status: 401, message: "Incorrect API key provided" } });
    const error = await collect(modelFor(type)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).status).toBe(401);
    expect((error as ModelError).message).toMatch(new RegExp(`^test-${type}: HTTP 401 from http://127\\.0\\.0\\.1:\\d+/v1/.*: Incorrect API key provided$`));
  });

  test("a refused connection is a ModelError", async () => {
    const error = await collect(modelFor(type, await refusedUrl())).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toMatch(new RegExp(`^test-${type}: .*ECONNREFUSED`));
  });

  test("a connection lost mid-stream is a ModelError after the text that arrived", async () => {
    fake.script({ text: "one two three four five six", dropMidStream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const part of modelFor(type).stream(stepRequest())) if (part.type === "text-delta") seen.push(part.text);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toMatch(new RegExp(`^test-${type}: the response from .* broke off: terminated`));
    expect(seen.join("").startsWith("one")).toBe(true);
    expect(seen.join("")).not.toContain("six");
  });

  test("an error event in the stream is a ModelError with the provider's message", async () => {
    fake.script({ text: "one two three four", streamError: "Overloaded" });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const part of modelFor(type).stream(stepRequest())) if (part.type === "text-delta") seen.push(part.text);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toMatch(new RegExp(`^test-${type}: stream error: .*Overloaded`));
    expect(seen.join("")).toBe("one two ");
  });

  test("aborting a call that never answers stops it promptly, without a ModelError", async () => {
    fake.script({ hang: true });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const error = await collect(modelFor(type), stepRequest({ signal: controller.signal })).catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(ModelError);
    expect((error as Error).name).toBe("AbortError");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("aborting mid-stream stops the deltas", async () => {
    fake.script({ text: Array.from({ length: 40 }, (_, index) => `w${index}`).join(" "), chunkDelayMs: 20 });
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const part of modelFor(type).stream(stepRequest({ signal: controller.signal }))) {
        if (part.type === "text-delta") seen.push(part.text);
        if (seen.length === 2) controller.abort();
      }
    })().catch((caught: unknown) => caught);
    expect((error as Error).name).toBe("AbortError");
    expect(seen.length).toBeLessThan(5);
  });

  test("an already-aborted signal sends nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collect(modelFor(type), stepRequest({ signal: controller.signal }))).rejects.toThrow();
    expect(fake.requests).toHaveLength(0);
  });
});
