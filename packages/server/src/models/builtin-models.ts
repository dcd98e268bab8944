import type { ProviderModelConfig, ProviderType } from "../config/types.js";

/**
 * Models offered by an `openai` / `anthropic` provider that lists none of its
 * own. Context windows in tokens; prices in USD per 1M tokens as published by
 * the vendors, table as of 2025-10. A config file's `models` overrides them.
 */
const OPENAI: ProviderModelConfig[] = [
  model("gpt-4o-mini", "OpenAI GPT-4o mini", 128_000, 0.15, 0.6, 0.075),
  model("gpt-4o", "OpenAI GPT-4o", 128_000, 2.5, 10, 1.25),
  model("gpt-4.1", "OpenAI GPT-4.1", 1_047_576, 2, 8, 0.5),
  model("gpt-4.1-mini", "OpenAI GPT-4.1 mini", 1_047_576, 0.4, 1.6, 0.1),
  model("gpt-4.1-nano", "OpenAI GPT-4.1 nano", 1_047_576, 0.1, 0.4, 0.025),
  model("gpt-5", "OpenAI GPT-5", 400_000, 1.25, 10, 0.125),
  model("gpt-5-mini", "OpenAI GPT-5 mini", 400_000, 0.25, 2, 0.025),
  model("gpt-5-nano", "OpenAI GPT-5 nano", 400_000, 0.05, 0.4, 0.005),
  model("o4-mini", "OpenAI o4-mini", 200_000, 1.1, 4.4, 0.275),
  model("o3", "OpenAI o3", 200_000, 2, 8, 0.5),
];

const ANTHROPIC: ProviderModelConfig[] = [
  claude("claude-sonnet-4-5", "Anthropic Claude Sonnet 4.5", 200_000, 3, 15, 0.3),
  claude("claude-haiku-4-5", "Anthropic Claude Haiku 4.5", 200_000, 1, 5, 0.1),
  claude("claude-opus-4-1", "Anthropic Claude Opus 4.1", 200_000, 15, 75, 1.5),
  claude("claude-sonnet-4-0", "Anthropic Claude Sonnet 4", 200_000, 3, 15, 0.3),
  claude("claude-3-5-haiku-latest", "Anthropic Claude Haiku 3.5", 200_000, 0.8, 4, 0.08),
];

/** The built-in list of a provider type, default model first; empty when the type has none. */
export function builtinModels(type: ProviderType): ProviderModelConfig[] {
  if (type === "openai") return OPENAI;
  if (type === "anthropic") return ANTHROPIC;
  return [];
}

/** Known facts about a vendor model id, used even for models a config lists without details. */
export function builtinModel(type: ProviderType, vendorModelId: string): ProviderModelConfig | undefined {
  return builtinModels(type).find((entry) => entry.id === vendorModelId);
}

function model(id: string, label: string, contextWindowTokens: number, input: number, output: number, cacheRead: number): ProviderModelConfig {
  return { id, label, contextWindowTokens, pricing: { inputPer1MUsd: input, outputPer1MUsd: output, cacheReadPer1MUsd: cacheRead } };
}

/** Anthropic bills a write to the (5-minute) prompt cache at 1.25 times the input price. */
function claude(id: string, label: string, contextWindowTokens: number, input: number, output: number, cacheRead: number): ProviderModelConfig {
  const entry = model(id, label, contextWindowTokens, input, output, cacheRead);
  return { ...entry, pricing: { ...entry.pricing!, cacheWritePer1MUsd: Math.round(input * 1.25 * 1e6) / 1e6 } };
}
