export { Agentd, DEFAULT_BASE_URL, DEFAULT_WORKSPACE, type AgentdOptions } from "./client.js";
export {
  AgentdError,
  APIError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  RunFailedError,
  RunCancelledError,
} from "./errors.js";
export { defineTool, type LocalTool, type ToolContext, type ToolInput, type JsonSchema, type SchemaLike, type InferArgs } from "./tools.js";
export type { RequestOptions } from "./internal/request.js";
export type { Models } from "./resources/models.js";
export type { Runs, RunList } from "./resources/runs.js";
export type { PageList, CursorPage } from "./pagination.js";
export type { Agents } from "./resources/agents.js";
export type { AgentRegistry } from "./resources/registry.js";
export type { Sessions, Session } from "./resources/sessions.js";
export type { Traces, TraceList } from "./resources/traces.js";
export type { Keys } from "./resources/keys.js";
export type { Settings } from "./resources/settings.js";
export type { UsageReports } from "./resources/usage.js";
export type {
  ApprovalAnswer,
  ApprovalRequest,
  DriveOptions,
  ListRunsParams,
  ListTracesParams,
  RunParams,
  RunResult,
  SendOptions,
  SessionParams,
  StartRunParams,
  StreamOptions,
  ToolResultBody,
  UsageParams,
} from "./types.js";
export type {
  CreateRunResponse,
  ListRunsResponse,
  ModelCatalog,
  ModelInfo,
  RunEvent,
  RunEventOf,
  RunEventType,
  RunSnapshot,
  RunStatus,
  ResultSubtype,
  SessionInfo,
  Usage,
  GetUsageResponse,
  UsageGroup,
  UsageGroupBy,
  UsageTotals,
  WorkspaceSettings,
} from "@agentd/protocol";
export { VERSION } from "./version.js";
