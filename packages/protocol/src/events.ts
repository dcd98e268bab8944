import { z } from "zod";
import { ErrorBody } from "./errors.js";
import { ToolCall } from "./tools.js";
import { Usage } from "./usage.js";

/**
 * Run events: the append-only log of a run. On the wire every SSE frame is
 *
 *   id: <seq>
 *   event: <type>
 *   data: {"seq":<seq>,"type":"<type>", ...fields}
 *
 * with the event's fields at the top level of `data` (what the seed 004 SDK
 * reads; see shared/PROTOCOL-NOTES.md). `seq` starts at 1 and has no gaps.
 * Every run ends with exactly one terminal event: `result` or `cancelled`.
 */
const base = {
  seq: z.number().int().positive(),
  /** When the event was recorded, ISO 8601. */
  at: z.string(),
};

export const StartedEvent = z.object({
  ...base,
  type: z.literal("started"),
  runId: z.string(),
  modelId: z.string(),
  agentId: z.string().optional(),
  sessionId: z.string().optional(),
});

/**
 * A run's first event when it names a registry agent (issue #11): which
 * revision it executes, and the tag it came through. Clients that do not
 * know it skip it, as any unknown event type.
 */
export const AgentResolvedEvent = z.object({
  ...base,
  type: z.literal("agent_resolved"),
  agentId: z.string(),
  agentRevision: z.number().int(),
  agentTag: z.string().nullable(),
  sessionId: z.string().optional(),
});

export const AssistantDeltaEvent = z.object({ ...base, type: z.literal("assistant_delta"), text: z.string() });
export const ThinkingDeltaEvent = z.object({ ...base, type: z.literal("thinking_delta"), text: z.string() });

/** A completed model turn: its text and the tool calls it asks for. */
export const AssistantMessageEvent = z.object({
  ...base,
  type: z.literal("assistant_message"),
  text: z.string(),
  toolCalls: z.array(ToolCall),
  usage: Usage.optional(),
  /** Model step duration in milliseconds. */
  durationMs: z.number().optional(),
  /** The model that answered: the run's `modelId`, or one of its `fallbackModelIds`. */
  modelId: z.string().optional(),
  /** Why the model stopped: `stop`, `tool-calls`, `length` (maxTokens reached), `content-filter`, `refusal`, `other`. */
  stopReason: z.string().optional(),
});

/**
 * A model call failed before any output, for a reason worth another try (a
 * 429, 5xx or 529, a lost connection, a timeout): it is made again after
 * `waitMs` (the provider's Retry-After, else a jittered backoff).
 * `attempt` counts the run's retries (budgets.maxModelRetries).
 */
export const ModelRetryEvent = z.object({
  ...base,
  type: z.literal("model_retry"),
  attempt: z.number().int(),
  modelId: z.string(),
  /** HTTP status of the failure, when there was one. */
  status: z.number().int().optional(),
  error: z.string(),
  waitMs: z.number().int(),
});

/** `fromModelId` failed (its retries spent, or its provider's circuit open): the step goes on with `toModelId`. */
export const ModelFallbackEvent = z.object({
  ...base,
  type: z.literal("model_fallback"),
  fromModelId: z.string(),
  toModelId: z.string(),
  error: z.string(),
});

/** A server-side tool call (informational; clients do not act on it). */
export const ToolCallEvent = z.object({
  ...base,
  type: z.literal("tool_call"),
  toolUseId: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
});

export const ToolResultEvent = z.object({
  ...base,
  type: z.literal("tool_result"),
  toolUseId: z.string(),
  name: z.string(),
  ok: z.boolean(),
  /** The start of the result the model sees (or the error), for display. */
  summary: z.string().optional(),
  /** The error, when `ok` is false. */
  error: z.string().optional(),
  durationMs: z.number().optional(),
});

/** A tool call waits for a human: POST /agent-runs/{id}/continue with a decision. */
export const ApprovalRequiredEvent = z.object({
  ...base,
  type: z.literal("approval_required"),
  toolUseId: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
  /** Milliseconds from now until the approval policy's `onTimeout` applies. */
  timeoutMs: z.number().int().optional(),
});

/** The decision on an `approval_required` call, as stored. */
export const ApprovalDecidedEvent = z.object({
  ...base,
  type: z.literal("approval_decided"),
  toolUseId: z.string(),
  approved: z.boolean(),
  reason: z.string().optional(),
});

/** The model repeated the same call with the same arguments `budgets.loopGuard` times. */
export const LoopDetectedEvent = z.object({
  ...base,
  type: z.literal("loop_detected"),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
  repeats: z.number().int(),
});

/** The caller must POST a tool-result for this `toolUseId` (seed 004 §8). */
export const LocalToolCallEvent = z.object({
  ...base,
  type: z.literal("local_tool_call"),
  toolUseId: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
  /** Milliseconds from now until the run gives up waiting for the result. */
  timeoutMs: z.number().int().optional(),
});

/** Echo of a POSTed tool-result, persisted for replay. */
export const LocalToolResultInEvent = z.object({
  ...base,
  type: z.literal("local_tool_result_in"),
  toolUseId: z.string(),
  result: z.string().optional(),
  error: z.string().optional(),
});

export const RESULT_SUBTYPES = [
  "success",
  "error_model",
  "error_max_tool_turns",
  "error_local_tool_timeout",
  "error_approval_timeout",
  "error_output_schema",
  "error_loop_detected",
  "error_timeout",
  "error_tool_unavailable",
  "error_interrupted",
  "error_max_attempts",
  "error_internal",
] as const;
export const ResultSubtype = z.enum(RESULT_SUBTYPES);
export type ResultSubtype = z.infer<typeof ResultSubtype>;

/**
 * The run was picked up again after its worker stopped (restart, crash).
 * Deltas since the last `assistant_message` belong to an interrupted model
 * step: discard them; the step is repeated.
 */
export const RunResumedEvent = z.object({
  ...base,
  type: z.literal("run_resumed"),
  attempt: z.number().int(),
  reason: z.string(),
});

/** Terminal: the run finished, successfully or not. */
export const ResultEvent = z.object({
  ...base,
  type: z.literal("result"),
  subtype: ResultSubtype,
  text: z.string().optional(),
  /** The validated object, when the agent has an `outputSchema`. */
  output: z.unknown().optional(),
  error: z.string().optional(),
  /** Schema validation problems (`error_output_schema`). */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  usage: Usage,
  durationMs: z.number(),
});

/** Terminal: the run was cancelled. */
export const CancelledEvent = z.object({
  ...base,
  type: z.literal("cancelled"),
  reason: z.string().optional(),
  usage: Usage,
});

export const RunEvent = z.discriminatedUnion("type", [
  AgentResolvedEvent,
  StartedEvent,
  AssistantDeltaEvent,
  ThinkingDeltaEvent,
  AssistantMessageEvent,
  ToolCallEvent,
  ToolResultEvent,
  LocalToolCallEvent,
  LocalToolResultInEvent,
  ApprovalRequiredEvent,
  ApprovalDecidedEvent,
  LoopDetectedEvent,
  ModelRetryEvent,
  ModelFallbackEvent,
  RunResumedEvent,
  ResultEvent,
  CancelledEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent["type"];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
/** An event before the log assigns it a `seq` and a timestamp. */
export type RunEventInput = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, "seq" | "at"> : never) : never;

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(["result", "cancelled"]);
export function isTerminalEventType(type: string): boolean {
  return TERMINAL_EVENT_TYPES.has(type);
}

/**
 * Not a run event, and not in the RunEvent union: the frame that ends a
 * stream the server could not go on serving (an error after the stream's
 * headers were sent, when a JSON error reply is no longer possible). On the
 * wire
 *
 *   event: error
 *   data: {"type":"error","error":"...","code":"internal","message":"...","requestId":"req_..."}
 *
 * with the HTTP error body (ErrorBody) in `data`, and no `id:` line: it has
 * no seq, as it is not part of the run's log. It is terminal for the stream
 * (the seed SDK throws on it, as does @agentd/client); the run itself may
 * still be going on, and a new stream request reads it from its cursor.
 */
export const STREAM_ERROR_EVENT = "error";
export const StreamErrorFrame = ErrorBody.extend({ type: z.literal(STREAM_ERROR_EVENT) });
export type StreamErrorFrame = z.infer<typeof StreamErrorFrame>;

/** What a run's stream carries: its events, and at most one error frame, last, when the stream broke off after its headers. */
export const RunStreamFrame = z.union([RunEvent, StreamErrorFrame]);
export type RunStreamFrame = z.infer<typeof RunStreamFrame>;
