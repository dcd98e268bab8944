import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SseParser } from "../../src/models/http/sse.js";
import { ResponsesStreamState, requestBody, type ResponsesEvent } from "../../src/models/openai-responses/wire.js";
import { ModelError, type ConversationMessage, type ModelStreamPart } from "../../src/models/types.js";
import { cutAt, stepRequest } from "./helpers.js";

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/openai-responses/${name}`, import.meta.url));

interface Replay {
  /** The parts handed on; the finish only when the stream finished and did not fail. */
  parts: ModelStreamPart[];
  error: unknown;
  state: ResponsesStreamState;
}

/**
 * The stream as a client would read it: chunks through SseParser (which
 * drops the `event:` lines), each event JSON.parsed into the state, the parts
 * of one network read handed on together, the parts before a failure too.
 */
function replay(chunks: Buffer[]): Replay {
  const parser = new SseParser();
  const state = new ResponsesStreamState("oa");
  const out: ModelStreamPart[] = [];
  const parts: ModelStreamPart[] = [];
  let error: unknown;
  const handle = (data: string): void => {
    if (error !== undefined) return;
    try {
      state.read(JSON.parse(data) as ResponsesEvent, parts);
    } catch (caught) {
      error = caught;
    }
  };
  for (const chunk of chunks) {
    for (const data of parser.push(chunk)) handle(data);
    out.push(...parts.splice(0));
  }
  for (const data of parser.end()) handle(data);
  out.push(...parts.splice(0));
  if (error === undefined && state.finished) out.push(...state.end());
  return { parts: out, error, state };
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

/** The fixture read whole, cut at every byte, and cut at random places: the same outcome every time. */
function expectEveryChunking(name: string, expected: ModelStreamPart[]): Replay {
  const bytes = fixture(name);
  const whole = replay([bytes]);
  expect(merged(whole.parts)).toStrictEqual(expected);
  const same = (run: Replay): void => {
    expect(merged(run.parts)).toStrictEqual(expected);
    expect(String(run.error)).toBe(String(whole.error));
  };
  same(replay(cutAt(bytes, [...bytes.keys()])));
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (cuts) => same(replay(cutAt(bytes, cuts)))),
    { numRuns: 100 },
  );
  return whole;
}

describe("Responses stream fixtures", () => {
  test("a reasoning summary in two parts, then text; usage with cached tokens", () => {
    const run = expectEveryChunking("text-reasoning-cached.sse", [
      { type: "reasoning-delta", text: "**Recalling the capital**\n\nThe user asks\n\n**Answering briefly**" },
      { type: "text-delta", text: "The capital of Iceland is Reykjavík 🇮🇸." },
      { type: "finish", usage: { inputTokens: 1543, outputTokens: 212, cachedInputTokens: 1408 }, finishReason: "stop" },
    ]);
    expect(run.state.finished).toBe(true);
  });

  test("two function calls: call_id, name and the arguments assembled; cached_tokens 0 is left out", () => {
    expectEveryChunking("parallel-function-calls.sse", [
      { type: "tool-call", toolUseId: "call_Qm3Xv8Rt1Wz6Ln4Jp9Ks2Hd", name: "get_weather", args: { city: "São Paulo" } },
      { type: "tool-call", toolUseId: "call_Yb5Nc0Pf7Gs2Tk8Dm1Vw4Re", name: "get_time", args: { tz: "America/Sao_Paulo" } },
      { type: "finish", usage: { inputTokens: 402, outputTokens: 131 }, finishReason: "tool-calls" },
    ]);
  });

  test("a refusal is streamed as text and finishes as refusal", () => {
    const run = expectEveryChunking("refusal.sse", [
      { type: "text-delta", text: "I'm sorry, but I can't help with that." },
      { type: "finish", usage: { inputTokens: 95, outputTokens: 340 }, finishReason: "refusal" },
    ]);
    expect(run.state.finishReason).toBe("refusal");
  });

  test("response.incomplete for max_output_tokens is length, for content_filter content-filter", () => {
    expectEveryChunking("incomplete-max-output-tokens.sse", [
      { type: "text-delta", text: "Once upon a" },
      { type: "finish", usage: { inputTokens: 25, outputTokens: 300 }, finishReason: "length" },
    ]);
    expectEveryChunking("incomplete-content-filter.sse", [
      { type: "text-delta", text: "Here is" },
      { type: "finish", usage: { inputTokens: 61, outputTokens: 2 }, finishReason: "content-filter" },
    ]);
  });

  test("a structured-output answer is JSON text", () => {
    const run = expectEveryChunking("structured-output.sse", [
      { type: "text-delta", text: '{"city":"Kraków","population":804237}' },
      { type: "finish", usage: { inputTokens: 178, outputTokens: 86 }, finishReason: "stop" },
    ]);
    const text = run.parts[0]?.type === "text-delta" ? run.parts[0].text : "";
    expect(JSON.parse(text)).toEqual({ city: "Kraków", population: 804237 });
  });

  test("response.failed throws a retryable ModelError for server_error, after the text before it", () => {
    const run = expectEveryChunking("failed.sse", [{ type: "text-delta", text: "The answer" }]);
    expect(run.error).toBeInstanceOf(ModelError);
    expect(run.error).toMatchObject({
      provider: "oa",
      retryable: true,
      status: undefined,
      message: expect.stringMatching(/^oa: the response failed: server_error: An error occurred/),
    });
    expect(run.state.finished).toBe(false);
  });

  test("an error event, nested as the API sends it, throws a retryable ModelError for rate_limit_exceeded", () => {
    const run = expectEveryChunking("error-event.sse", []);
    expect(run.error).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/^oa: stream error: rate_limit_exceeded: Rate limit reached/),
    });
  });
});

describe("ResponsesStreamState", () => {
  const read = (events: ResponsesEvent[], state = new ResponsesStreamState("oa")): ModelStreamPart[] => {
    const parts: ModelStreamPart[] = [];
    for (const event of events) state.read(event, parts);
    return [...parts, ...state.end()];
  };
  const failure = (event: ResponsesEvent): ModelError => {
    try {
      new ResponsesStreamState("oa").read(event, []);
    } catch (error) {
      return error as ModelError;
    }
    throw new Error("no error thrown");
  };
  const added = (output_index: number, id: string, call_id: string | undefined, name: string): ResponsesEvent => ({
    type: "response.output_item.added",
    output_index,
    item: { type: "function_call", id, call_id, name, arguments: "" },
  });
  const args = (output_index: number, item_id: string, delta: string): ResponsesEvent => ({
    type: "response.function_call_arguments.delta",
    output_index,
    item_id,
    delta,
  });

  test("function calls whose argument deltas interleave are assembled by item; a missing call_id is generated", () => {
    const parts = read([
      added(0, "fc_a", "call_a", "get_weather"),
      added(1, "fc_b", undefined, "get_time"),
      args(0, "fc_a", '{"city":"Li'),
      args(1, "fc_b", '{"tz":"Europe/'),
      args(0, "fc_a", 'ma"}'),
      args(1, "fc_b", 'Lisbon"}'),
      { type: "response.completed", response: { usage: { input_tokens: 5, output_tokens: 7 } } },
    ]);
    expect(parts.slice(0, 2)).toMatchObject([
      { type: "tool-call", toolUseId: "call_a", name: "get_weather", args: { city: "Lima" } },
      { type: "tool-call", name: "get_time", args: { tz: "Europe/Lisbon" } },
    ]);
    expect(parts[1]).toMatchObject({ toolUseId: expect.stringMatching(/^call_[0-9A-Za-z]{24}$/) });
    expect(parts[2]).toEqual({ type: "finish", usage: { inputTokens: 5, outputTokens: 7 }, finishReason: "tool-calls" });
  });

  test("output_item.done carries the whole arguments, and opens a call no added event announced", () => {
    const parts = read([
      added(0, "fc_a", "call_a", "f"),
      args(0, "fc_a", '{"broken'),
      {
        type: "response.output_item.done",
        output_index: 0,
        item: { type: "function_call", id: "fc_a", call_id: "call_a", name: "f", arguments: '{"whole":1}' },
      },
      {
        type: "response.output_item.done",
        output_index: 1,
        item: { type: "function_call", id: "fc_b", call_id: "call_b", name: "g", arguments: "{}" },
      },
      { type: "response.completed", response: {} },
    ]);
    expect(parts.filter((part) => part.type === "tool-call")).toEqual([
      { type: "tool-call", toolUseId: "call_a", name: "f", args: { whole: 1 } },
      { type: "tool-call", toolUseId: "call_b", name: "g", args: {} },
    ]);
  });

  test("without a terminal event nothing finished; an unknown incomplete reason is other", () => {
    const state = new ResponsesStreamState("oa");
    state.read({ type: "response.output_text.delta", delta: "hi" }, []);
    state.read({ type: "response.content_part.done" }, []);
    expect([state.finished, state.finishReason]).toEqual([false, undefined]);
    expect(read([{ type: "response.incomplete", response: { incomplete_details: { reason: "something_new" } } }]).at(-1)).toMatchObject({
      finishReason: "other",
    });
    expect(read([{ type: "response.incomplete", response: { incomplete_details: null } }]).at(-1)).toMatchObject({ finishReason: "other" });
  });

  test("error events: the documented flat shape, the status one may carry; bad requests are not retryable", () => {
    const flat = failure({ type: "error", code: "server_error", message: "boom" });
    expect([flat.message, flat.retryable, flat.status]).toEqual(["oa: stream error: server_error: boom", true, undefined]);
    const status = failure({
      type: "error",
      status: 503,
      error: { type: "service_unavailable_error", code: null, message: "Please retry." },
    });
    expect([status.message, status.retryable, status.status]).toEqual([
      "oa: stream error: service_unavailable_error: Please retry.",
      true,
      503,
    ]);
    const bad = failure({
      type: "error",
      status: 400,
      error: { type: "invalid_request_error", code: "context_length_exceeded", message: "Too long." },
    });
    expect([bad.retryable, bad.status]).toEqual([false, 400]);
    expect(failure({ type: "error" }).message).toBe("oa: stream error: no error message");
    const failed = failure({ type: "response.failed", response: { error: { code: "invalid_prompt", message: "Flagged." } } });
    expect([failed.message, failed.retryable]).toEqual(["oa: the response failed: invalid_prompt: Flagged.", false]);
  });
});

describe("Responses requestBody", () => {
  const body = (...args: Parameters<typeof requestBody>): Record<string, unknown> =>
    JSON.parse(requestBody(...args)) as Record<string, unknown>;
  const parameters = { type: "object", properties: { tz: { type: "string" } }, required: ["tz"] };

  test("system becomes instructions; tool calls and results become function_call and function_call_output items", () => {
    const messages: ConversationMessage[] = [
      { role: "user", content: "Time in Paris and Tokyo?" },
      {
        role: "assistant",
        content: "Checking.",
        toolCalls: [
          { toolUseId: "call_a", name: "get_time", args: { tz: "Europe/Paris" } },
          { toolUseId: "call_b", name: "get_time", args: { tz: "Asia/Tokyo" } },
        ],
      },
      { role: "tool", toolUseId: "call_a", name: "get_time", result: "10:00" },
      { role: "tool", toolUseId: "call_b", name: "get_time", error: "timeout" },
      { role: "assistant", content: "", toolCalls: [{ toolUseId: "call_c", name: "get_time", args: {} }] },
      { role: "tool", toolUseId: "call_c", name: "get_time" },
      { role: "assistant", content: "" },
      { role: "system", content: "Answer in French." },
    ];
    const sent = body("o3-pro", stepRequest({ system: "Be brief.", messages }));
    expect(sent.instructions).toBe("Be brief.");
    expect(sent.input).toEqual([
      { role: "user", content: "Time in Paris and Tokyo?" },
      { role: "assistant", content: "Checking." },
      { type: "function_call", call_id: "call_a", name: "get_time", arguments: '{"tz":"Europe/Paris"}' },
      { type: "function_call", call_id: "call_b", name: "get_time", arguments: '{"tz":"Asia/Tokyo"}' },
      { type: "function_call_output", call_id: "call_a", output: "10:00" },
      { type: "function_call_output", call_id: "call_b", output: "Error: timeout" },
      { type: "function_call", call_id: "call_c", name: "get_time", arguments: "{}" },
      { type: "function_call_output", call_id: "call_c", output: "" },
      { role: "system", content: "Answer in French." },
    ]);
    expect(body("o3-pro", stepRequest())).not.toHaveProperty("instructions");
  });

  test("tools are flat, non-strict functions with an object schema", () => {
    const sent = body(
      "m",
      stepRequest({
        tools: [
          { name: "get_time", description: "Current time in a zone", parameters },
          { name: "noop", description: "", parameters: {} },
        ],
      }),
    );
    expect(sent.tools).toEqual([
      { type: "function", name: "get_time", description: "Current time in a zone", parameters, strict: false },
      { type: "function", name: "noop", parameters: { type: "object", properties: {} }, strict: false },
    ]);
    expect(body("m", stepRequest())).not.toHaveProperty("tools");
  });

  test("params: max_output_tokens and temperature, no seed; streamed and not stored", () => {
    const sent = body("m", stepRequest({ params: { maxTokens: 300, temperature: 0.2, seed: 7 } }));
    expect(sent).toMatchObject({ model: "m", stream: true, store: false, max_output_tokens: 300, temperature: 0.2 });
    expect(sent).not.toHaveProperty("seed");
    const bare = body("m", stepRequest());
    expect([bare.max_output_tokens, bare.temperature, bare.text]).toEqual([undefined, undefined, undefined]);
  });

  test("responseFormat becomes a non-strict json_schema text.format", () => {
    const schema = { type: "object", properties: { city: { type: "string" } } };
    expect(body("m", stepRequest({ responseFormat: { name: "city", schema } })).text).toEqual({
      format: { type: "json_schema", name: "city", schema, strict: false },
    });
  });
});
