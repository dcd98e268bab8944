export { McpManager, type McpManagerOptions, type McpToolInfo } from "./manager.js";
export { DEFAULT_MCP_TIMEOUT_MS } from "./connection.js";
export { resultText } from "./result.js";
