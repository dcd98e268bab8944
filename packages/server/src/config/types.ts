import type { AgentDefinition, ModelPricing } from "@agentd/protocol";

export type ProviderType = "openai" | "openai-compatible" | "anthropic" | "mock";

export interface ProviderModelConfig {
  /** The vendor's model id, e.g. `gpt-4o-mini`. */
  id: string;
  label?: string;
  contextWindowTokens?: number;
  pricing?: ModelPricing;
}

/** One model provider. Several of one type may exist under different names. */
export interface ProviderConfig {
  /** Unique name, used in model ids: `provider:<name>:<model>`. */
  name: string;
  type: ProviderType;
  /** API key; prefer `apiKeyEnv` so secrets stay out of config files. */
  apiKey?: string;
  /** Name of the environment variable holding the API key. */
  apiKeyEnv?: string;
  /** Base URL of the API, e.g. `http://127.0.0.1:8000/v1` for vLLM. */
  baseUrl?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Models offered; when omitted, the provider's built-in list (if any). */
  models?: ProviderModelConfig[];
  /** Model used for `provider:<name>`; defaults to the first of `models`. */
  defaultModel?: string;
}

/** What the config file (`agentd.config.json` / `.ts`) may hold. */
export interface AgentdConfig {
  providers?: ProviderConfig[];
  /** Model used when a run names none. Any accepted model id form. */
  defaultModelId?: string;
  /** Named agents, addressable by `agentId`. */
  agents?: Record<string, AgentDefinition>;
  /** How long a run waits for a local tool result, in milliseconds. @default 600_000 */
  localToolTimeoutMs?: number;
}
