import type { ModelInfo } from "@agentd/protocol";
import { createOpenAI } from "@ai-sdk/openai";
import { aiSdkModel } from "./ai-sdk-model.js";
import { chatCompletionsProvider } from "./openai-chat/client.js";
import { responsesProvider } from "./openai-responses/client.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/**
 * OpenAI through agentd's own clients (models/http): Chat Completions, what
 * every OpenAI-compatible server also speaks, and the Responses API for the
 * models a config marks `api: "responses"`. `client: "ai-sdk"` takes the AI
 * SDK's Chat Completions path instead, at about ten times the CPU per call
 * (docs/configuration.md "Providers").
 */
export function openaiProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  const baseUrl = setup.baseUrl ?? OPENAI_BASE_URL;
  if (setup.client === "ai-sdk") {
    // Always explicit, so the package never falls back to process.env.
    const sdk = createOpenAI({ apiKey: setup.apiKey ?? "", baseURL: baseUrl, headers: setup.headers });
    return (info) => aiSdkModel({ provider: setup.name, info, model: sdk.chat(info.vendorModelId), configError: setup.configError });
  }
  const common = {
    provider: setup.name,
    baseUrl,
    apiKey: setup.apiKey,
    headers: setup.headers,
    timeouts: setup.timeouts,
    configError: setup.configError,
  };
  const chat = chatCompletionsProvider({
    ...common,
    maxTokensField: "max_completion_tokens",
    structuredOutput: setup.structuredOutput ?? true,
  });
  let responses: ((info: ModelInfo) => LanguageModel) | undefined;
  return (info) => (setup.responsesModels.has(info.vendorModelId) ? (responses ??= responsesProvider(common))(info) : chat(info));
}
