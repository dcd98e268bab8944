import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SseParser } from "../../src/models/http/sse.js";
import { ChatStreamState, requestBody, type ChatChunk } from "../../src/models/openai-chat/wire.js";
import type { ConversationMessage, ModelStreamPart } from "../../src/models/types.js";
import { cutAt, stepRequest } from "./helpers.js";

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/openai/${name}`, import.meta.url));

interface Replay {
  parts: ModelStreamPart[];
  /** `[DONE]` arrived. */
  done: boolean;
  /** The `error` object of a failed stream; then `parts` holds what came before it and no finish. */
  error: unknown;
  state: ChatStreamState;
}

/**
 * The stream as client.ts reads it: chunks through SseParser, each event
 * JSON.parsed into ChatStreamState, the parts of one network read handed on
 * together, an `error` chunk ending it.
 */
function replay(chunks: Buffer[]): Replay {
  const parser = new SseParser();
  const state = new ChatStreamState();
  const out: ModelStreamPart[] = [];
  const parts: ModelStreamPart[] = [];
  let done = false;
  let error: unknown;
  const handle = (data: string): void => {
    if (done || error !== undefined) return;
    if (data === "[DONE]") return void (done = true);
    const chunk = JSON.parse(data) as ChatChunk;
    const failure = chunk.error ?? (chunk.object === "error" ? chunk : undefined);
    if (failure != null) error = failure;
    else state.read(chunk, parts);
  };
  for (const chunk of chunks) {
    for (const data of parser.push(chunk)) handle(data);
    out.push(...parts.splice(0));
  }
  for (const data of parser.end()) handle(data);
  out.push(...parts.splice(0));
  if (error === undefined) out.push(...state.end());
  return { parts: out, done, error, state };
}

/** Adjacent deltas of a kind joined: how they were split depends on the network reads, not on the stream. */
function merged(parts: ModelStreamPart[]): ModelStreamPart[] {
  const joined: ModelStreamPart[] = [];
  for (const part of parts) {
    const last = joined[joined.length - 1];
    if ((part.type === "text-delta" || part.type === "reasoning-delta") && last?.type === part.type) last.text += part.text;
    else joined.push({ ...part });
  }
  return joined;
}

/** The fixture read whole, cut at every byte, and cut at random places: the same parts every time. */
function expectEveryChunking(name: string, expected: ModelStreamPart[]): Replay {
  const bytes = fixture(name);
  const whole = replay([bytes]);
  expect(merged(whole.parts)).toStrictEqual(expected);
  expect(merged(replay(cutAt(bytes, [...bytes.keys()])).parts)).toStrictEqual(expected);
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (cuts) => {
      expect(merged(replay(cutAt(bytes, cuts)).parts)).toStrictEqual(expected);
    }),
    { numRuns: 200 },
  );
  return whole;
}

describe("Chat Completions stream fixtures", () => {
  test("plain text, then a usage chunk with no choices: cached tokens are counted", () => {
    const run = expectEveryChunking("text-usage-cached.sse", [
      { type: "text-delta", text: "Bonjour depuis Zürich 🇨🇭!" },
      { type: "finish", usage: { inputTokens: 2006, outputTokens: 6, cachedInputTokens: 1920 }, finishReason: "stop" },
    ]);
    expect(run.done).toBe(true);
  });

  test("two parallel tool calls whose deltas interleave by index, arguments split inside JSON strings", () => {
    const run = expectEveryChunking("parallel-tool-calls.sse", [
      { type: "tool-call", toolUseId: "call_9pXq2LzR4mWc8Tb1Ks6Vn3Hd", name: "get_weather", args: { city: "Paris", unit: "c" } },
      { type: "tool-call", toolUseId: "call_Fh7Dk3Nq0Ys5Ra2Me9Wu4Jb1", name: "get_time", args: { tz: "Asia/Tokyo" } },
      // cached_tokens 0: no cachedInputTokens at all (toStrictEqual).
      { type: "finish", usage: { inputTokens: 312, outputTokens: 48 }, finishReason: "tool-calls" },
    ]);
    expect(run.done).toBe(true);
  });

  test("a refusal is streamed as text and finishes as refusal, though OpenAI says stop", () => {
    const run = expectEveryChunking("refusal.sse", [
      { type: "text-delta", text: "I'm sorry, I can't help with that." },
      { type: "finish", usage: { inputTokens: 87, outputTokens: 9 }, finishReason: "refusal" },
    ]);
    expect(run.state.finishReason).toBe("refusal");
  });

  test("finish_reason length", () => {
    expectEveryChunking("length.sse", [
      { type: "text-delta", text: "Once upon a" },
      { type: "finish", usage: { inputTokens: 25, outputTokens: 3 }, finishReason: "length" },
    ]);
  });

  test("a structured-output answer is JSON text", () => {
    const run = expectEveryChunking("structured-output.sse", [
      { type: "text-delta", text: '{"city":"Kraków","population":804237}' },
      { type: "finish", usage: { inputTokens: 131, outputTokens: 15 }, finishReason: "stop" },
    ]);
    const text = run.parts[0]?.type === "text-delta" ? run.parts[0].text : "";
    expect(JSON.parse(text)).toEqual({ city: "Kraków", population: 804237 });
  });

  test("an error object mid-stream: the text before it, then the error; the stream never finished", () => {
    const bytes = fixture("error-midstream.sse");
    for (const chunks of [[bytes], cutAt(bytes, [...bytes.keys()])]) {
      const run = replay(chunks);
      expect(merged(run.parts)).toStrictEqual([{ type: "text-delta", text: "The answer is" }]);
      expect(run.error).toMatchObject({ type: "server_error", message: expect.stringContaining("The server had an error") });
      expect([run.done, run.state.finished, run.state.finishReason]).toEqual([false, false, undefined]);
    }
  });
});

describe("ChatStreamState", () => {
  const read = (chunks: ChatChunk[]): ModelStreamPart[] => {
    const state = new ChatStreamState();
    const parts: ModelStreamPart[] = [];
    for (const chunk of chunks) state.read(chunk, parts);
    return [...parts, ...state.end()];
  };
  const choice = (delta: Record<string, unknown>, finish_reason: string | null = null): ChatChunk => ({
    choices: [{ delta, finish_reason }],
  });

  test("finish reasons keep their mapping; an unknown one is other, none at all is other", () => {
    const reasons = ["stop", "length", "content_filter", "tool_calls", "function_call", "eos_token", "insufficient_system_resource"].map(
      (reason) => read([choice({}, reason)]).at(-1),
    );
    expect(reasons.map((part) => part?.type === "finish" && part.finishReason)).toEqual([
      "stop",
      "length",
      "content-filter",
      "tool-calls",
      "tool-calls",
      "other",
      "other",
    ]);
    expect(read([choice({ content: "cut" })]).at(-1)).toMatchObject({ finishReason: "other" });
  });

  test("finished and finishReason say nothing before the finish_reason chunk", () => {
    const state = new ChatStreamState();
    state.read(choice({ refusal: "No." }), []);
    expect([state.finished, state.finishReason]).toEqual([false, undefined]);
    state.read(choice({}, "stop"), []);
    expect([state.finished, state.finishReason]).toEqual([true, "refusal"]);
  });

  test("usage without details, or with cached_tokens 0 or null, has no cachedInputTokens", () => {
    for (const usage of [
      { prompt_tokens: 10, completion_tokens: 2 },
      { prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } },
      { prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: null },
      { prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: null } },
    ]) {
      expect(read([{ choices: [], usage }]).at(-1)).toStrictEqual({
        type: "finish",
        usage: { inputTokens: 10, outputTokens: 2 },
        finishReason: "other",
      });
    }
  });

  test("tool calls without ids get generated, distinct ones; without index a new id starts a call", () => {
    const parts = read([
      choice({ tool_calls: [{ index: 0, function: { name: "a", arguments: '{"x":' } }] }),
      choice({ tool_calls: [{ index: 1, function: { name: "b", arguments: "{}" } }] }),
      choice({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }, "tool_calls"),
    ]);
    const calls = parts.filter((part) => part.type === "tool-call");
    expect(calls).toMatchObject([
      { name: "a", args: { x: 1 } },
      { name: "b", args: {} },
    ]);
    expect(calls.every((call) => /^call_[0-9A-Za-z]{24}$/.test(call.toolUseId))).toBe(true);
    expect(new Set(calls.map((call) => call.toolUseId)).size).toBe(2);

    const unindexed = read([
      choice({ tool_calls: [{ id: "c1", function: { name: "a", arguments: '{"k"' } }] }),
      choice({ tool_calls: [{ function: { arguments: ':"v"}' } }] }),
      choice({ tool_calls: [{ id: "c2", function: { name: "b", arguments: { whole: true } } }] }),
    ]);
    expect(unindexed.filter((part) => part.type === "tool-call")).toEqual([
      { type: "tool-call", toolUseId: "c1", name: "a", args: { k: "v" } },
      { type: "tool-call", toolUseId: "c2", name: "b", args: { whole: true } },
    ]);
  });

  test("reasoning and text deltas of one read are joined per kind", () => {
    expect(
      read([
        choice({ reasoning_content: "think" }),
        choice({ reasoning: "ing" }),
        choice({ content: "an" }),
        choice({ content: "swer" }, "stop"),
      ]),
    ).toEqual([
      { type: "reasoning-delta", text: "thinking" },
      { type: "text-delta", text: "answer" },
      { type: "finish", usage: { inputTokens: 0, outputTokens: 0 }, finishReason: "stop" },
    ]);
  });
});

describe("Chat Completions requestBody", () => {
  const body = (...args: Parameters<typeof requestBody>): Record<string, unknown> =>
    JSON.parse(requestBody(...args)) as Record<string, unknown>;
  const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

  test("responseFormat becomes a non-strict json_schema response_format; none without it", () => {
    expect(body("gpt-4o", stepRequest({ responseFormat: { name: "answer", schema } })).response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema, strict: false },
    });
    expect(body("gpt-4o", stepRequest())).not.toHaveProperty("response_format");
  });

  test("maxTokens goes in max_tokens by default, in max_completion_tokens when asked", () => {
    const request = stepRequest({ params: { maxTokens: 64 } });
    expect(body("m", request)).toMatchObject({ max_tokens: 64 });
    expect(body("m", request)).not.toHaveProperty("max_completion_tokens");
    expect(body("m", request, { maxTokensField: "max_tokens" })).toMatchObject({ max_tokens: 64 });
    const openai = body("o3", request, { maxTokensField: "max_completion_tokens" });
    expect(openai).toMatchObject({ max_completion_tokens: 64 });
    expect(openai).not.toHaveProperty("max_tokens");
    const unlimited = body("o3", stepRequest(), { maxTokensField: "max_completion_tokens" });
    expect([unlimited.max_tokens, unlimited.max_completion_tokens]).toEqual([undefined, undefined]);
  });

  test("tool results become role:tool messages, a failed one says Error: in its content", () => {
    const messages: ConversationMessage[] = [
      { role: "user", content: "time?" },
      {
        role: "assistant",
        content: "",
        toolCalls: [
          { toolUseId: "call_a", name: "get_time", args: { tz: "Europe/Paris" } },
          { toolUseId: "call_b", name: "get_time", args: {} },
        ],
      },
      { role: "tool", toolUseId: "call_a", name: "get_time", result: "10:00" },
      { role: "tool", toolUseId: "call_b", name: "get_time", error: "timeout" },
      { role: "tool", toolUseId: "call_c", name: "get_time" },
    ];
    expect(body("m", stepRequest({ messages })).messages).toEqual([
      { role: "user", content: "time?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_time", arguments: '{"tz":"Europe/Paris"}' } },
          { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: "10:00" },
      { role: "tool", tool_call_id: "call_b", content: "Error: timeout" },
      { role: "tool", tool_call_id: "call_c", content: "" },
    ]);
  });

  test("streams with usage; tools get an object schema and tool_choice auto", () => {
    const sent = body("m", stepRequest({ system: "Be brief.", tools: [{ name: "t", description: "", parameters: { required: [] } }] }));
    expect(sent).toMatchObject({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      tool_choice: "auto",
      tools: [{ type: "function", function: { name: "t", parameters: { type: "object", properties: {}, required: [] } } }],
    });
    expect((sent.messages as unknown[])[0]).toEqual({ role: "system", content: "Be brief." });
  });
});
