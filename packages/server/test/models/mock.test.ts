import { describe, expect, test } from "vitest";
import { mockModel } from "../../src/models/mock.js";
import type { ConversationMessage } from "../../src/models/types.js";
import { collect, finishOf, stepRequest, textOf } from "./helpers.js";

const model = mockModel();
const getTime = { name: "get_time", description: "Current time", parameters: { type: "object" } };
const user = (content: string): ConversationMessage[] => [{ role: "user", content }];

describe("mock model", () => {
  test("echoes the last user message word by word, counting words as tokens", async () => {
    const parts = await collect(model, stepRequest({ system: "Be nice.", messages: user("hello  big world") }));
    expect(textOf(parts)).toBe("[mock] You said: hello  big world");
    expect(parts.filter((part) => part.type === "text-delta").length).toBe(6);
    expect(finishOf(parts)).toEqual({ type: "finish", usage: { inputTokens: 5, outputTokens: 6 }, finishReason: "stop" });
  });

  test("is deterministic", async () => {
    const request = () => stepRequest({ messages: user("call get_time {\"tz\":\"UTC\"}"), tools: [getTime] });
    expect(await collect(model, request())).toEqual(await collect(model, request()));
  });

  test("`call <tool> <json>` for an offered tool is a tool call", async () => {
    const parts = await collect(model, stepRequest({ messages: user('call get_time {"tz":"UTC"}'), tools: [getTime] }));
    expect(parts[0]).toEqual({ type: "tool-call", toolUseId: "call_1", name: "get_time", args: { tz: "UTC" } });
    expect(finishOf(parts).finishReason).toBe("tool-calls");
    expect(textOf(parts)).toBe("");
  });

  test("`call <tool>` without args, and one call per line", async () => {
    const parts = await collect(model, stepRequest({ messages: user("call get_time\ncall get_time {\"tz\":\"Asia/Tokyo\"}"), tools: [getTime] }));
    expect(parts.filter((part) => part.type === "tool-call")).toEqual([
      { type: "tool-call", toolUseId: "call_1", name: "get_time", args: {} },
      { type: "tool-call", toolUseId: "call_2", name: "get_time", args: { tz: "Asia/Tokyo" } },
    ]);
  });

  test("a tool that is not offered, or args that are not a JSON object, are just echoed", async () => {
    expect(textOf(await collect(model, stepRequest({ messages: user("call get_time") })))).toBe("[mock] You said: call get_time");
    expect(textOf(await collect(model, stepRequest({ messages: user("call get_time [1]"), tools: [getTime] })))).toBe("[mock] You said: call get_time [1]");
  });

  test("after tool results it reports them, and ids keep counting across the conversation", async () => {
    const messages: ConversationMessage[] = [
      { role: "user", content: "call get_time" },
      { role: "assistant", content: "", toolCalls: [{ toolUseId: "call_1", name: "get_time", args: {} }] },
      { role: "tool", toolUseId: "call_1", name: "get_time", result: "12:00" },
    ];
    expect(textOf(await collect(model, stepRequest({ messages, tools: [getTime] })))).toBe("[mock] get_time returned: 12:00");
    const failed: ConversationMessage[] = [...messages.slice(0, 2), { role: "tool", toolUseId: "call_1", name: "get_time", error: "clock broken" }];
    expect(textOf(await collect(model, stepRequest({ messages: failed })))).toBe("[mock] get_time returned: [error] clock broken");

    const again = await collect(model, stepRequest({ messages: [...messages, { role: "assistant", content: "ok" }, ...user("call get_time")], tools: [getTime] }));
    expect(again[0]).toMatchObject({ type: "tool-call", toolUseId: "call_2" });
  });

  test("maxTokens truncates the words and says so", async () => {
    const parts = await collect(model, stepRequest({ messages: user("one two three"), params: { maxTokens: 2 } }));
    expect(textOf(parts)).toBe("[mock] You ");
    expect(finishOf(parts)).toMatchObject({ usage: { outputTokens: 2 }, finishReason: "length" });
  });

  test("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const part of model.stream(stepRequest({ messages: user("a b c d e f"), signal: controller.signal }))) {
        if (part.type === "text-delta") seen.push(part.text);
        controller.abort();
      }
    })().catch((caught: unknown) => caught);
    expect((error as Error).name).toBe("AbortError");
    expect(seen).toHaveLength(1);
  });
});
