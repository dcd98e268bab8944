import type { ModelInfo } from "@agentd/protocol";
import { chatCompletionsProvider } from "./openai-chat/client.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

/**
 * vLLM, Ollama, llama.cpp, OpenRouter, Groq...: any server speaking Chat
 * Completions, through the hand-written client of openai-chat/ (the AI SDK
 * path costs several times agentd's CPU budget per run; see client.ts).
 * Structured output (`response_format: json_schema`) only when the config
 * says the server has it (`structuredOutput: true`).
 */
export function openaiCompatibleProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  return chatCompletionsProvider({
    provider: setup.name,
    baseUrl: setup.baseUrl!,
    apiKey: setup.apiKey,
    headers: setup.headers,
    timeouts: setup.timeouts,
    configError: setup.configError,
    structuredOutput: setup.structuredOutput ?? false,
  });
}
