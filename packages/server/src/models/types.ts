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
  /** Aborted when the run is cancelled: the provider call must stop. */
  signal: AbortSignal;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What one streamed model step yields, in order. Exactly one `finish` ends it. */
export type ModelStreamPart =
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  | { type: "tool-call"; toolUseId: string; name: string; args: Record<string, unknown> }
  | { type: "finish"; usage: ModelUsage; finishReason: string };

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
}

/**
 * Raised by a model adapter when the provider fails (HTTP error, bad stream,
 * refused connection). The engine ends the run with subtype `error_model`
 * and this message, so make it say which provider and what happened.
 */
export class ModelError extends Error {
  readonly provider: string;
  readonly status: number | undefined;
  constructor(provider: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ModelError";
    this.provider = provider;
    this.status = options.status;
  }
}

/** Resolves `modelId` forms (seed 004 §3) to a runnable model. */
export interface ModelRegistry {
  catalog(): { models: ModelInfo[]; defaultModelId: string | null };
  /** Throws AgentdError("invalid_model") with candidates when unknown or ambiguous. */
  resolve(modelId: string | undefined): LanguageModel;
}
