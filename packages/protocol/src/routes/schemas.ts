import { z } from "zod";
import { AgentSpec, ApprovalPolicy, Budgets, ModelParams } from "../agent.js";
import { AgentInfo, AgentRevisionInfo, AgentTagInfo } from "../agents.js";
import { ErrorBody, FieldIssue } from "../errors.js";
import { ResultSubtype, RunEvent, RunStreamFrame, StreamErrorFrame } from "../events.js";
import { ChatMessage, MessageRole } from "../messages.js";
import { Metadata } from "../metadata.js";
import { ModelCatalog, ModelInfo, ModelPricing } from "../models.js";
import { ListRunsResponse } from "../run-list.js";
import {
  ApprovalDecision,
  CancelRunRequest,
  ContinueRunRequest,
  CreateRunRequest,
  CreateRunResponse,
  OkResponse,
  RunSnapshot,
  RunStatus,
  ToolResultRequest,
} from "../runs.js";
import { CreateSessionRequest, CreateSessionResponse, SessionInfo, SessionMessageRequest, SessionStatus } from "../sessions.js";
import { CodeToolRef, HttpToolRef, LocalToolRef, McpToolRef, ToolCall, ToolRef } from "../tools.js";
import { EffectiveRetention, WorkspaceSettings } from "../settings.js";
import { GetTraceResponse, ListTracesResponse, Span, TraceSummary } from "../traces.js";
import { Usage } from "../usage.js";
import { UsageGroup, UsageTotals } from "../usage-report.js";

/**
 * The named schemas of the document (`components.schemas`), by the name a
 * client generator gives their types: a schema inside another one is named
 * when it is worth a type of its own, and then appears as a `$ref`; a body
 * shared by routes is named here. A route's own body needs no entry: the
 * document names it after its operation (`<OperationId>Request`,
 * `<OperationId>Response`). A map of our own, not `.meta({ id })`: naming
 * must not change the schema objects the server validates with.
 */
export const NAMED_SCHEMAS = {
  ErrorBody,
  FieldIssue,
  OkResponse,
  RunEvent,
  StreamErrorFrame,
  RunStreamFrame,
  ResultSubtype,
  RunStatus,
  RunSnapshot,
  CreateRunRequest,
  CreateRunResponse,
  ListRunsResponse,
  ToolResultRequest,
  ContinueRunRequest,
  ApprovalDecision,
  CancelRunRequest,
  CreateSessionRequest,
  CreateSessionResponse,
  SessionInfo,
  SessionStatus,
  SessionMessageRequest,
  Span,
  TraceSummary,
  GetTraceResponse,
  ListTracesResponse,
  ModelCatalog,
  ModelInfo,
  ModelPricing,
  AgentSpec,
  ModelParams,
  Budgets,
  ApprovalPolicy,
  ToolRef,
  LocalToolRef,
  HttpToolRef,
  McpToolRef,
  CodeToolRef,
  ToolCall,
  ChatMessage,
  MessageRole,
  Metadata,
  Usage,
  UsageTotals,
  UsageGroup,
  AgentInfo,
  AgentRevisionInfo,
  AgentTagInfo,
  WorkspaceSettings,
  EffectiveRetention,
} satisfies Record<string, z.ZodType>;
