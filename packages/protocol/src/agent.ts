import { z } from "zod";
import { FIELD_LIMITS, maxJsonBytes } from "./limits.js";
import { Metadata } from "./metadata.js";
import { ToolRef } from "./tools.js";

export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Safety caps for one run. */
export const Budgets = z.strictObject({
  /** Model turns that may end in tool calls before the run stops. @default 16 */
  maxToolTurns: z.number().int().min(0).max(1000).optional(),
  /** Calls allowed per tool name in one run; past it the call is refused (the model is told). */
  toolCallLimits: z.record(z.string(), z.number().int().min(0).max(10_000)).optional(),
  /** The same tool with the same arguments this many times ends the run (`loop_detected`). @default 3 */
  loopGuard: z.number().int().min(2).max(1000).optional(),
  /** Wall-clock limit of the run, in milliseconds; then it ends with `error_timeout`. */
  maxDurationMs: z.number().int().min(1).max(7 * 24 * 3600 * 1000).optional(),
  /** Server tool calls of one turn that run at the same time. @default 8 */
  toolConcurrency: z.number().int().min(1).max(64).optional(),
  /** Model calls the run may repeat after a retryable provider failure (429, 5xx, 529, a lost connection, a timeout), in all. @default 3 */
  maxModelRetries: z.number().int().min(0).max(100).optional(),
});
export type Budgets = z.infer<typeof Budgets>;

export const DEFAULT_MAX_TOOL_TURNS = 16;
export const DEFAULT_LOOP_GUARD = 3;
export const DEFAULT_TOOL_CONCURRENCY = 8;
export const DEFAULT_MAX_MODEL_RETRIES = 3;

/** How long a tool call waits for a human's decision, and what happens then. */
export const ApprovalPolicy = z.strictObject({
  /** @default 86_400_000 (a day) */
  timeoutMs: z.number().int().min(1).max(30 * 24 * 3600 * 1000).optional(),
  /** `error`: the run fails (`error_approval_timeout`); `reject`: the call is rejected and the run goes on; `cancel`: the run is cancelled. @default "error" */
  onTimeout: z.enum(["error", "reject", "cancel"]).optional(),
});
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

/** A JSON Schema (object) the final answer must match. */
export const OutputSchema = z.record(z.string(), z.unknown()).superRefine(maxJsonBytes(FIELD_LIMITS.outputSchemaBytes, "outputSchema"));

/** Per-run overrides of sampling parameters (seed 001's validation rules). */
export const ModelParams = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
  seed: z.number().int().optional(),
});
export type ModelParams = z.infer<typeof ModelParams>;

/**
 * The agent spec (seed 004 §4): an ephemeral agent defined inline, or a
 * reference to a named agent (`agentId`) with optional extra tools merged on
 * top. Either `agentId` or `systemPrompt` is required.
 */
export const AgentSpecFields = {
  name: z.string().max(200).optional(),
  agentId: z.string().regex(AGENT_ID_PATTERN, "agentId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$").optional(),
  systemPrompt: z.string().max(200_000).optional(),
  modelId: z.string().min(1).max(300).optional(),
  /** Models tried in order when `modelId`'s retries are spent on retryable failures (or its provider's circuit is open). */
  fallbackModelIds: z.array(z.string().min(1).max(300)).max(8).optional(),
  modelParams: ModelParams.optional(),
  tools: z.array(ToolRef).max(128).optional(),
  budgets: Budgets.optional(),
  approval: ApprovalPolicy.optional(),
  outputSchema: OutputSchema.optional(),
  metadata: Metadata.optional(),
};

export const AgentSpec = z.strictObject(AgentSpecFields);
export type AgentSpec = z.infer<typeof AgentSpec>;

const { agentId: _agentId, systemPrompt: _optionalPrompt, ...definitionFields } = AgentSpecFields;

/** A named agent as defined in the config file (`agents: { <id>: {...} }`): the spec's fields, its prompt required. */
export const AgentDefinition = z.strictObject({
  ...definitionFields,
  description: z.string().max(4096).optional(),
  systemPrompt: z.string().max(200_000),
});
export type AgentDefinition = z.infer<typeof AgentDefinition>;

/**
 * The run's `dependencies`: a JSON object passed to server tools, never shown
 * to the model (Agno's "pass dependencies to agent tools"). 64 KB at most.
 */
export const Dependencies = z.record(z.string(), z.unknown()).superRefine(maxJsonBytes(FIELD_LIMITS.dependenciesBytes, "dependencies"));
export type Dependencies = z.infer<typeof Dependencies>;
