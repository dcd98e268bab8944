import type { ModelInfo } from "@agentd/protocol";
import { createAnthropic } from "@ai-sdk/anthropic";
import { aiSdkModel } from "./ai-sdk-model.js";
import { messagesProvider } from "./anthropic-messages/client.js";
import type { ProviderSetup } from "./providers.js";
import type { LanguageModel } from "./types.js";

/** Up to the version; the clients append `/messages`. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1";

/** Anthropic Messages through agentd's own client; `client: "ai-sdk"` takes the AI SDK's instead (docs/configuration.md "Providers"). */
export function anthropicProvider(setup: ProviderSetup): (info: ModelInfo) => LanguageModel {
  const baseUrl = setup.baseUrl ?? ANTHROPIC_BASE_URL;
  if (setup.client === "ai-sdk") {
    // Always explicit, so the package never falls back to process.env.
    const sdk = createAnthropic({ apiKey: setup.apiKey ?? "", baseURL: baseUrl, headers: setup.headers });
    return (info) => aiSdkModel({ provider: setup.name, info, model: sdk.messages(info.vendorModelId), configError: setup.configError });
  }
  return messagesProvider({
    provider: setup.name,
    baseUrl,
    apiKey: setup.apiKey,
    headers: setup.headers,
    timeouts: setup.timeouts,
    configError: setup.configError,
  });
}
