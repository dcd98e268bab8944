import type { ModelInfo } from "@agentd/protocol";
import { ConfigError } from "../config/load.js";
import type { AgentdConfig, ProviderType } from "../config/types.js";
import { AgentdError } from "../errors.js";
import { anthropicProvider } from "./anthropic.js";
import { builtinModel } from "./builtin-models.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { MOCK_MODEL, MOCK_PROVIDER, mockModel } from "./mock.js";
import { openaiCompatibleProvider } from "./openai-compatible.js";
import { openaiProvider } from "./openai.js";
import { modelInfo, providerSetups, type ProviderSetup } from "./providers.js";
import type { LanguageModel, ModelRegistry } from "./types.js";

type ProviderFactory = (setup: ProviderSetup) => (info: ModelInfo) => LanguageModel;

const FACTORIES: Record<ProviderType, ProviderFactory> = {
  openai: openaiProvider,
  "openai-compatible": openaiCompatibleProvider,
  anthropic: anthropicProvider,
  mock: () => mockModel,
};

/**
 * The models this server can run, from the config's providers plus the
 * standard environment variables (see providers.ts), and the `modelId` forms
 * of seed 004 §3. Throws at startup when the config itself is wrong.
 */
export function createModelRegistry(config: AgentdConfig, env: Record<string, string | undefined>): ModelRegistry {
  const setups = providerSetups(config, env);
  const byName = new Map(setups.map((setup) => [setup.name, setup]));
  const listed = setups.flatMap((setup) => setup.models);
  const factories = new Map<string, (info: ModelInfo) => LanguageModel>();
  // One circuit per real provider, shared by its models: it is the provider that goes down.
  const circuits = new Map(
    setups.filter((setup) => setup.type !== "mock").map((setup) => [setup.name, new CircuitBreaker(setup.name, setup.circuitBreaker)]),
  );
  // One adapter per model for the process's life: building a provider per run
  // would redo its setup on the hot path.
  const resolved = new Map<string, LanguageModel>();

  const invalid = (message: string, candidates: string[]): AgentdError =>
    new AgentdError("invalid_model", `${message}; pick one of: ${candidates.join(", ")}`, {
      candidates,
      hint: "GET /models lists the runnable models",
    });

  function lookup(modelId: string): ModelInfo {
    const everything = listed.map((info) => info.id);
    if (modelId.startsWith("provider:")) {
      const rest = modelId.slice("provider:".length);
      // Vendor ids may contain ':' (Ollama's `llama3:8b`): split at the first only.
      const colon = rest.indexOf(":");
      const name = colon < 0 ? rest : rest.slice(0, colon);
      const vendorId = colon < 0 ? undefined : rest.slice(colon + 1);
      const setup = byName.get(name);
      if (setup === undefined) throw invalid(`Model '${modelId}' is not available: no provider is named '${name}'`, everything);
      const wanted = vendorId || setup.defaultModel;
      if (wanted === undefined) {
        throw invalid(`Model '${modelId}' is not available: provider '${name}' has no default model`, everything);
      }
      const known = setup.models.find((info) => info.vendorModelId === wanted);
      if (known !== undefined) return known;
      if (setup.type === "mock") throw invalid(`Model '${modelId}' is not available`, everything);
      // Pinning a provider with any vendor model is allowed (seed 004 §3).
      const label = builtinModel(setup.type, wanted) === undefined ? `${wanted} (not in the catalog)` : undefined;
      return modelInfo(setup, { id: wanted, ...(label !== undefined ? { label } : {}) });
    }
    if (modelId === MOCK_MODEL) return byName.get(MOCK_PROVIDER)!.models[0]!;
    const matches = listed.filter((info) => info.vendorModelId === modelId);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw invalid(`Model '${modelId}' is ambiguous`, matches.map((info) => info.id));
    throw invalid(`Model '${modelId}' is not available`, everything);
  }

  function build(info: ModelInfo): LanguageModel {
    const cached = resolved.get(info.id);
    if (cached !== undefined) return cached;
    let factory = factories.get(info.provider);
    if (factory === undefined) {
      const setup = byName.get(info.provider)!;
      factory = FACTORIES[setup.type](setup);
      factories.set(info.provider, factory);
    }
    const built = factory(info);
    const circuit = circuits.get(info.provider);
    const model = circuit === undefined ? built : { ...built, circuit };
    resolved.set(info.id, model);
    return model;
  }

  const defaultInfo = defaultModel(config, setups, lookup);
  const catalogModels = listed.includes(defaultInfo) ? listed : [...listed, defaultInfo];
  return {
    catalog: () => ({ models: catalogModels, defaultModelId: defaultInfo.id }),
    resolve: (modelId) => build(modelId === undefined || modelId === "" ? defaultInfo : lookup(modelId)),
    circuits: () => [...circuits.values()].map((circuit) => circuit.snapshot()),
  };
}

/** The config's choice, else the first real provider's default, else the mock. */
function defaultModel(config: AgentdConfig, setups: ProviderSetup[], lookup: (modelId: string) => ModelInfo): ModelInfo {
  if (config.defaultModelId !== undefined) {
    try {
      return lookup(config.defaultModelId);
    } catch (error) {
      throw new ConfigError(`config: defaultModelId: ${(error as Error).message}`, { cause: error });
    }
  }
  for (const setup of setups) {
    if (setup.type === "mock" || setup.defaultModel === undefined) continue;
    return setup.models.find((info) => info.vendorModelId === setup.defaultModel)!;
  }
  return setups.find((setup) => setup.name === MOCK_PROVIDER)!.models[0]!;
}
