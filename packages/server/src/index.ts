export { createServer, type AgentdServer, type CreateServerOptions } from "./server.js";
export { loadConfig, resolveDataDir, validateConfig, ConfigError, DEFAULT_PORT } from "./config/load.js";
export type { AgentdConfig, ProviderConfig, ProviderModelConfig, ProviderType } from "./config/types.js";
export { openStore } from "./store/open.js";
export type { Store } from "./store/types.js";
export { createApiKey, hashApiKey, WORKSPACE_SLUG_PATTERN, type CreatedApiKey } from "./auth/keys.js";
export type { ModelRegistry, LanguageModel } from "./models/types.js";
export { createLogger, type Logger, type LogLevel } from "./logger.js";
export { AgentdError } from "./errors.js";
