import { randomBase62 } from "../../ids.js";
import { parseToolArgs } from "../convert.js";
import type { ModelStepRequest, ModelStreamPart, ModelUsage } from "../types.js";

/** The fields of a streamed `chat.completion.chunk` we read; servers add others. */
export interface ChatChunk {
  choices?: Array<{ delta?: ChatDelta | null; finish_reason?: string | null }> | null;
  usage?: {
    /** Every input token: the cached ones are counted here too, and again in `prompt_tokens_details`. */
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number | null } | null;
  } | null;
  error?: unknown;
  object?: string;
}

interface ChatDelta {
  content?: string | null;
  /** The model declined (OpenAI structured outputs and safety): the text says why, `content` stays null. */
  refusal?: string | null;
  /** vLLM, DeepSeek and llama.cpp say `reasoning_content`; OpenRouter and Ollama `reasoning`. */
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: ToolCallDelta[] | null;
}

interface ToolCallDelta {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: unknown } | null;
}

/**
 * Which field carries `params.maxTokens`. OpenAI deprecated `max_tokens` for
 * `max_completion_tokens` (its o-series models reject the old one); most
 * OpenAI-compatible servers only know `max_tokens`.
 */
export type MaxTokensField = "max_tokens" | "max_completion_tokens";

/** How a provider's dialect of Chat Completions differs in the request. */
export interface RequestBodyOptions {
  /** Default `max_tokens`. */
  maxTokensField?: MaxTokensField | undefined;
}

/** Our step request as a streamed Chat Completions request body. */
export function requestBody(model: string, request: ModelStepRequest, options: RequestBodyOptions = {}): string {
  const messages: unknown[] = [];
  if (request.system.length > 0) messages.push({ role: "system", content: request.system });
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
      case "user":
        messages.push({ role: message.role, content: message.content });
        break;
      case "assistant": {
        const calls = message.toolCalls ?? [];
        if (calls.length === 0) {
          // An empty turn says nothing; some servers reject empty content.
          if (message.content.length > 0) messages.push({ role: "assistant", content: message.content });
          break;
        }
        messages.push({
          role: "assistant",
          content: message.content.length > 0 ? message.content : null,
          tool_calls: calls.map((call) => ({
            id: call.toolUseId,
            type: "function",
            function: { name: call.name, arguments: JSON.stringify(call.args) },
          })),
        });
        break;
      }
      case "tool":
        // Chat Completions has no error flag on tool messages: say it in the text.
        messages.push({
          role: "tool",
          tool_call_id: message.toolUseId,
          content: message.error !== undefined ? `Error: ${message.error}` : (message.result ?? ""),
        });
        break;
    }
  }
  const { temperature, maxTokens, seed } = request.params;
  const format = request.responseFormat;
  return JSON.stringify({
    model,
    messages,
    stream: true,
    // Without it servers stream no usage at all.
    stream_options: { include_usage: true },
    ...(request.tools.length > 0
      ? {
          tools: request.tools.map((tool) => ({
            type: "function",
            function: {
              name: tool.name,
              ...(tool.description.length > 0 ? { description: tool.description } : {}),
              // OpenAI rejects function parameters without `type: "object"` and `properties`.
              parameters: { type: "object", properties: {}, ...tool.parameters },
            },
          })),
          // Explicit, as the AI SDK sent it: older vLLM defaults to "none" without it.
          tool_choice: "auto",
        }
      : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(maxTokens !== undefined ? { [options.maxTokensField ?? "max_tokens"]: maxTokens } : {}),
    ...(seed !== undefined ? { seed } : {}),
    // Not strict: strict mode rejects common schemas (optional properties, no
    // additionalProperties: false) and the engine validates the answer anyway.
    ...(format !== undefined
      ? { response_format: { type: "json_schema", json_schema: { name: format.name, schema: format.schema, strict: false } } }
      : {}),
  });
}

const FINISH_REASONS: Record<string, string> = {
  stop: "stop",
  length: "length",
  content_filter: "content-filter",
  tool_calls: "tool-calls",
  function_call: "tool-calls",
};

/**
 * The state of one streamed response: `read` turns a chunk's deltas into
 * parts, tool calls accumulate until `end` (their arguments come in pieces).
 */
export class ChatStreamState {
  usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  /** The chunk's `finish_reason`, mapped; undefined until one arrives. */
  private reason: string | undefined;
  /** A refusal was streamed: whatever `finish_reason` says (OpenAI says "stop"), the step was refused. */
  private refused = false;
  /** By `index`: a Map, not an array, so a wild index cannot make a huge sparse one. */
  private calls = new Map<number, { id: string; name: string; args: string }>();
  private lastIndex = -1;

  /** Pushes the chunk's text and reasoning deltas onto `parts`. */
  read(chunk: ChatChunk, parts: ModelStreamPart[]): void {
    if (chunk.usage != null) {
      const { prompt_tokens, completion_tokens, prompt_tokens_details } = chunk.usage;
      const cached = prompt_tokens_details?.cached_tokens;
      this.usage = {
        inputTokens: prompt_tokens ?? 0,
        outputTokens: completion_tokens ?? 0,
        ...(cached != null && cached > 0 ? { cachedInputTokens: cached } : {}),
      };
    }
    const choice = chunk.choices?.[0];
    if (choice == null) return;
    const delta = choice.delta;
    if (delta != null) {
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string" && reasoning.length > 0) pushDelta(parts, "reasoning-delta", reasoning);
      if (typeof delta.content === "string" && delta.content.length > 0) pushDelta(parts, "text-delta", delta.content);
      // Shown as text: the refusal is the model's answer, the user has to see it.
      if (typeof delta.refusal === "string" && delta.refusal.length > 0) {
        this.refused = true;
        pushDelta(parts, "text-delta", delta.refusal);
      }
      if (delta.tool_calls != null) for (const call of delta.tool_calls) this.toolCallDelta(call);
    }
    if (choice.finish_reason != null) this.reason = FINISH_REASONS[choice.finish_reason] ?? "other";
  }

  /** Why the model stopped, once the stream said it did; undefined before. */
  get finishReason(): string | undefined {
    return this.reason === undefined ? undefined : this.refused ? "refusal" : this.reason;
  }

  /** The stream said the model stopped: the answer is whole even if `[DONE]` never comes. */
  get finished(): boolean {
    return this.reason !== undefined;
  }

  /** The tool calls, then the one `finish`. */
  end(): ModelStreamPart[] {
    const parts: ModelStreamPart[] = [];
    for (const call of this.calls.values()) {
      // The engine needs an id to match the result to; not every server sends one.
      const toolUseId = call.id !== "" ? call.id : `call_${randomBase62(24)}`;
      parts.push({ type: "tool-call", toolUseId, name: call.name, args: parseToolArgs(call.args) });
    }
    parts.push({ type: "finish", usage: this.usage, finishReason: this.refused ? "refusal" : (this.reason ?? "other") });
    return parts;
  }

  /** The first delta of a call carries its id and name, later ones pieces of the arguments. */
  private toolCallDelta(delta: ToolCallDelta): void {
    const index = this.slot(delta);
    this.lastIndex = index;
    let call = this.calls.get(index);
    if (call === undefined) {
      call = { id: "", name: "", args: "" };
      this.calls.set(index, call);
    }
    if (delta.id != null && call.id === "") call.id = delta.id;
    const fn = delta.function;
    if (fn != null) {
      if (fn.name != null && call.name === "") call.name = fn.name;
      // Some servers send the arguments whole, as an object.
      if (fn.arguments != null) call.args += typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments);
    }
  }

  private slot(delta: ToolCallDelta): number {
    if (typeof delta.index === "number") return delta.index;
    // Without `index`, a new id starts a call and anything else continues the last one.
    const last = this.calls.get(this.lastIndex);
    return last === undefined || (delta.id != null && delta.id !== last.id) ? this.calls.size : this.lastIndex;
  }
}

/**
 * Appends a delta, joining it to the previous part when that is a delta of
 * the same kind: chunks that arrived in one network read become one part, so
 * a burst of tokens costs one trip through the engine, not one per token.
 * Shared with the Responses wire, whose deltas are joined the same way.
 */
export function pushDelta(parts: ModelStreamPart[], type: "text-delta" | "reasoning-delta", text: string): void {
  const last = parts[parts.length - 1];
  if (last !== undefined && last.type === type) last.text += text;
  else parts.push({ type, text });
}
