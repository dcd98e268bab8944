import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { forcedTool, requestBody } from "../../src/models/anthropic-messages/request.js";
import { MessagesStreamState, type MessagesEvent } from "../../src/models/anthropic-messages/wire.js";
import { SseParser } from "../../src/models/http/sse.js";
import { ModelError, type ModelStepRequest, type ModelStreamPart } from "../../src/models/types.js";
import { stepRequest } from "./helpers.js";

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/anthropic/${name}.sse`, import.meta.url));

interface Run {
  parts: ModelStreamPart[];
  state: MessagesStreamState;
  error?: unknown;
}

/**
 * What the client does with a body arriving as `chunks`: each chunk's events
 * read into that chunk's parts, then `end` (unless an event threw).
 */
function run(chunks: Buffer[], forced?: string): Run {
  const parser = new SseParser();
  const state = new MessagesStreamState("anthropic", forced);
  const parts: ModelStreamPart[] = [];
  const read = (events: string[]) => {
    const chunkParts: ModelStreamPart[] = [];
    try {
      for (const data of events) state.read(JSON.parse(data) as MessagesEvent, chunkParts);
    } finally {
      parts.push(...chunkParts);
    }
  };
  try {
    for (const chunk of chunks) read(parser.push(chunk));
    read(parser.end());
  } catch (error) {
    return { parts, state, error };
  }
  return { parts: [...parts, ...state.end()], state };
}

/** The body whole, cut in two at every byte (inside lines and UTF-8 sequences), byte by byte, and in fixed-size pieces. */
function chunkings(bytes: Buffer): Buffer[][] {
  const all: Buffer[][] = [[bytes]];
  for (let at = 1; at < bytes.length; at++) all.push([bytes.subarray(0, at), bytes.subarray(at)]);
  all.push([...bytes].map((byte) => Buffer.from([byte])));
  for (const size of [3, 7, 64, 500]) {
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
    all.push(pieces);
  }
  return all;
}

/** Adjacent deltas of one kind joined: what the parts say, whatever reads they came in. */
function coalesce(parts: ModelStreamPart[]): ModelStreamPart[] {
  const joined: ModelStreamPart[] = [];
  for (const part of parts) {
    const last = joined[joined.length - 1];
    if ((part.type === "text-delta" || part.type === "reasoning-delta") && last?.type === part.type) {
      joined[joined.length - 1] = { type: part.type, text: last.text + part.text };
    } else joined.push(part);
  }
  return joined;
}

/** The fixture read whole gives exactly `expected` (deltas joined); every other chunking gives the same once joined. */
function expectStream(name: string, expected: ModelStreamPart[], forced?: string): MessagesStreamState {
  const bytes = fixture(name);
  const whole = run([bytes], forced);
  expect(whole.error).toBeUndefined();
  expect(whole.parts).toEqual(expected);
  for (const chunks of chunkings(bytes)) {
    const result = run(chunks, forced);
    expect(result.error).toBeUndefined();
    expect(coalesce(result.parts)).toEqual(expected);
  }
  return whole.state;
}

const finish = (
  inputTokens: number,
  outputTokens: number,
  finishReason: string,
  cache: { cachedInputTokens?: number; cacheWriteInputTokens?: number } = {},
) => ({
  type: "finish" as const,
  usage: { inputTokens, outputTokens, ...cache },
  finishReason,
});

/** Reads hand-made events into one parts array and ends: for cases no fixture has. */
function readEvents(events: MessagesEvent[], forced?: string): { parts: ModelStreamPart[]; state: MessagesStreamState } {
  const state = new MessagesStreamState("anthropic", forced);
  const parts: ModelStreamPart[] = [];
  for (const event of events) state.read(event, parts);
  return { parts: [...parts, ...state.end()], state };
}

const thrown = (event: MessagesEvent): unknown => {
  try {
    new MessagesStreamState("anthropic").read(event, []);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("MessagesStreamState on Anthropic streams", () => {
  it("plain text, multi-byte characters and a ping: one text part, the cumulative output count", () => {
    const state = expectStream("text", [{ type: "text-delta", text: "Héllo 😀 世界! How can I help?" }, finish(25, 15, "stop")]);
    expect(state.finished).toBe(true);
    expect(state.stopReason).toBe("end_turn");
  });

  it("text then parallel tool_use blocks: arguments joined across deltas, split inside strings and escapes; no input is {}", () => {
    expectStream("parallel-tools", [
      { type: "text-delta", text: "I'll check both cities at once." },
      {
        type: "tool-call",
        toolUseId: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        name: "get_weather",
        args: { location: "San Francisco, CA", unit: "celsius" },
      },
      {
        type: "tool-call",
        toolUseId: "toolu_01VqG2jCdyjoB9HMTFnCKeo2",
        name: "get_weather",
        args: { location: "Zürich", note: 'the "old town" 🌦' },
      },
      { type: "tool-call", toolUseId: "toolu_01Hc8nZ6cJYtpBRBVUoKbx7D", name: "get_time", args: {} },
      finish(472, 143, "tool-calls"),
    ]);
  });

  it("extended thinking (signature ignored), a redacted_thinking block, then text", () => {
    expectStream("thinking", [
      {
        type: "reasoning-delta",
        text: "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3\n3. 10,800 + 1,350 + 81 = 12,231",
      },
      { type: "text-delta", text: "27 * 453 = 12,231" },
      finish(46, 212, "stop"),
    ]);
  });

  it("prompt cache reads and writes count as input, and are reported apart", () => {
    expectStream("cache-usage", [
      { type: "text-delta", text: "The contract's renewal date is 1 March 2026." },
      finish(12 + 20480 + 1800, 14, "stop", { cachedInputTokens: 20480, cacheWriteInputTokens: 1800 }),
    ]);
  });

  it("stop_reason max_tokens is `length`", () => {
    expectStream("max-tokens", [{ type: "text-delta", text: "Once upon a time, in a kingdom by the" }, finish(18, 10, "length")]);
  });

  it("stop_reason refusal is `refusal`, the text so far kept", () => {
    const state = expectStream("refusal", [{ type: "text-delta", text: "Hello.." }, finish(31, 3, "refusal")]);
    expect(state.stopReason).toBe("refusal");
  });

  it("server tools: their blocks and input are no tool calls, citations are dropped, message_delta's larger input count wins", () => {
    expectStream("web-search", [
      { type: "text-delta", text: "I'll check the weather in New York City.It is sunny, with a high of 24°C." },
      finish(10682, 510, "stop"),
    ]);
  });

  it("the forced answer tool streams its input as the answer text and finishes `stop`", () => {
    const answer = '{"city": "Paris", "temperature_c": 18.5, "sky": "partly cloudy"}';
    expectStream("forced-answer", [{ type: "text-delta", text: answer }, finish(412, 38, "stop")], "final_answer");
    // Not forced, the same stream is a tool call.
    expectStream("forced-answer", [
      {
        type: "tool-call",
        toolUseId: "toolu_01KFbKqPYSuAKujiL6mTfzYA",
        name: "final_answer",
        args: JSON.parse(answer) as Record<string, unknown>,
      },
      finish(412, 38, "tool-calls"),
    ]);
  });

  it("an overloaded_error event after some text throws a retryable ModelError; the text already read stays", () => {
    const bytes = fixture("overloaded-error");
    for (const chunks of chunkings(bytes)) {
      const { parts, state, error } = run(chunks);
      expect(coalesce(parts)).toEqual([{ type: "text-delta", text: "Here is the first part of" }]);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({
        message: "anthropic: stream error: overloaded_error: Overloaded",
        provider: "anthropic",
        status: 529,
        retryable: true,
      });
      expect(state.finished).toBe(false);
    }
  });
});

describe("MessagesStreamState, events no fixture has", () => {
  it("maps every stop reason", () => {
    const reasons: Array<[string, string]> = [
      ["end_turn", "stop"],
      ["stop_sequence", "stop"],
      ["max_tokens", "length"],
      ["model_context_window_exceeded", "length"],
      ["tool_use", "tool-calls"],
      ["refusal", "refusal"],
      ["pause_turn", "other"],
      ["some_future_reason", "other"],
      ["constructor", "other"],
    ];
    for (const [stopReason, finishReason] of reasons) {
      const { parts } = readEvents([{ type: "message_delta", delta: { stop_reason: stopReason } }, { type: "message_stop" }]);
      expect(parts).toEqual([finish(0, 0, finishReason)]);
    }
  });

  it("a body that ends early is not finished and has no stop reason", () => {
    const { parts, state } = readEvents([
      { type: "message_start", message: { usage: { input_tokens: 9, output_tokens: 1 } } },
      { type: "ping" },
    ]);
    expect(state.finished).toBe(false);
    expect(state.stopReason).toBeUndefined();
    expect(parts).toEqual([finish(9, 1, "other")]);
  });

  it("error types: status and whether to try again", () => {
    const cases: Array<[string, number | undefined, boolean]> = [
      ["overloaded_error", 529, true],
      ["rate_limit_error", 429, true],
      ["api_error", 500, true],
      ["timeout_error", 504, true],
      ["invalid_request_error", 400, false],
      ["authentication_error", 401, false],
      ["permission_error", 403, false],
      ["request_too_large", 413, false],
      ["some_new_error", undefined, false],
    ];
    for (const [type, status, retryable] of cases) {
      const error = thrown({ type: "error", error: { type, message: "it failed" } });
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ message: `anthropic: stream error: ${type}: it failed`, status, retryable });
    }
    expect(thrown({ type: "error" })).toMatchObject({ message: "anthropic: stream error: error: no error message", retryable: false });
  });

  it("usage: message_delta's repeated counts are taken when larger, zeros do not erase message_start's; no usage is zero", () => {
    const { parts } = readEvents([
      {
        type: "message_start",
        message: { usage: { input_tokens: 100, cache_read_input_tokens: 50, cache_creation_input_tokens: 0, output_tokens: 1 } },
      },
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn" },
        usage: { input_tokens: 0, cache_read_input_tokens: 80, output_tokens: 20 },
      },
    ]);
    expect(parts).toEqual([finish(180, 20, "stop", { cachedInputTokens: 80 })]);
    expect(readEvents([]).parts).toEqual([finish(0, 0, "other")]);
  });

  it("tool calls come in block index order; deltas for blocks never started are dropped", () => {
    const { parts } = readEvents([
      { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_b", name: "second" } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_a", name: "first" } },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"n":2}' } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"n":1}' } },
      { type: "content_block_delta", index: 7, delta: { type: "input_json_delta", partial_json: '{"lost":true}' } },
      { type: "content_block_delta", index: 1, delta: { type: "some_future_delta" } },
      { type: "some_future_event" },
      { type: "message_delta", delta: { stop_reason: "tool_use" } },
    ]);
    expect(parts).toEqual([
      { type: "tool-call", toolUseId: "toolu_a", name: "first", args: { n: 1 } },
      { type: "tool-call", toolUseId: "toolu_b", name: "second", args: { n: 2 } },
      finish(0, 0, "tool-calls"),
    ]);
  });

  it("a forced answer tool that streams no input answers {}", () => {
    const { parts } = readEvents(
      [
        { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "toolu_x", name: "final_answer" } },
        { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "" } },
        { type: "content_block_stop", index: 0 },
        { type: "message_delta", delta: { stop_reason: "tool_use" } },
        { type: "message_stop" },
      ],
      "final_answer",
    );
    expect(parts).toEqual([{ type: "text-delta", text: "{}" }, finish(0, 0, "stop")]);
  });
});

describe("requestBody", () => {
  const body = (overrides: Partial<ModelStepRequest> = {}, defaultMaxTokens = 4096): Record<string, unknown> =>
    JSON.parse(requestBody("claude-sonnet-4-5", stepRequest(overrides), { defaultMaxTokens })) as Record<string, unknown>;

  it("a minimal step: the default max_tokens, no system, tools or sampling fields", () => {
    expect(body()).toEqual({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hello" }], max_tokens: 4096, stream: true });
  });

  it("params: maxTokens and temperature; seed has no Anthropic field", () => {
    expect(body({ params: { maxTokens: 300, temperature: 0.2, seed: 7 } })).toEqual({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 300,
      temperature: 0.2,
      stream: true,
    });
  });

  it("system messages in the conversation fold into the top-level system text", () => {
    const messages: ModelStepRequest["messages"] = [
      { role: "system", content: "Be kind." },
      { role: "user", content: "hi" },
      { role: "system", content: "" },
      { role: "system", content: "Answer in French." },
    ];
    expect(body({ system: "You are terse.", messages })).toMatchObject({
      system: "You are terse.\n\nBe kind.\n\nAnswer in French.",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(body({ messages })).toMatchObject({ system: "Be kind.\n\nAnswer in French." });
    expect(body({ system: "You are terse." })).toMatchObject({ system: "You are terse." });
  });

  it("assistant turns become text and tool_use blocks; a turn with neither is left out", () => {
    const messages: ModelStepRequest["messages"] = [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: "Checking.",
        toolCalls: [
          { toolUseId: "toolu_1", name: "get_weather", args: { city: "Paris" } },
          { toolUseId: "toolu_2", name: "get_time", args: {} },
        ],
      },
      { role: "tool", toolUseId: "toolu_1", name: "get_weather", result: "18°C" },
      { role: "tool", toolUseId: "toolu_2", name: "get_time", result: "noon" },
      { role: "assistant", content: "" },
      { role: "assistant", content: "", toolCalls: [{ toolUseId: "toolu_3", name: "get_weather", args: { city: "Oslo" } }] },
      { role: "tool", toolUseId: "toolu_3", name: "get_weather", result: "2°C" },
      { role: "assistant", content: "Paris 18°C, Oslo 2°C." },
    ];
    expect(body({ messages }).messages).toEqual([
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18°C" },
          { type: "tool_result", tool_use_id: "toolu_2", content: "noon" },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_3", name: "get_weather", input: { city: "Oslo" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_3", content: "2°C" }] },
      { role: "assistant", content: [{ type: "text", text: "Paris 18°C, Oslo 2°C." }] },
    ]);
  });

  it("consecutive tool results are one user message, errors flagged, user text after them joins it", () => {
    const messages: ModelStepRequest["messages"] = [
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: "",
        toolCalls: [
          { toolUseId: "toolu_1", name: "read", args: {} },
          { toolUseId: "toolu_2", name: "write", args: {} },
          { toolUseId: "toolu_3", name: "list", args: {} },
        ],
      },
      { role: "tool", toolUseId: "toolu_1", name: "read", result: "contents" },
      { role: "tool", toolUseId: "toolu_2", name: "write", error: "permission denied" },
      { role: "tool", toolUseId: "toolu_3", name: "list" },
      // An empty assistant turn is left out and does not part the results from what follows.
      { role: "assistant", content: "" },
      { role: "user", content: "Also, be brief." },
      { role: "user", content: "" },
      { role: "user", content: "Thanks." },
    ];
    expect(body({ messages }).messages).toEqual([
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_1", name: "read", input: {} },
          { type: "tool_use", id: "toolu_2", name: "write", input: {} },
          { type: "tool_use", id: "toolu_3", name: "list", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "contents" },
          { type: "tool_result", tool_use_id: "toolu_2", content: "permission denied", is_error: true },
          { type: "tool_result", tool_use_id: "toolu_3", content: "" },
          { type: "text", text: "Also, be brief." },
          { type: "text", text: "Thanks." },
        ],
      },
    ]);
  });

  it("a tool result after text has joined a results message starts a new one: results lead their message", () => {
    const messages: ModelStepRequest["messages"] = [
      { role: "tool", toolUseId: "toolu_1", name: "read", result: "a" },
      { role: "user", content: "and" },
      { role: "tool", toolUseId: "toolu_2", name: "read", result: "b" },
    ];
    expect(body({ messages }).messages).toEqual([
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "a" },
          { type: "text", text: "and" },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_2", content: "b" }] },
    ]);
  });

  it("tools: description left out when empty, input_schema always an object schema, the model's choice", () => {
    const tools = [
      {
        name: "search",
        description: "Search the web.",
        parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
      },
      { name: "now", description: "", parameters: {} },
    ];
    const sent = body({ tools });
    expect(sent.tools).toEqual([
      {
        name: "search",
        description: "Search the web.",
        input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
      },
      { name: "now", input_schema: { type: "object", properties: {} } },
    ]);
    expect(sent.tool_choice).toEqual({ type: "auto" });
  });

  it("an output schema on a step without tools forces an answer tool taking it", () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const request = stepRequest({ responseFormat: { schema, name: "final_answer" } });
    expect(forcedTool(request)).toBe("final_answer");
    expect(JSON.parse(requestBody("claude-sonnet-4-5", request, { defaultMaxTokens: 1024 }))).toEqual({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 1024,
      stream: true,
      tools: [{ name: "final_answer", description: "Give the final answer in this format.", input_schema: schema }],
      tool_choice: { type: "tool", name: "final_answer" },
    });
  });

  it("an output schema on a step with tools forces nothing", () => {
    const request = stepRequest({
      tools: [{ name: "search", description: "", parameters: {} }],
      responseFormat: { schema: { type: "object" }, name: "final_answer" },
    });
    expect(forcedTool(request)).toBeUndefined();
    const sent = JSON.parse(requestBody("claude-sonnet-4-5", request, { defaultMaxTokens: 1024 })) as Record<string, unknown>;
    expect(sent.tools).toEqual([{ name: "search", input_schema: { type: "object", properties: {} } }]);
    expect(sent.tool_choice).toEqual({ type: "auto" });
  });
});
