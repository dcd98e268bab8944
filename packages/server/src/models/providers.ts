import type { ModelInfo } from "@agentd/protocol";
import { ConfigError } from "../config/load.js";
import type { AgentdConfig, ProviderConfig, ProviderModelConfig, ProviderType } from "../config/types.js";
import { builtinModel, builtinModels } from "./builtin-models.js";
import { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerOptions } from "./circuit-breaker.js";
import { DEFAULT_TIMEOUTS, type ProviderTimeouts } from "./http/timeouts.js";
import { MOCK_PROVIDER, mockInfo } from "./mock.js";

/** A provider with its settings resolved against the environment. */
export interface ProviderSetup {
  name: string;
  type: ProviderType;
  apiKey: string | undefined;
  baseUrl: string | undefined;
  headers: Record<string, string>;
  /** The catalog entries it offers, default first when it has one. */
  models: ModelInfo[];
  defaultModel: string | undefined;
  /** Why calls cannot work (e.g. no API key); reported when a run uses it, not at startup. */
  configError: string | undefined;
  timeouts: ProviderTimeouts;
  circuitBreaker: CircuitBreakerOptions;
  /** Vendor model ids to call through the OpenAI Responses API (`models[].api: "responses"`). */
  responsesModels: ReadonlySet<string>;
  client: "agentd" | "ai-sdk";
  structuredOutput: boolean | undefined;
}

type Env = Record<string, string | undefined>;

const ENV_VARS: Partial<Record<ProviderType, { key: string; baseUrl: string }>> = {
  openai: { key: "OPENAI_API_KEY", baseUrl: "OPENAI_BASE_URL" },
  anthropic: { key: "ANTHROPIC_API_KEY", baseUrl: "ANTHROPIC_BASE_URL" },
};

/**
 * Config providers first, in order; then `openai` / `anthropic` from the
 * standard environment variables when the config has no provider of that
 * type (or name); then the built-in `mock`, which always exists. Config
 * providers of those types also take their key and base URL from the same
 * variables when they set none.
 */
export function providerSetups(config: AgentdConfig, env: Env): ProviderSetup[] {
  const configured = config.providers ?? [];
  const names = new Set<string>();
  for (const provider of configured) {
    if (names.has(provider.name)) throw new ConfigError(`config: two providers are named '${provider.name}'`);
    if (provider.name === MOCK_PROVIDER && provider.type !== "mock") {
      throw new ConfigError(`config: the provider name '${MOCK_PROVIDER}' is reserved for the built-in mock model`);
    }
    names.add(provider.name);
  }
  const all = [...configured];
  for (const type of ["openai", "anthropic"] as const) {
    const key = env[ENV_VARS[type]!.key];
    if (key && !names.has(type) && !configured.some((provider) => provider.type === type)) {
      all.push({ name: type, type, apiKey: key });
    }
  }
  if (!names.has(MOCK_PROVIDER)) all.push({ name: MOCK_PROVIDER, type: "mock" });
  return all.map((provider) => setup(provider, env));
}

function setup(provider: ProviderConfig, env: Env): ProviderSetup {
  const vars = ENV_VARS[provider.type];
  let apiKey = provider.apiKey;
  let configError: string | undefined;
  if (apiKey === undefined && provider.apiKeyEnv !== undefined) {
    apiKey = env[provider.apiKeyEnv] || undefined;
    if (apiKey === undefined) configError = `no API key: environment variable ${provider.apiKeyEnv} is not set`;
  }
  // The AI SDK's own habit, made explicit: the standard variables fill in.
  apiKey ??= vars === undefined ? undefined : env[vars.key] || undefined;
  if (apiKey === undefined && vars !== undefined) {
    configError ??= `no API key configured for provider '${provider.name}' (set apiKey, apiKeyEnv or ${vars.key})`;
  }
  const baseUrl = provider.baseUrl ?? (vars === undefined ? undefined : env[vars.baseUrl] || undefined);
  // Settings of one provider type given to another would be silently ignored: say so at startup.
  if (provider.client === "ai-sdk" && provider.type !== "openai" && provider.type !== "anthropic") {
    throw new ConfigError(`config: provider '${provider.name}': client "ai-sdk" is for openai and anthropic providers only`);
  }
  const responses = (provider.models ?? []).find((entry) => entry.api === "responses");
  if (responses !== undefined && provider.type !== "openai") {
    throw new ConfigError(`config: provider '${provider.name}': models '${responses.id}': api "responses" is for openai providers only`);
  }
  if (provider.type === "openai-compatible" && baseUrl === undefined) {
    throw new ConfigError(`config: provider '${provider.name}' (openai-compatible) needs a baseUrl`);
  }

  const models =
    provider.type === "mock"
      ? [mockInfo(provider.name)]
      : (provider.models ?? builtinModels(provider.type)).map((entry) => modelInfo(provider, entry));
  const defaultModel = provider.defaultModel ?? models[0]?.vendorModelId;
  if (defaultModel !== undefined && !models.some((info) => info.vendorModelId === defaultModel)) {
    models.unshift(modelInfo(provider, { id: defaultModel }));
  }
  return {
    name: provider.name,
    type: provider.type,
    apiKey,
    baseUrl,
    headers: provider.headers ?? {},
    models,
    defaultModel,
    configError,
    timeouts: { ...DEFAULT_TIMEOUTS, ...provider.timeouts },
    circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER, ...provider.circuitBreaker },
    responsesModels: new Set((provider.models ?? []).filter((entry) => entry.api === "responses").map((entry) => entry.id)),
    client: provider.client ?? "agentd",
    structuredOutput: provider.structuredOutput,
  };
}

/** Catalog entry for a vendor model of a provider, listed or not. */
export function modelInfo(provider: Pick<ProviderConfig, "name" | "type">, entry: ProviderModelConfig): ModelInfo {
  const known = builtinModel(provider.type, entry.id);
  const label = entry.label ?? known?.label ?? entry.id;
  return {
    id: `provider:${provider.name}:${entry.id}`,
    label: provider.name === provider.type ? label : `${label} (${provider.name})`,
    provider: provider.name,
    vendorModelId: entry.id,
    source: "platform_offering",
    contextWindowTokens: entry.contextWindowTokens ?? known?.contextWindowTokens ?? null,
    pricing: entry.pricing ?? known?.pricing ?? null,
  };
}
