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
export type { Runs } from "./resources/runs.js";
export type { Agents } from "./resources/agents.js";
export type { Sessions, Session } from "./resources/sessions.js";
export type { DriveOptions, RunParams, RunResult, SendOptions, SessionParams, StartRunParams, StreamOptions, ToolResultBody } from "./types.js";
export type {
  CreateRunResponse,
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
} from "@agentd/protocol";
export { VERSION } from "./version.js";
