import { z } from "zod";

export const ModelPricing = z.object({
  inputPer1MUsd: z.number().nullable(),
  outputPer1MUsd: z.number().nullable(),
  cacheReadPer1MUsd: z.number().nullable(),
  /** Prompt-cache writes (Anthropic's cache_creation_input_tokens); absent when the provider has none. */
  cacheWritePer1MUsd: z.number().nullable().optional(),
});
export type ModelPricing = z.infer<typeof ModelPricing>;

/**
 * One runnable model (seed 004 §3). `id` is the canonical value to pass back
 * as `modelId`; the server also accepts `provider:<name>` (that provider's
 * default model), `provider:<name>:<vendorModelId>`, a bare vendor model id
 * when exactly one provider serves it, or nothing (the default model).
 */
export const ModelInfo = z.object({
  id: z.string(),
  label: z.string(),
  provider: z.string(),
  vendorModelId: z.string(),
  source: z.enum(["workspace_provider", "platform_offering"]),
  contextWindowTokens: z.number().int().nullable(),
  pricing: ModelPricing.nullable(),
  /** True for the built-in deterministic mock: not a real LLM. */
  mock: z.boolean().optional(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const ModelCatalog = z.object({
  models: z.array(ModelInfo),
  defaultModelId: z.string().nullable(),
});
export type ModelCatalog = z.infer<typeof ModelCatalog>;
