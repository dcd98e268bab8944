import { z } from "zod";
import { Metadata } from "./metadata.js";
import { ToolRef } from "./tools.js";

export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Safety caps for one run. */
export const Budgets = z.strictObject({
  /** Model turns that may end in tool calls before the run stops. @default 16 */
  maxToolTurns: z.number().int().min(0).max(1000).optional(),
});
export type Budgets = z.infer<typeof Budgets>;

export const DEFAULT_MAX_TOOL_TURNS = 16;

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
  modelParams: ModelParams.optional(),
  tools: z.array(ToolRef).max(128).optional(),
  budgets: Budgets.optional(),
  metadata: Metadata.optional(),
};

export const AgentSpec = z.strictObject(AgentSpecFields);
export type AgentSpec = z.infer<typeof AgentSpec>;

/** A named agent as defined in the config file (`agents: { <id>: {...} }`). */
export const AgentDefinition = z.strictObject({
  name: z.string().max(200).optional(),
  description: z.string().max(4096).optional(),
  systemPrompt: z.string().max(200_000),
  modelId: z.string().min(1).max(300).optional(),
  modelParams: ModelParams.optional(),
  tools: z.array(ToolRef).max(128).optional(),
  budgets: Budgets.optional(),
  metadata: Metadata.optional(),
});
export type AgentDefinition = z.infer<typeof AgentDefinition>;
