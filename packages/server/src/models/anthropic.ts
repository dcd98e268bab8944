import type { ModelInfo } from "@agentd/protocol";
import { createAnthropic } from "@ai-sdk/anthropic";
import { aiSdkModel } from "./ai-sdk-model.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

/** The package appends `/messages` to this. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1";

export function anthropicProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  const sdk = createAnthropic({
    // Always explicit, so the package never falls back to process.env.
    apiKey: setup.apiKey ?? "",
    baseURL: setup.baseUrl ?? ANTHROPIC_BASE_URL,
    headers: setup.headers,
  });
  return (info) => aiSdkModel({ provider: setup.name, info, model: sdk.messages(info.vendorModelId), configError: setup.configError });
}
