import type { ModelInfo } from "@agentd/protocol";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { aiSdkModel } from "./ai-sdk-model.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

/** vLLM, Ollama, llama.cpp, OpenRouter, Groq...: any server speaking Chat Completions. */
export function openaiCompatibleProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  const sdk = createOpenAICompatible({
    name: setup.name,
    baseURL: setup.baseUrl!,
    ...(setup.apiKey !== undefined ? { apiKey: setup.apiKey } : {}),
    headers: setup.headers,
    // Off by default in the package; without it streamed usage is 0.
    includeUsage: true,
  });
  return (info) => aiSdkModel({ provider: setup.name, info, model: sdk.chatModel(info.vendorModelId), configError: setup.configError });
}
