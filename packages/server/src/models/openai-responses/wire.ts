import { randomBase62 } from "../../ids.js";
import { parseToolArgs } from "../convert.js";
import { pushDelta } from "../openai-chat/wire.js";
import type { ModelStepRequest, ModelStreamPart, ModelUsage } from "../types.js";
import { streamError, type ResponsesErrorBody } from "./errors.js";

/**
 * The fields of a streamed Responses event we read; the server sends many
 * more (and more event types), which are ignored. The type is in the data:
 * the SSE `event:` line repeats it and is not needed.
 */
export interface ResponsesEvent {
  type?: string;
  /** Text, refusal, summary or arguments piece of a `*.delta` event. */
  delta?: unknown;
  output_index?: number;
  item_id?: string;
  summary_index?: number;
  /** The item of `response.output_item.added` / `.done`. */
  item?: ResponsesItem | null;
  /** The response of `response.completed` / `.incomplete` / `.failed`. */
  response?: ResponsesResult | null;
  /** An `error` event as documented has `code` and `message` here... */
  code?: string | null;
  message?: string | null;
  /** ...but the API sends them nested in `error`, sometimes with the HTTP status the error stands for. */
  error?: ResponsesErrorBody | null;
  status?: number;
}

interface ResponsesItem {
  type?: string;
  id?: string;
  call_id?: string | null;
  name?: string | null;
  arguments?: string | null;
}

interface ResponsesResult {
  usage?: {
    /** Every input token, the cached ones included. */
    input_tokens?: number;
    output_tokens?: number;
    input_tokens_details?: { cached_tokens?: number | null } | null;
  } | null;
  incomplete_details?: { reason?: string | null } | null;
  error?: ResponsesErrorBody | null;
}

/**
 * Our step request as a streamed Responses API body, for the models that
 * speak nothing else (o1-pro, o3-pro, codex...). Stateless like Chat
 * Completions: the whole conversation each call, `store: false` so OpenAI
 * keeps no copy of it. Responses has no `seed`: it is not sent.
 */
export function requestBody(model: string, request: ModelStepRequest): string {
  const input: unknown[] = [];
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
      case "user":
        input.push({ role: message.role, content: message.content });
        break;
      case "assistant":
        // An empty turn says nothing; a tool-only turn is just its function_call items.
        if (message.content.length > 0) input.push({ role: "assistant", content: message.content });
        for (const call of message.toolCalls ?? []) {
          input.push({ type: "function_call", call_id: call.toolUseId, name: call.name, arguments: JSON.stringify(call.args) });
        }
        break;
      case "tool":
        // No error flag on function_call_output either: say it in the text, as on Chat Completions.
        input.push({
          type: "function_call_output",
          call_id: message.toolUseId,
          output: message.error !== undefined ? `Error: ${message.error}` : (message.result ?? ""),
        });
        break;
    }
  }
  const { temperature, maxTokens } = request.params;
  const format = request.responseFormat;
  return JSON.stringify({
    model,
    ...(request.system.length > 0 ? { instructions: request.system } : {}),
    input,
    stream: true,
    store: false,
    ...(request.tools.length > 0
      ? {
          tools: request.tools.map((tool) => ({
            type: "function",
            name: tool.name,
            ...(tool.description.length > 0 ? { description: tool.description } : {}),
            parameters: { type: "object", properties: {}, ...tool.parameters },
            // Responses makes functions strict by default; strict mode rejects
            // common schemas (optional properties, open objects).
            strict: false,
          })),
        }
      : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(maxTokens !== undefined ? { max_output_tokens: maxTokens } : {}),
    // Not strict, for the same reason; the engine validates the answer.
    ...(format !== undefined ? { text: { format: { type: "json_schema", name: format.name, schema: format.schema, strict: false } } } : {}),
  });
}

const INCOMPLETE_REASONS: Record<string, string> = {
  max_output_tokens: "length",
  content_filter: "content-filter",
};

/**
 * The state of one streamed response, the Responses counterpart of
 * ChatStreamState: `read` turns an event into parts, function calls
 * accumulate until `end`. The stream has no `[DONE]`: `finished` says a
 * terminal event (`response.completed` or `.incomplete`) arrived. A failure
 * (`response.failed`, `error`) throws ModelError from `read`, after the
 * event's predecessors have pushed their parts: hand those on first.
 */
export class ResponsesStreamState {
  usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  private reason: string | undefined;
  /** A refusal was streamed: the step was refused, whatever the terminal event says. */
  private refused = false;
  /** By item id (output index when a server sends none), in the order the items were added. */
  private calls = new Map<string, { id: string; name: string; args: string }>();
  /** The reasoning summary part the last summary delta belonged to. */
  private summary: string | undefined;

  constructor(private readonly provider: string) {}

  /** Pushes the event's text and reasoning deltas onto `parts`; throws ModelError for a failure. */
  read(event: ResponsesEvent, parts: ModelStreamPart[]): void {
    switch (event.type) {
      case "response.output_text.delta":
        if (typeof event.delta === "string" && event.delta.length > 0) pushDelta(parts, "text-delta", event.delta);
        break;
      case "response.refusal.delta":
        // Shown as text: the refusal is the model's answer, the user has to see it.
        if (typeof event.delta === "string" && event.delta.length > 0) {
          this.refused = true;
          pushDelta(parts, "text-delta", event.delta);
        }
        break;
      case "response.reasoning_summary_text.delta":
        if (typeof event.delta === "string" && event.delta.length > 0) this.summaryDelta(event, event.delta, parts);
        break;
      case "response.output_item.added":
      case "response.output_item.done":
        if (event.item?.type === "function_call") this.functionCall(event, event.item);
        break;
      case "response.function_call_arguments.delta": {
        const call = this.calls.get(key(event));
        if (call !== undefined && typeof event.delta === "string") call.args += event.delta;
        break;
      }
      case "response.completed":
        this.terminal(event, this.calls.size > 0 ? "tool-calls" : "stop");
        break;
      case "response.incomplete":
        this.terminal(event, INCOMPLETE_REASONS[event.response?.incomplete_details?.reason ?? ""] ?? "other");
        break;
      case "response.failed":
        throw streamError(this.provider, "the response failed", event.response?.error ?? {});
      case "error":
        // Field by field: a proxy may decorate the documented flat shape with a partial `error`.
        throw streamError(
          this.provider,
          "stream error",
          { type: event.error?.type, code: event.error?.code ?? event.code, message: event.error?.message ?? event.message },
          typeof event.status === "number" ? event.status : undefined,
        );
    }
  }

  /** Why the model stopped, once a terminal event said it did; undefined before. */
  get finishReason(): string | undefined {
    return this.reason === undefined ? undefined : this.refused ? "refusal" : this.reason;
  }

  /** A terminal event arrived: the answer is whole. */
  get finished(): boolean {
    return this.reason !== undefined;
  }

  /** The function calls, then the one `finish`. */
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

  /** `added` opens a call with its id and name; `done` carries the whole arguments, which win over the pieces. */
  private functionCall(event: ResponsesEvent, item: ResponsesItem): void {
    const slot = key(event);
    let call = this.calls.get(slot);
    if (call === undefined) {
      call = { id: "", name: "", args: "" };
      this.calls.set(slot, call);
    }
    if (item.call_id != null && call.id === "") call.id = item.call_id;
    if (item.name != null && call.name === "") call.name = item.name;
    if (event.type === "response.output_item.done" && typeof item.arguments === "string") call.args = item.arguments;
  }

  /** Summary parts are paragraphs of their own: a blank line between two, as OpenAI shows them. */
  private summaryDelta(event: ResponsesEvent, text: string, parts: ModelStreamPart[]): void {
    const part = `${event.item_id ?? ""}/${event.summary_index ?? 0}`;
    if (this.summary !== undefined && this.summary !== part) pushDelta(parts, "reasoning-delta", "\n\n");
    this.summary = part;
    pushDelta(parts, "reasoning-delta", text);
  }

  private terminal(event: ResponsesEvent, reason: string): void {
    this.reason = reason;
    const usage = event.response?.usage;
    if (usage == null) return;
    const cached = usage.input_tokens_details?.cached_tokens;
    this.usage = {
      inputTokens: usage.input_tokens ?? 0,
      outputTokens: usage.output_tokens ?? 0,
      ...(cached != null && cached > 0 ? { cachedInputTokens: cached } : {}),
    };
  }
}

/** An output item's key in every event about it: its id, or its index when a server sends no ids. */
function key(event: ResponsesEvent): string {
  return event.item?.id ?? event.item_id ?? `#${event.output_index ?? 0}`;
}
