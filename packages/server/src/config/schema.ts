import { AgentDefinition, AGENT_ID_PATTERN, ModelPricing } from "@agentd/protocol";
import { z } from "zod";

const ProviderModel = z.strictObject({
  id: z.string().min(1),
  label: z.string().optional(),
  contextWindowTokens: z.number().int().positive().optional(),
  pricing: ModelPricing.optional(),
});

const Provider = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "provider names are lowercase letters, digits, '-' and '_'"),
  type: z.enum(["openai", "openai-compatible", "anthropic", "mock"]),
  apiKey: z.string().optional(),
  apiKeyEnv: z.string().optional(),
  baseUrl: z.url().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  models: z.array(ProviderModel).optional(),
  defaultModel: z.string().optional(),
});

/** Validates a config file; every problem names its field. */
export const AgentdConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  providers: z.array(Provider).optional(),
  defaultModelId: z.string().optional(),
  agents: z
    .record(z.string().regex(AGENT_ID_PATTERN, "agent ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"), AgentDefinition)
    .optional(),
  localToolTimeoutMs: z.number().int().positive().optional(),
});
