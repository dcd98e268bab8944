import { MODEL_JSON_MAX_DEPTH, tooDeep } from "../json-depth.js";
import type { ModelInfo, ToolCall } from "@agentd/protocol";
import type { ConversationMessage, LanguageModel, ModelStepRequest, ModelStreamPart } from "./types.js";
import { mockJsonAnswer } from "./mock-json.js";
import { countRequestWords, countWords, splitWords } from "./words.js";

export const MOCK_PROVIDER = "mock";
export const MOCK_MODEL = "mock";

export function mockInfo(provider: string = MOCK_PROVIDER): ModelInfo {
  return {
    id: `provider:${provider}:${MOCK_MODEL}`,
    label: "Mock model (deterministic echo for demos and tests, not an LLM)",
    provider,
    vendorModelId: MOCK_MODEL,
    source: "platform_offering",
    contextWindowTokens: null,
    pricing: { inputPer1MUsd: 0, outputPer1MUsd: 0, cacheReadPer1MUsd: 0 },
    mock: true,
  };
}

/**
 * The built-in deterministic model: no network, same answer for the same
 * conversation. After tool results it reports them; a user message whose
 * every line is `call <tool> [<json object>]` naming offered tools becomes
 * those tool calls; asked for structured output, it answers the simplest
 * JSON that fits the schema; anything else is echoed back. Tokens are words.
 */
export function mockModel(info: ModelInfo = mockInfo()): LanguageModel {
  return { id: info.id, info, stream: (request) => mockStream(request) };
}

async function* mockStream(request: ModelStepRequest): AsyncGenerator<ModelStreamPart> {
  const inputTokens = countRequestWords(request);
  const calls = toolCallsAsked(request);
  if (calls !== undefined) {
    for (const call of calls) {
      request.signal.throwIfAborted();
      yield { type: "tool-call", ...call };
    }
    const outputTokens = calls.reduce((sum, call) => sum + countWords(`${call.name} ${JSON.stringify(call.args)}`), 0);
    yield { type: "finish", usage: { inputTokens, outputTokens }, finishReason: "tool-calls" };
    return;
  }
  const words = splitWords(mockJsonAnswer(request.system) ?? replyText(request.messages));
  const limit = request.params.maxTokens ?? Infinity;
  const kept = words.slice(0, limit);
  for (const word of kept) {
    request.signal.throwIfAborted();
    yield { type: "text-delta", text: word };
  }
  request.signal.throwIfAborted();
  yield { type: "finish", usage: { inputTokens, outputTokens: kept.length }, finishReason: kept.length < words.length ? "length" : "stop" };
}

function replyText(messages: ConversationMessage[]): string {
  const trailingResults: string[] = [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role !== "tool") break;
    const outcome = message.error !== undefined ? `[error] ${message.error}` : (message.result ?? "");
    trailingResults.unshift(`${message.name} returned: ${outcome}`);
  }
  if (trailingResults.length > 0) return `[mock] ${trailingResults.join("; ")}`;
  const user = lastUserText(messages);
  return user === undefined ? "[mock] Hello from the mock model." : `[mock] You said: ${user}`;
}

const CALL_LINE = /^call\s+([a-zA-Z0-9_-]{1,64})(?:\s+(\{.*\}))?$/;

function toolCallsAsked(request: ModelStepRequest): ToolCall[] | undefined {
  const last = request.messages[request.messages.length - 1];
  if (last?.role !== "user") return undefined;
  const offered = new Set(request.tools.map((tool) => tool.name));
  // Ids count the tool calls already in the conversation, so a replayed
  // conversation gets the same ids.
  let next = request.messages.reduce((sum, message) => sum + (message.role === "assistant" ? (message.toolCalls?.length ?? 0) : 0), 0);
  const calls: ToolCall[] = [];
  for (const line of last.content.split("\n").map((text) => text.trim()).filter((text) => text.length > 0)) {
    const match = CALL_LINE.exec(line);
    if (match === null || !offered.has(match[1]!)) return undefined;
    const args = parseObject(match[2]);
    if (args === undefined) return undefined;
    next += 1;
    calls.push({ toolUseId: `call_${next}`, name: match[1]!, args });
  }
  return calls.length > 0 ? calls : undefined;
}

function parseObject(json: string | undefined): Record<string, unknown> | undefined {
  if (json === undefined) return {};
  try {
    const value: unknown = JSON.parse(json);
    // The prompt is the caller's: arguments nested deeper than a tool takes are not a call.
    if (tooDeep(value, MODEL_JSON_MAX_DEPTH) !== undefined) return undefined;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function lastUserText(messages: ConversationMessage[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role === "user") return message.content;
  }
  return undefined;
}
