import { parseToolArgs } from "../convert.js";
import { ModelError, type FinishReason, type ModelStreamPart, type ModelUsage } from "../types.js";

/**
 * The fields of a streamed Messages event we read: the JSON `data` of one
 * server-sent event, which repeats the SSE event name as `type`. Servers add
 * other fields, and new event types (Anthropic's versioning policy).
 */
export interface MessagesEvent {
  type: string;
  /** The content block a `content_block_*` event is about. */
  index?: number;
  /** message_start */
  message?: { usage?: MessagesUsage | null } | null;
  /** content_block_start */
  content_block?: { type?: string; id?: string; name?: string; text?: string; thinking?: string } | null;
  /** content_block_delta, and message_delta's `stop_reason` */
  delta?: { type?: string; text?: string; thinking?: string; partial_json?: string; stop_reason?: string | null } | null;
  /** message_delta: cumulative counts */
  usage?: MessagesUsage | null;
  error?: { type?: string; message?: string } | null;
}

interface MessagesUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** A tool_use block being streamed: a call for the engine, or the forced answer tool (request.ts `forcedTool`). */
type ToolBlock = { kind: "call"; id: string; name: string; json: string } | { kind: "answer"; streamed: boolean };

const FINISH_REASONS = new Map<string, FinishReason>([
  ["end_turn", "stop"],
  ["stop_sequence", "stop"],
  ["max_tokens", "length"],
  ["model_context_window_exceeded", "length"],
  ["tool_use", "tool-calls"],
  ["refusal", "refusal"],
  // pause_turn (a server tool's loop paused) and anything newer: "other".
]);

/** Anthropic's error types and the HTTP status each has outside a stream (its errors reference). */
const ERROR_STATUS = new Map([
  ["invalid_request_error", 400],
  ["authentication_error", 401],
  ["billing_error", 402],
  ["permission_error", 403],
  ["not_found_error", 404],
  ["request_too_large", 413],
  ["rate_limit_error", 429],
  ["api_error", 500],
  ["timeout_error", 504],
  ["overloaded_error", 529],
]);

/**
 * The state of one streamed Messages response: `read` turns each event's
 * text and thinking deltas into parts as they come; tool calls accumulate
 * until `end` (their input arrives as pieces of JSON).
 */
export class MessagesStreamState {
  /** message_stop arrived: the answer is whole. A body that ends without it broke off. */
  finished = false;
  /** Anthropic's `stop_reason`, once a message_delta gave it. */
  stopReason: string | undefined;
  private readonly provider: string;
  private readonly forcedTool: string | undefined;
  private tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  /** By content block index: a Map, so a wild index cannot make a huge sparse array. */
  private blocks = new Map<number, ToolBlock>();
  private answered = false;

  /** `forcedTool`: the answer tool the request forced (request.ts `forcedTool`); its input is the answer text. */
  constructor(provider: string, forcedTool?: string) {
    this.provider = provider;
    this.forcedTool = forcedTool;
  }

  /** Pushes the event's text and reasoning deltas onto `parts`; an `error` event throws ModelError. */
  read(event: MessagesEvent, parts: ModelStreamPart[]): void {
    switch (event.type) {
      case "message_start":
        this.count(event.message?.usage);
        break;
      case "content_block_start":
        this.blockStart(event, parts);
        break;
      case "content_block_delta":
        this.blockDelta(event, parts);
        break;
      case "content_block_stop": {
        const block = this.blocks.get(event.index ?? -1);
        // An answer tool that streamed no input took `{}`, as a call without arguments does.
        if (block?.kind === "answer" && !block.streamed) {
          block.streamed = true;
          pushDelta(parts, "text-delta", "{}");
        }
        break;
      }
      case "message_delta":
        if (typeof event.delta?.stop_reason === "string") this.stopReason = event.delta.stop_reason;
        this.count(event.usage);
        break;
      case "message_stop":
        this.finished = true;
        break;
      case "error":
        throw streamError(this.provider, event.error);
      // `ping` keeps the connection alive; newer event types carry nothing we use.
    }
  }

  /** The tool calls in content block order, then the one `finish`. */
  end(): ModelStreamPart[] {
    const parts: ModelStreamPart[] = [];
    for (const [, block] of [...this.blocks].sort(([a], [b]) => a - b)) {
      if (block.kind === "call") parts.push({ type: "tool-call", toolUseId: block.id, name: block.name, args: parseToolArgs(block.json) });
    }
    parts.push({ type: "finish", usage: this.usage(), finishReason: this.finishReason() });
    return parts;
  }

  private blockStart(event: MessagesEvent, parts: ModelStreamPart[]): void {
    const block = event.content_block;
    if (block == null || typeof event.index !== "number") return;
    switch (block.type) {
      // Text and thinking blocks start empty; deltas bring their content.
      case "text":
        if (typeof block.text === "string" && block.text.length > 0) pushDelta(parts, "text-delta", block.text);
        break;
      case "thinking":
        if (typeof block.thinking === "string" && block.thinking.length > 0) pushDelta(parts, "reasoning-delta", block.thinking);
        break;
      case "tool_use":
        if (this.forcedTool !== undefined && block.name === this.forcedTool) {
          this.blocks.set(event.index, { kind: "answer", streamed: false });
          this.answered = true;
        } else {
          this.blocks.set(event.index, { kind: "call", id: block.id ?? "", name: block.name ?? "", json: "" });
        }
        break;
      // redacted_thinking is encrypted: nothing to show. server_tool_use, web_search_tool_result
      // and the like ran on Anthropic's side: their input deltas go to no block here and are dropped.
    }
  }

  private blockDelta(event: MessagesEvent, parts: ModelStreamPart[]): void {
    const delta = event.delta;
    if (delta == null) return;
    switch (delta.type) {
      case "text_delta":
        if (typeof delta.text === "string" && delta.text.length > 0) pushDelta(parts, "text-delta", delta.text);
        break;
      case "thinking_delta":
        if (typeof delta.thinking === "string" && delta.thinking.length > 0) pushDelta(parts, "reasoning-delta", delta.thinking);
        break;
      case "input_json_delta": {
        const block = this.blocks.get(event.index ?? -1);
        if (block === undefined || typeof delta.partial_json !== "string" || delta.partial_json.length === 0) break;
        if (block.kind === "call") block.json += delta.partial_json;
        else {
          // The forced answer's input is the answer: stream it as text.
          block.streamed = true;
          pushDelta(parts, "text-delta", delta.partial_json);
        }
        break;
      }
      // signature_delta signs thinking for a later request, which the conversation does not keep;
      // citations_delta annotates text the text deltas already carry.
    }
  }

  /** message_start has the counts so far, message_delta cumulative ones (and, in newer API versions, input and cache counts again). */
  private count(usage: MessagesUsage | null | undefined): void {
    if (usage == null) return;
    // Cumulative counts never go down: a proxy that re-serialises message_delta with zero defaults must not erase message_start's.
    this.tokens = {
      input: Math.max(this.tokens.input, tokens(usage.input_tokens)),
      output: Math.max(this.tokens.output, tokens(usage.output_tokens)),
      cacheRead: Math.max(this.tokens.cacheRead, tokens(usage.cache_read_input_tokens)),
      cacheWrite: Math.max(this.tokens.cacheWrite, tokens(usage.cache_creation_input_tokens)),
    };
  }

  /** Anthropic's input_tokens leaves out the cached ones: ours counts every input token. */
  private usage(): ModelUsage {
    const { input, output, cacheRead, cacheWrite } = this.tokens;
    return {
      inputTokens: input + cacheRead + cacheWrite,
      outputTokens: output,
      ...(cacheRead > 0 ? { cachedInputTokens: cacheRead } : {}),
      ...(cacheWrite > 0 ? { cacheWriteInputTokens: cacheWrite } : {}),
    };
  }

  private finishReason(): FinishReason {
    // Using the forced answer tool is how the model gives its answer, not a call for the engine to run.
    if (this.stopReason === "tool_use" && this.answered) return "stop";
    return (this.stopReason !== undefined ? FINISH_REASONS.get(this.stopReason) : undefined) ?? "other";
  }
}

function tokens(count: number | null | undefined): number {
  return typeof count === "number" && Number.isFinite(count) && count > 0 ? count : 0;
}

/** An `error` event: the failure a non-streamed call reports with an HTTP status, arriving after a 200. */
function streamError(provider: string, error: MessagesEvent["error"]): ModelError {
  const type = typeof error?.type === "string" ? error.type : "error";
  const message = typeof error?.message === "string" ? error.message : "no error message";
  const status = ERROR_STATUS.get(type);
  // Rate limited, overloaded, or failed or timed out on Anthropic's side: worth another attempt.
  const retryable = status !== undefined && (status === 429 || status >= 500);
  return new ModelError(provider, `${provider}: stream error: ${type}: ${message}`, { status, retryable });
}

/**
 * Appends a delta, joining it to the previous part when that is a delta of
 * the same kind: events that arrived in one network read become one part, so
 * a burst of tokens costs one trip through the engine, not one per token.
 */
function pushDelta(parts: ModelStreamPart[], type: "text-delta" | "reasoning-delta", text: string): void {
  const last = parts[parts.length - 1];
  if (last !== undefined && last.type === type) last.text += text;
  else parts.push({ type, text });
}
