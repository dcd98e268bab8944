import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { splitWords } from "../models/words.js";
import type { ScriptedReply } from "./scripted-model.js";

export type FakeReply = ScriptedReply;

export interface FakeRequest {
  protocol: "openai" | "anthropic";
  path: string;
  headers: IncomingHttpHeaders;
  // Parsed JSON as the client sent it; tests read wire fields directly.
  body: Record<string, any>;
}

/** A reply for every call, a list (one per call, then the default), or a function (undefined = default). */
export type FakeScript = FakeReply | FakeReply[] | ((request: FakeRequest) => FakeReply | undefined);

export interface FakeProviderOptions {
  /** Words in the default reply (`tok0 tok1 ...`), one delta chunk each. @default 20 */
  tokens?: number;
  /** Delay before the first byte of every response, in milliseconds. @default 0 */
  latencyMs?: number;
  /** Keep parsed requests in `requests`; turn off for benchmarks. @default true */
  record?: boolean;
  /** How many of the most recent requests `requests` keeps. @default 1000 */
  maxRecorded?: number;
}

export interface FakeProvider {
  /** Base URL, e.g. `http://127.0.0.1:1234`. */
  readonly url: string;
  /** `baseURL` / `baseUrl` for OpenAI and OpenAI-compatible clients. */
  readonly openaiBaseUrl: string;
  /** `baseURL` for @ai-sdk/anthropic, which appends `/messages`. */
  readonly anthropicBaseUrl: string;
  readonly requests: FakeRequest[];
  readonly requestCount: number;
  /** Sets what the following calls answer; no argument restores the default reply. */
  script(script?: FakeScript): void;
  close(): Promise<void>;
}

interface Resolved {
  words: string[];
  reasoning: string[];
  toolCalls: Array<{ id: string; name: string; args: Record<string, unknown> }>;
  usage: { inputTokens: number; outputTokens: number };
}

interface Wire {
  head(reply: Resolved): string[];
  content(reply: Resolved): string[];
  tail(reply: Resolved, body: FakeRequest["body"]): string[];
  json(reply: Resolved): unknown;
  error(status: number, message: string): unknown;
  streamError(message: string): string;
}

/**
 * A loopback server speaking OpenAI Chat Completions (`POST /v1/chat/completions`)
 * and Anthropic Messages (`POST /v1/messages`), streamed or not, so tests and
 * the benchmark run the real provider packages over real HTTP. Built for
 * thousands of calls a second: the default reply's chunks are encoded once
 * and a response without delays goes out in a single write.
 */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const defaultReply: FakeReply = { text: Array.from({ length: options.tokens ?? 20 }, (_, index) => `tok${index}`).join(" ") };
  const defaultContent = new Map<Wire, string[]>();
  const record = options.record ?? true;
  const maxRecorded = options.maxRecorded ?? 1000;
  const requests: FakeRequest[] = [];
  let requestCount = 0;
  let current: FakeScript | undefined;
  let listIndex = 0;

  function nextReply(request: FakeRequest): FakeReply {
    if (typeof current === "function") return current(request) ?? defaultReply;
    if (Array.isArray(current)) return current[listIndex++] ?? defaultReply;
    return current ?? defaultReply;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? "/").split("?")[0]!;
    const wire = req.method === "POST" ? WIRES[path] : undefined;
    if (wire === undefined) return sendJson(res, 404, { error: { message: `fake provider: no route ${req.method} ${path}` } });
    let body: FakeRequest["body"];
    try {
      body = JSON.parse(raw) as FakeRequest["body"];
    } catch {
      return sendJson(res, 400, wire.error(400, "request body is not JSON"));
    }
    requestCount += 1;
    const request: FakeRequest = { protocol: wire === openaiWire ? "openai" : "anthropic", path, headers: req.headers, body };
    if (record) {
      requests.push(request);
      if (requests.length > maxRecorded) requests.shift();
    }
    const reply = nextReply(request);
    if (options.latencyMs) await sleep(options.latencyMs);
    // Left open: the client's abort (or close()) ends it.
    if (reply.hang === true) return;
    if (reply.resetBeforeHead === true) return void req.socket.destroy();
    if (reply.raw !== undefined) return sendRaw(res, reply.raw, reply.chunkDelayMs);
    if (reply.error !== undefined) {
      return sendJson(res, reply.error.status, wire.error(reply.error.status, reply.error.message), reply.error.headers);
    }

    const resolved = resolve(reply, request, raw.length, requestCount);
    if (body.stream !== true) return sendJson(res, 200, wire.json(resolved));
    let content = reply === defaultReply ? defaultContent.get(wire) : undefined;
    if (content === undefined) {
      content = wire.content(resolved);
      if (reply === defaultReply) defaultContent.set(wire, content);
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const head = wire.head(resolved);
    if (reply.streamError !== undefined || reply.dropMidStream === true) {
      const half = [...head, ...content.slice(0, Math.ceil(content.length / 2))].join("");
      if (reply.streamError !== undefined) return void res.end(half + wire.streamError(reply.streamError));
      // Flushed first, so the client really sees half a stream before the socket dies.
      return void res.write(half, () => res.destroy());
    }
    const frames = [...head, ...content, ...wire.tail(resolved, body)];
    // Flushed, then left open: the client's idle timeout (or abort) ends it.
    if (reply.stallAfterFrames !== undefined) return void res.write(frames.slice(0, reply.stallAfterFrames).join(""));
    if (!reply.chunkDelayMs) return void res.end(frames.join(""));
    for (const frame of frames) {
      if (res.destroyed) return;
      res.write(frame);
      await sleep(reply.chunkDelayMs);
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: `${url}/v1`,
    requests,
    get requestCount() {
      return requestCount;
    },
    script(script) {
      current = script;
      listIndex = 0;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

function resolve(reply: FakeReply, request: FakeRequest, bodyLength: number, callNumber: number): Resolved {
  const prefix = request.protocol === "openai" ? "call" : "toolu";
  const words = splitWords(reply.text ?? "");
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `${prefix}_${callNumber}_${index}`,
    name: call.name,
    args: call.args ?? {},
  }));
  // About four bytes of request per prompt token: deterministic and cheap.
  const usage = reply.usage ?? { inputTokens: Math.ceil(bodyLength / 4), outputTokens: words.length + toolCalls.length };
  return { words, reasoning: splitWords(reply.reasoning ?? ""), toolCalls, usage };
}

const data = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;
const openaiChunk = (delta: Record<string, unknown>, finishReason: string | null = null): string =>
  data({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 0, model: "fake-model", choices: [{ index: 0, delta, finish_reason: finishReason }] });
const openaiUsage = (reply: Resolved) => ({
  prompt_tokens: reply.usage.inputTokens,
  completion_tokens: reply.usage.outputTokens,
  total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
});
const openaiToolCall = (call: Resolved["toolCalls"][number]) => ({ id: call.id, type: "function", function: { name: call.name, arguments: JSON.stringify(call.args) } });

const openaiWire: Wire = {
  head: () => [openaiChunk({ role: "assistant", content: "" })],
  content: (reply) => [
    ...reply.reasoning.map((text) => openaiChunk({ reasoning_content: text })),
    ...reply.words.map((text) => openaiChunk({ content: text })),
    ...reply.toolCalls.map((call, index) => openaiChunk({ tool_calls: [{ index, ...openaiToolCall(call) }] })),
  ],
  tail: (reply, body) => [
    openaiChunk({}, reply.toolCalls.length > 0 ? "tool_calls" : "stop"),
    ...(body.stream_options?.include_usage === true ? [data({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 0, model: "fake-model", choices: [], usage: openaiUsage(reply) })] : []),
    "data: [DONE]\n\n",
  ],
  json: (reply) => ({
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 0,
    model: "fake-model",
    choices: [{
      index: 0,
      message: { role: "assistant", content: reply.words.join("") || null, ...(reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls.map(openaiToolCall) } : {}) },
      finish_reason: reply.toolCalls.length > 0 ? "tool_calls" : "stop",
    }],
    usage: openaiUsage(reply),
  }),
  error: (status, message) => ({ error: { message, type: status >= 500 ? "server_error" : "invalid_request_error", param: null, code: null } }),
  streamError: (message) => data({ error: { message, type: "server_error", param: null, code: null } }),
};

const event = (type: string, value: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...value })}\n\n`;
const block = (index: number, start: Record<string, unknown>, deltas: Array<Record<string, unknown>>): string[] => [
  event("content_block_start", { index, content_block: start }),
  ...deltas.map((delta) => event("content_block_delta", { index, delta })),
  event("content_block_stop", { index }),
];

const anthropicWire: Wire = {
  head: (reply) => [
    event("message_start", {
      message: { id: "msg_fake", type: "message", role: "assistant", model: "fake-model", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: reply.usage.inputTokens, output_tokens: 1 } },
    }),
  ],
  content: (reply) => {
    const frames: string[] = [];
    let index = 0;
    if (reply.reasoning.length > 0) {
      const deltas = [...reply.reasoning.map((thinking) => ({ type: "thinking_delta", thinking })), { type: "signature_delta", signature: "fake" }];
      frames.push(...block(index++, { type: "thinking", thinking: "" }, deltas));
    }
    if (reply.words.length > 0) frames.push(...block(index++, { type: "text", text: "" }, reply.words.map((text) => ({ type: "text_delta", text }))));
    for (const call of reply.toolCalls) {
      frames.push(...block(index++, { type: "tool_use", id: call.id, name: call.name, input: {} }, [{ type: "input_json_delta", partial_json: JSON.stringify(call.args) }]));
    }
    return frames;
  },
  tail: (reply) => [
    event("message_delta", { delta: { stop_reason: reply.toolCalls.length > 0 ? "tool_use" : "end_turn", stop_sequence: null }, usage: { output_tokens: reply.usage.outputTokens } }),
    event("message_stop", {}),
  ],
  json: (reply) => ({
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model: "fake-model",
    content: [
      ...(reply.words.length > 0 ? [{ type: "text", text: reply.words.join("") }] : []),
      ...reply.toolCalls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: call.args })),
    ],
    stop_reason: reply.toolCalls.length > 0 ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens },
  }),
  error: (status, message) => ({
    type: "error",
    error: { type: ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message },
  }),
  streamError: (message) => event("error", { error: { type: "overloaded_error", message } }),
};

/** Anthropic's error `type` per status (its API reference, "Errors"). */
const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

const WIRES: Record<string, Wire | undefined> = { "/v1/chat/completions": openaiWire, "/v1/messages": anthropicWire };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolveBody(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A recorded response, frame by frame. */
async function sendRaw(res: ServerResponse, raw: NonNullable<FakeReply["raw"]>, delayMs: number | undefined): Promise<void> {
  res.writeHead(raw.status ?? 200, { "content-type": "text/event-stream", ...raw.headers });
  if (!delayMs) return void res.end(raw.frames.join(""));
  for (const frame of raw.frames) {
    if (res.destroyed) return;
    res.write(frame);
    await sleep(delayMs);
  }
  res.end();
}

const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
