export { costUsd } from "./cost.js";
export { MOCK_MODEL, MOCK_PROVIDER, mockInfo, mockModel } from "./mock.js";
export { createModelRegistry } from "./registry.js";
export { ModelError } from "./types.js";
export type { ConversationMessage, LanguageModel, ModelRegistry, ModelStepRequest, ModelStreamPart, ModelTool, ModelUsage } from "./types.js";
