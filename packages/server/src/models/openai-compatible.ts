import type { ModelInfo } from "@agentd/protocol";
import { chatCompletionsProvider } from "./openai-chat/client.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

/**
 * vLLM, Ollama, llama.cpp, OpenRouter, Groq...: any server speaking Chat
 * Completions, through the hand-written client of openai-chat/ (the AI SDK
 * path costs several times agentd's CPU budget per run; see client.ts).
 */
export function openaiCompatibleProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  return chatCompletionsProvider({
    provider: setup.name,
    baseUrl: setup.baseUrl!,
    apiKey: setup.apiKey,
    headers: setup.headers,
    configError: setup.configError,
  });
}
