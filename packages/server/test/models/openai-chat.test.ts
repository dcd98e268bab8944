import { getEventListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startFakeProvider, type FakeProvider } from "@agentd/server/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { DEFAULT_TIMEOUTS } from "../../src/models/http/timeouts.js";
import { chatCompletionsProvider } from "../../src/models/openai-chat/client.js";
import { createModelRegistry } from "../../src/models/registry.js";
import { ModelError, type ConversationMessage, type LanguageModel } from "../../src/models/types.js";
import { collect, finishOf, stepRequest, textOf } from "./helpers.js";

const info = (vendorModelId: string) => ({
  id: `provider:local:${vendorModelId}`,
  label: vendorModelId,
  provider: "local",
  vendorModelId,
  source: "platform_offering" as const,
  contextWindowTokens: null,
  pricing: null,
});
const modelAt = (baseUrl: string, options: { apiKey?: string; headers?: Record<string, string> } = {}): LanguageModel =>
  chatCompletionsProvider({ provider: "local", baseUrl, apiKey: options.apiKey, headers: options.headers ?? {}, timeouts: DEFAULT_TIMEOUTS })(info("m"));
const failureOf = (model: LanguageModel, request = stepRequest()) => collect(model, request).then(() => undefined, (caught: unknown) => caught);

interface RawServer {
  baseUrl: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests whose connection closed before the response ended. */
  closedEarly: number;
  close(): Promise<void>;
}

/** A server answering every request with `answer`, for streams the fake provider does not produce. */
async function rawServer(answer: (res: ServerResponse, req: IncomingMessage, callIndex: number) => void): Promise<RawServer> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    res.on("close", () => {
      if (!res.writableFinished) state.closedEarly += 1;
    });
    req.on("end", () => answer(res, req, calls++));
  });
  server.on("connection", () => (state.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const state: RawServer = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`,
    connections: 0,
    closedEarly: 0,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return state;
}

const sse = (...events: unknown[]): string => events.map((event) => `data: ${typeof event === "string" ? event : JSON.stringify(event)}\n\n`).join("");
const delta = (value: Record<string, unknown>, finishReason: string | null = null) => ({ choices: [{ index: 0, delta: value, finish_reason: finishReason }] });
const streamed = (body: string) => (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end(body);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("openai-compatible wire (hand-written client)", () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider({ tokens: 3 });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.script();
    fake.requests.length = 0;
  });

  test("conversation, tools and params become a Chat Completions body", async () => {
    const registry = createModelRegistry(
      { providers: [{ name: "local", type: "openai-compatible", apiKey: "sk-local", baseUrl: `${fake.openaiBaseUrl}/`, headers: { "X-Team": "agents", Authorization: "Bearer override" }, models: [{ id: "qwen" }] }] },
      {},
    );
    const messages: ConversationMessage[] = [
      { role: "user", content: "time?" },
      { role: "assistant", content: "", toolCalls: [{ toolUseId: "call_a", name: "get_time", args: { tz: "UTC" } }] },
      { role: "tool", toolUseId: "call_a", name: "get_time", error: "timeout" },
      { role: "assistant", content: "" },
      { role: "system", content: "Be polite." },
      { role: "user", content: "again" },
    ];
    const tools = [{ name: "get_time", description: "", parameters: { required: ["tz"] } }];
    await collect(registry.resolve("provider:local"), stepRequest({ system: "Be brief.", messages, tools, params: { temperature: 0, maxTokens: 9, seed: 1 } }));
    const { body, headers, path } = fake.requests[0]!;
    expect(path).toBe("/v1/chat/completions");
    expect(body).toEqual({
      model: "qwen",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "time?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_a", type: "function", function: { name: "get_time", arguments: '{"tz":"UTC"}' } }] },
        { role: "tool", tool_call_id: "call_a", content: "Error: timeout" },
        { role: "system", content: "Be polite." },
        { role: "user", content: "again" },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: "function", function: { name: "get_time", parameters: { type: "object", properties: {}, required: ["tz"] } } }],
      tool_choice: "auto",
      temperature: 0,
      max_tokens: 9,
      seed: 1,
    });
    expect([headers["x-team"], headers.authorization, headers["content-type"]]).toEqual(["agents", "Bearer override", "application/json"]);
  });

  test("reasoning deltas come before the text", async () => {
    fake.script({ reasoning: "let me think", text: "done" });
    const parts = await collect(modelAt(fake.openaiBaseUrl));
    expect(parts.map((part) => part.type)).toEqual(["reasoning-delta", "text-delta", "finish"]);
    expect((parts[0] as { text: string }).text).toBe("let me think");
  });

  test("deltas arriving apart stay apart; deltas of one network read are joined", async () => {
    fake.script({ text: "one two three", chunkDelayMs: 15 });
    const apart = await collect(modelAt(fake.openaiBaseUrl));
    expect(apart.filter((part) => part.type === "text-delta").map((part) => (part as { text: string }).text)).toEqual(["one ", "two ", "three"]);
    fake.script({ text: "one two three" });
    const together = await collect(modelAt(fake.openaiBaseUrl));
    expect(together.filter((part) => part.type === "text-delta").map((part) => (part as { text: string }).text)).toEqual(["one two three"]);
  });

  test("calls reuse one keep-alive connection, after an HTTP error too", async () => {
    const server = await rawServer((res, _req, call) => {
      if (call === 1) return void res.writeHead(429, { "content-type": "application/json" }).end('{"error":{"message":"slow down"}}');
      streamed(sse(delta({ content: "hi" }, "stop"), "[DONE]"))(res);
    });
    const model = modelAt(server.baseUrl);
    for (let call = 0; call < 5; call++) {
      if (call === 1) expect(((await failureOf(model)) as ModelError).status).toBe(429);
      else expect(textOf(await collect(model))).toBe("hi");
    }
    expect(server.connections).toBe(1);
    await server.close();
  });

  test("a body that ends a while after [DONE] does not hold the call, and its socket is reused", async () => {
    const server = await rawServer((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "hi" }, "stop"), "[DONE]"));
      setTimeout(() => res.end(), 400);
    });
    const model = modelAt(server.baseUrl);
    const started = Date.now();
    expect(textOf(await collect(model))).toBe("hi");
    expect(Date.now() - started).toBeLessThan(300);
    await sleep(450);
    await collect(model);
    expect([server.connections, server.closedEarly]).toEqual([1, 0]);
    await server.close();
  });

  test("a connection lost after [DONE], while the rest of the body drains, harms nothing", async () => {
    const server = await rawServer((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "hi" }, "stop"), "[DONE]"), () => setTimeout(() => res.destroy(), 50));
    });
    const model = modelAt(server.baseUrl);
    expect(textOf(await collect(model))).toBe("hi");
    await sleep(100);
    expect(textOf(await collect(model))).toBe("hi");
    expect(server.connections).toBe(2);
    await server.close();
  });
});

describe("openai-compatible stream parsing", () => {
  test("tool-call deltas accumulate by index, arguments in pieces, calls interleaved", async () => {
    const server = await rawServer(streamed(sse(
      delta({ role: "assistant", content: null, tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_time", arguments: "" } }] }),
      delta({ tool_calls: [{ index: 1, id: "call_2", type: "function", function: { name: "noop", arguments: "{" } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"tz":' } }] }),
      delta({ tool_calls: [{ index: 1, function: { arguments: "}" } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"UTC"}' } }] }),
      delta({}, "tool_calls"),
      { choices: [], usage: { prompt_tokens: 12, completion_tokens: 7 } },
      "[DONE]",
    )));
    const parts = await collect(modelAt(server.baseUrl));
    expect(parts).toEqual([
      { type: "tool-call", toolUseId: "call_1", name: "get_time", args: { tz: "UTC" } },
      { type: "tool-call", toolUseId: "call_2", name: "noop", args: {} },
      { type: "finish", usage: { inputTokens: 12, outputTokens: 7 }, finishReason: "tool-calls" },
    ]);
    await server.close();
  });

  test("calls without index or id, arguments as an object, `reasoning` instead of `reasoning_content`", async () => {
    const server = await rawServer(streamed(sse(
      delta({ reasoning: "hmm" }),
      delta({ tool_calls: [{ function: { name: "a", arguments: { x: 1 } } }] }),
      delta({ tool_calls: [{ id: "second", function: { name: "b", arguments: "not json" } }] }),
      delta({}, "stop"),
      "[DONE]",
    )));
    const parts = await collect(modelAt(server.baseUrl));
    const calls = parts.filter((part) => part.type === "tool-call");
    expect(calls.map((call) => [call.name, call.args])).toEqual([["a", { x: 1 }], ["b", {}]]);
    expect(calls[0]!.toolUseId).toMatch(/^call_\w{24}$/);
    expect(calls[1]!.toolUseId).toBe("second");
    expect(parts[0]).toEqual({ type: "reasoning-delta", text: "hmm" });
    expect(finishOf(parts)).toEqual({ type: "finish", usage: { inputTokens: 0, outputTokens: 0 }, finishReason: "stop" });
    await server.close();
  });

  test("a stream with a finish reason but no [DONE] finishes; one with neither broke off", async () => {
    const whole = await rawServer(streamed(sse(delta({ content: "a" }), delta({}, "length"))));
    expect(finishOf(await collect(modelAt(whole.baseUrl))).finishReason).toBe("length");
    await whole.close();
    const cut = await rawServer(streamed(sse(delta({ content: "a" }))));
    const error = await failureOf(modelAt(cut.baseUrl));
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(/^local: the response from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions broke off: the stream ended before the model finished$/);
    await cut.close();
  });

  test("a chunk that is not JSON is a ModelError quoting it", async () => {
    const server = await rawServer(streamed(sse(delta({ content: "a" }), "{oops", "[DONE]")));
    expect(((await failureOf(modelAt(server.baseUrl))) as Error).message).toMatch(/^local: the response from .* has an event that is not JSON: \{oops$/);
    await server.close();
  });

  test("an error object mid-stream, OpenAI or older-vLLM shaped, is a ModelError after the text before it", async () => {
    const bodies = [
      sse(delta({ content: "a" }), { error: { message: "Overloaded", type: "server_error" } }),
      sse(delta({ content: "a" }), { object: "error", message: "context too long", type: "BadRequestError", code: 400 }),
    ];
    const server = await rawServer((res, _req, call) => streamed(bodies[call]!)(res));
    const model = modelAt(server.baseUrl);
    for (const expected of ["local: stream error: server_error: Overloaded", "local: stream error: BadRequestError: context too long"]) {
      const seen: string[] = [];
      const error = await (async () => {
        for await (const part of model.stream(stepRequest())) if (part.type === "text-delta") seen.push(part.text);
      })().catch((caught: unknown) => caught);
      expect([(error as ModelError).message, seen]).toEqual([expected, ["a"]]);
    }
    await server.close();
  });

  test("non-2xx bodies: Ollama's string error, FastAPI's detail, plain text truncated, empty, a redirect", async () => {
    const bodies = ['{"error":"model \\"m\\" not found"}', '{"detail":"Not Found"}', `<html>${"x".repeat(2000)}</html>`, "", "moved"];
    const statuses = [404, 404, 502, 503, 301];
    const server = await rawServer((res, _req, call) => res.writeHead(statuses[call]!).end(bodies[call]));
    const model = modelAt(server.baseUrl);
    const messages: string[] = [];
    for (let call = 0; call < bodies.length; call++) {
      const error = (await failureOf(model)) as ModelError;
      expect(error.status).toBe(statuses[call]);
      messages.push(error.message.replace(/^local: HTTP \d+ from http:\S+\/v1\/chat\/completions: /, ""));
    }
    expect(messages.slice(0, 2)).toEqual(['model "m" not found', "Not Found"]);
    expect(messages[2]).toMatch(/^<html>x+\.\.\.$/);
    expect(messages[2]!.length).toBe(503);
    expect(messages.slice(3)).toEqual(["Service Unavailable", "moved"]);
    await server.close();
  });
});

describe("openai-compatible connections and abort", () => {
  test("a keep-alive socket the server dropped while idle is retried once on a fresh one", async () => {
    const server = await rawServer((res, req, call) => {
      // The second request arrives on the kept-alive socket: drop it unanswered.
      if (call === 1) return void req.socket.destroy();
      streamed(sse(delta({ content: `call ${call}` }, "stop"), "[DONE]"))(res);
    });
    const model = modelAt(server.baseUrl);
    expect(textOf(await collect(model))).toBe("call 0");
    expect(textOf(await collect(model))).toBe("call 2");
    expect(server.connections).toBe(2);
    await server.close();
  });

  test("the retry goes on a new connection, not on another pooled socket the server may be closing too", async () => {
    const served = new WeakSet<object>();
    let dropped = 0;
    const server = await rawServer(async (res, req, call) => {
      // Every socket that served a request before is dropped on its next one (a keep-alive timeout ends them all).
      if (call >= 2 && served.has(req.socket)) {
        dropped++;
        return void req.socket.destroy();
      }
      served.add(req.socket);
      if (call < 2) await sleep(30); // the first two overlap: two sockets in the pool
      streamed(sse(delta({ content: `call ${call}` }, "stop"), "[DONE]"))(res);
    });
    const model = modelAt(server.baseUrl);
    await Promise.all([collect(model), collect(model)]);
    expect(server.connections).toBe(2);
    expect(textOf(await collect(model))).toMatch(/^call \d$/);
    expect(dropped).toBe(1);
    expect(server.connections).toBe(3);
    await server.close();
  });

  test("stopping the iteration early closes the connection", async () => {
    const server = await rawServer(async (res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let index = 0; index < 100 && !res.destroyed; index++) {
        res.write(sse(delta({ content: `w${index} ` })));
        await sleep(10);
      }
      res.end();
    });
    for await (const part of modelAt(server.baseUrl).stream(stepRequest())) if (part.type === "text-delta") break;
    await sleep(50);
    expect(server.closedEarly).toBe(1);
    await server.close();
  });

  test("an abort right after the call starts rejects with the signal's reason; listeners are removed", async () => {
    const server = await rawServer(streamed(sse(delta({ content: "a" }, "stop"), "[DONE]")));
    const model = modelAt(server.baseUrl);
    const controller = new AbortController();
    const request = stepRequest({ signal: controller.signal });
    const reason = new Error("stop now");
    queueMicrotask(() => controller.abort(reason));
    expect(await failureOf(model, request)).toBe(reason);
    const kept = new AbortController();
    await collect(model, stepRequest({ signal: kept.signal }));
    expect(await failureOf(modelAt(`http://127.0.0.1:1/v1`), stepRequest({ signal: kept.signal }))).toBeInstanceOf(ModelError);
    expect(getEventListeners(kept.signal, "abort")).toHaveLength(0);
    await server.close();
  });

  test("aborting mid-stream closes the connection promptly", async () => {
    const server = await rawServer(async (res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let index = 0; index < 100 && !res.destroyed; index++) {
        res.write(sse(delta({ content: `w${index} ` })));
        await sleep(10);
      }
      res.end();
    });
    const controller = new AbortController();
    let deltas = 0;
    const error = await (async () => {
      for await (const part of modelAt(server.baseUrl).stream(stepRequest({ signal: controller.signal }))) {
        if (part.type === "text-delta" && ++deltas === 3) setTimeout(() => controller.abort(), 5);
      }
    })().catch((caught: unknown) => caught);
    expect((error as Error).name).toBe("AbortError");
    expect(deltas).toBeLessThan(6);
    await sleep(30);
    expect(server.closedEarly).toBe(1);
    await server.close();
  });
});
