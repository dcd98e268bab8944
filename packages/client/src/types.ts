import type {
  CreateRunRequest,
  CreateSessionRequest,
  Metadata,
  ModelParams,
  ResultSubtype,
  RunEvent,
  RunStatus,
  Usage,
  UsageGroupBy,
} from "@agentd/protocol";
import type { ToolInput } from "./tools.js";

/** What a finished, successful run produced. */
export interface RunResult {
  runId: string;
  /** The final answer. */
  text: string;
  status: RunStatus;
  subtype: ResultSubtype;
  usage: Usage;
  /** Every event of the run, in `seq` order. */
  events: RunEvent[];
}

/** Follow-up behaviour shared by every call that drives a run. */
export interface DriveOptions {
  /** Aborting cancels the run on the server (best effort) and rejects with APIUserAbortError. */
  signal?: AbortSignal;
  /** Called with each `assistant_delta` text as it arrives. */
  onDelta?: (text: string) => void;
  /**
   * Decides a tool call that requires approval (`approval_required`): return
   * true / false, or `{ approved, reason }`. Without it the run waits, paused,
   * for `runs.continue` from elsewhere (a reviewer's UI, the CLI).
   */
  onApproval?: (call: ApprovalRequest) => Promise<ApprovalAnswer> | ApprovalAnswer;
}

/** A tool call waiting for a human, as `onApproval` receives it. */
export interface ApprovalRequest {
  runId: string;
  toolUseId: string;
  name: string;
  args: Record<string, unknown>;
}

export type ApprovalAnswer = boolean | { approved: boolean; reason?: string };

/** `agents.run` / `agents.stream`: a run request whose `tools` may hold `defineTool` handlers. */
export type RunParams = Omit<CreateRunRequest, "tools"> & { tools?: ToolInput[] } & DriveOptions;

/** `runs.start`: a run request; local handlers in `tools` are sent as definitions only. */
export type StartRunParams = Omit<CreateRunRequest, "tools"> & { tools?: ToolInput[] };

/** `sessions.create`: the session's agent; local handlers in `tools` answer every message. */
export type SessionParams = Omit<CreateSessionRequest, "tools"> & { tools?: ToolInput[] };

/** `session.send` / `session.stream`. */
export interface SendOptions extends DriveOptions {
  /** Merged over the session's metadata for this run (these keys win). */
  metadata?: Metadata;
  modelParams?: ModelParams;
  /** Passed to the agent's server tools, never shown to the model. */
  dependencies?: Record<string, unknown>;
  /** The session has a run in progress: `reject` (ConflictError, session_busy) or `enqueue` (run after it). @default "reject" */
  onBusy?: "reject" | "enqueue";
}

/** `runs.submitToolResult`: exactly one of `result` or `error`. */
export type ToolResultBody =
  { toolUseId: string; result: string; error?: undefined } | { toolUseId: string; error: string; result?: undefined };

/** Options of `runs.stream`. */
export interface StreamOptions {
  /** Deliver only events after this `seq` (resume). @default 0 */
  lastSeq?: number;
  /** Stops the stream; the iteration rejects with APIUserAbortError. */
  signal?: AbortSignal;
  /** Reconnect when no bytes, heartbeats included, arrive for this long, in milliseconds. @default 45_000 */
  idleTimeoutMs?: number;
  /** Consecutive reconnects without a new event before giving up. @default 10 */
  maxReconnects?: number;
}

/** `usage.get`: the window of run creation times and the grouping. Every field is optional. */
export interface UsageParams {
  /** Start of the window, inclusive (a `Date` or ISO 8601 with a zone). @default 30 days before `to` */
  from?: Date | string;
  /** End of the window, exclusive; at most 92 days after `from`. @default now */
  to?: Date | string;
  /** Also totals per named agent, model, UTC day or API key. @default none: the totals only */
  groupBy?: UsageGroupBy;
}

/** `traces.list`: the run listing's filters; `status` also takes `error` (failed runs). */
export type ListTracesParams = Omit<ListRunsParams, "status"> & { status?: RunStatus | "error" | ReadonlyArray<RunStatus | "error"> };

/** `runs.list`: filters (AND-combined) and paging. Every field is optional. */
export interface ListRunsParams {
  /** Only runs in this state or these states. */
  status?: RunStatus | readonly RunStatus[];
  /** Only runs of this named agent. */
  agentId?: string;
  /** Only runs of this session. */
  sessionId?: string;
  /** Only runs whose metadata has every one of these pairs. */
  metadata?: Record<string, string>;
  /** Only runs created strictly after this instant (a `Date` or ISO 8601 with a zone). */
  createdAfter?: Date | string;
  /** Only runs created strictly before this instant. */
  createdBefore?: Date | string;
  /** Runs per page, 1 to 100. Iterating fetches as many pages as it needs. @default 20 */
  limit?: number;
  /** Start after this position: a previous page's `nextCursor`. */
  cursor?: string;
}
