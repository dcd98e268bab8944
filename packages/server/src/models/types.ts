import type { CircuitBreaker, CircuitSnapshot } from "./circuit-breaker.js";
import type { ModelInfo, ModelParams, ToolCall } from "@agentd/protocol";

/**
 * The conversation as the engine keeps it between model steps (checkpointed
 * with the run). Provider adapters translate it to their wire format.
 */
export type ConversationMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; toolUseId: string; name: string; result?: string; error?: string };

/** A tool as the model sees it. */
export interface ModelTool {
  name: string;
  description: string;
  /** JSON Schema (object) of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ModelStepRequest {
  /** The agent's system prompt; empty string for none. */
  system: string;
  messages: ConversationMessage[];
  tools: ModelTool[];
  params: ModelParams;
  /**
   * The answer must be JSON matching this schema (the agent's outputSchema):
   * sent as the provider's structured output where it has one (OpenAI
   * `response_format: json_schema`; Anthropic a forced tool when the step
   * offers no other tools). The engine still validates the answer.
   */
  responseFormat?: { schema: Record<string, unknown>; name: string };
  /** Aborted when the run is cancelled: the provider call must stop. */
  signal: AbortSignal;
}

export interface ModelUsage {
  /** Every input token, cached ones included (Anthropic's three counts added up). */
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** Of inputTokens, those written to the prompt cache (Anthropic's cache_creation_input_tokens). */
  cacheWriteInputTokens?: number;
}

/**
 * Why the model stopped: `stop` (its turn is complete), `tool-calls`,
 * `length` (maxTokens reached), `content-filter`, `refusal` (the model
 * declined; the refusal is the text), `other`.
 */
export type FinishReason = "stop" | "tool-calls" | "length" | "content-filter" | "refusal" | "other";

/** What one streamed model step yields, in order. Exactly one `finish` ends it. */
export type ModelStreamPart =
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  | { type: "tool-call"; toolUseId: string; name: string; args: Record<string, unknown> }
  | { type: "finish"; usage: ModelUsage; finishReason: FinishReason | string };

/** One model call at a time; the engine owns the loop (DESIGN.md "Runtime"). */
export interface LanguageModel {
  /** Canonical catalog id, e.g. `provider:openai:gpt-4o-mini`. */
  readonly id: string;
  readonly info: ModelInfo;
  /**
   * Provider failures throw ModelError. When `request.signal` aborts, the
   * stream stops by throwing the signal's reason (no `finish`). Stopping the
   * iteration early (`break`) closes the provider request.
   */
  stream(request: ModelStepRequest): AsyncIterable<ModelStreamPart>;
  /** Its provider's circuit breaker (one per provider per process), which the engine consults around each call. */
  readonly circuit?: CircuitBreaker;
  /** The highest `temperature` the provider accepts, when lower than the protocol's 2 (Anthropic: 1). */
  readonly maxTemperature?: number;
}

/**
 * Raised by a model adapter when the provider fails (HTTP error, bad stream,
 * refused connection). The engine ends the run with subtype `error_model`
 * and this message, so make it say which provider and what happened.
 */
export class ModelError extends Error {
  readonly provider: string;
  readonly status: number | undefined;
  /**
   * Worth another attempt if the call produced no output yet: a connection
   * failure, a timeout before the first byte, or a status the provider uses
   * for "try again" (models/retry.ts). False for a bad request, a bad key...
   */
  readonly retryable: boolean;
  /** How long the provider asked us to wait (Retry-After, retry-after-ms, rate-limit reset headers). */
  readonly retryAfterMs: number | undefined;
  /** Which timeout fired, when one did. */
  readonly timeout: TimeoutKind | undefined;
  /** Refused by the provider's open circuit breaker, never sent: a fallback model is tried at once. */
  readonly circuitOpen: boolean;
  constructor(
    provider: string,
    message: string,
    options: { status?: number; cause?: unknown; retryable?: boolean; retryAfterMs?: number; timeout?: TimeoutKind; circuitOpen?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ModelError";
    this.provider = provider;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.timeout = options.timeout;
    this.circuitOpen = options.circuitOpen ?? false;
  }
}

/** The timeouts of one provider call (provider config `timeouts`). */
export type TimeoutKind = "connect" | "firstByte" | "idle" | "total";

/** Resolves `modelId` forms (seed 004 §3) to a runnable model. */
export interface ModelRegistry {
  catalog(): { models: ModelInfo[]; defaultModelId: string | null };
  /** Throws AgentdError("invalid_model") with candidates when unknown or ambiguous. */
  resolve(modelId: string | undefined): LanguageModel;
  /** The circuit of every provider that has one (/readyz, /metrics). */
  circuits?(): CircuitSnapshot[];
}
