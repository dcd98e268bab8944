import type { ModelInfo } from "@agentd/protocol";
import { createOpenAI } from "@ai-sdk/openai";
import { aiSdkModel } from "./ai-sdk-model.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/**
 * OpenAI through Chat Completions (not the Responses API): it is what every
 * OpenAI-compatible server also speaks, and the package asks for usage in
 * the stream (`stream_options.include_usage`) on its own.
 */
export function openaiProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  const sdk = createOpenAI({
    // Always explicit, so the package never falls back to process.env.
    apiKey: setup.apiKey ?? "",
    baseURL: setup.baseUrl ?? OPENAI_BASE_URL,
    headers: setup.headers,
  });
  return (info) => aiSdkModel({ provider: setup.name, info, model: sdk.chat(info.vendorModelId), configError: setup.configError });
}
