import { startFakeProvider, type FakeProvider } from "@agentd/server/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createModelRegistry } from "../../src/models/registry.js";
import type { ConversationMessage } from "../../src/models/types.js";
import { collect, stepRequest } from "./helpers.js";

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ tokens: 3 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
});

const registry = () =>
  createModelRegistry(
    {
      providers: [
        { name: "oa", type: "openai", apiKey: "sk-oa", baseUrl: fake.openaiBaseUrl },
        { name: "an", type: "anthropic", apiKey: "sk-an", baseUrl: fake.anthropicBaseUrl },
        { name: "local", type: "openai-compatible", baseUrl: fake.openaiBaseUrl, models: [{ id: "llama3:8b" }] },
      ],
    },
    {},
  );

// A turn with two parallel tool calls, one of which failed.
const conversation: ConversationMessage[] = [
  { role: "user", content: "What time is it in Paris and Tokyo?" },
  {
    role: "assistant",
    content: "Let me check.",
    toolCalls: [
      { toolUseId: "call_a", name: "get_time", args: { tz: "Europe/Paris" } },
      { toolUseId: "call_b", name: "get_time", args: { tz: "Asia/Tokyo" } },
    ],
  },
  { role: "tool", toolUseId: "call_a", name: "get_time", result: "10:00" },
  { role: "tool", toolUseId: "call_b", name: "get_time", error: "timeout" },
];
const tools = [{ name: "get_time", description: "Current time in a zone", parameters: { type: "object", properties: { tz: { type: "string" } }, required: ["tz"] } }];

describe("OpenAI Chat Completions wire", () => {
  test("system, tool calls and tool results become tool_calls and role:tool messages", async () => {
    await collect(registry().resolve("provider:oa:gpt-4o"), stepRequest({ system: "Be brief.", messages: conversation, tools }));
    const body = fake.requests[0]!.body;
    expect(fake.requests[0]!.path).toBe("/v1/chat/completions");
    expect(body.model).toBe("gpt-4o");
    expect(body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "What time is it in Paris and Tokyo?" },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_time", arguments: '{"tz":"Europe/Paris"}' } },
          { id: "call_b", type: "function", function: { name: "get_time", arguments: '{"tz":"Asia/Tokyo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: "10:00" },
      { role: "tool", tool_call_id: "call_b", content: "Error: timeout" },
    ]);
    expect(body.tools).toEqual([{ type: "function", function: { name: "get_time", description: "Current time in a zone", parameters: tools[0]!.parameters } }]);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-oa");
  });

  test("params map to temperature, max_completion_tokens (OpenAI) and seed; no tools means no tools field", async () => {
    await collect(registry().resolve("provider:oa"), stepRequest({ params: { temperature: 0.2, maxTokens: 64, seed: 7 } }));
    const body = fake.requests[0]!.body;
    expect([body.temperature, body.max_completion_tokens, body.max_tokens, body.seed]).toEqual([0.2, 64, undefined, 7]);
    expect(body.tools).toBeUndefined();
  });

  test("openai-compatible asks for usage in the stream and sends no auth header without a key", async () => {
    const parts = await collect(registry().resolve("provider:local:llama3:8b"));
    const request = fake.requests[0]!;
    expect(request.body.model).toBe("llama3:8b");
    expect(request.body.stream_options).toEqual({ include_usage: true });
    expect(request.headers.authorization).toBeUndefined();
    expect(parts.at(-1)).toMatchObject({ type: "finish", usage: { outputTokens: 3 } });
  });
});

describe("Anthropic Messages wire", () => {
  test("tool calls become tool_use blocks and results one user turn of tool_result blocks", async () => {
    await collect(registry().resolve("provider:an:claude-haiku-4-5"), stepRequest({ system: "Be brief.", messages: conversation, tools, params: { maxTokens: 300 } }));
    const request = fake.requests[0]!;
    expect(request.path).toBe("/v1/messages");
    expect(request.headers["x-api-key"]).toBe("sk-an");
    expect(request.body.model).toBe("claude-haiku-4-5");
    expect(request.body.max_tokens).toBe(300);
    expect(request.body.system).toBe("Be brief.");
    expect(request.headers["anthropic-version"]).toBe("2023-06-01");
    expect(request.body.messages).toEqual([
      { role: "user", content: "What time is it in Paris and Tokyo?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "call_a", name: "get_time", input: { tz: "Europe/Paris" } },
          { type: "tool_use", id: "call_b", name: "get_time", input: { tz: "Asia/Tokyo" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_a", content: "10:00" },
          { type: "tool_result", tool_use_id: "call_b", content: "timeout", is_error: true },
        ],
      },
    ]);
    expect(request.body.tools[0]).toMatchObject({ name: "get_time", input_schema: tools[0]!.parameters });
  });

  test("an assistant turn with only tool calls sends no empty text block", async () => {
    const messages: ConversationMessage[] = [
      { role: "user", content: "time?" },
      { role: "assistant", content: "", toolCalls: [{ toolUseId: "toolu_1", name: "get_time", args: {} }] },
      { role: "tool", toolUseId: "toolu_1", name: "get_time", result: "noon" },
    ];
    await collect(registry().resolve("provider:an"), stepRequest({ messages, tools }));
    expect(fake.requests[0]!.body.messages[1].content).toEqual([{ type: "tool_use", id: "toolu_1", name: "get_time", input: {} }]);
  });
});
