import type {
  AgentSpec,
  ChatMessage,
  Metadata,
  ResultSubtype,
  RunStatus,
  SessionStatus,
  ToolCall,
  Usage,
} from "@agentd/protocol";
import type { ConversationMessage } from "../models/types.js";

export interface WorkspaceRecord {
  id: string;
  slug: string;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  name: string;
  /** First characters of the key, safe to display (`agd_AbC1…`). */
  displayPrefix: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A local tool call waiting for (or holding) its result. */
export interface PendingToolCall extends ToolCall {
  result?: string;
  error?: string;
}

/**
 * Everything needed to continue a run from its last completed step: written
 * with the events of that step, in the same transaction.
 */
export interface RunCheckpoint {
  /** Conversation after the system prompt, including this run's input. */
  messages: ConversationMessage[];
  /** Model turns that ended in tool calls so far. */
  toolTurns: number;
  /** Calls of the current turn waiting for results (run is `paused`). */
  pending: PendingToolCall[];
  /** When waiting for local tools stops, epoch milliseconds. */
  pendingDeadline: number | null;
  /** Index in `messages` where this run's own input starts (earlier: session history). */
  inputStart: number;
  /** Number of times this run was started (1 on the first attempt). */
  attempt: number;
}

export interface RunRecord {
  id: string;
  workspaceId: string;
  sessionId: string | null;
  agentId: string | null;
  modelId: string;
  status: RunStatus;
  /** The resolved agent spec, stored for observability. */
  agentSpec: AgentSpec;
  metadata: Metadata;
  checkpoint: RunCheckpoint;
  text: string | null;
  subtype: ResultSubtype | null;
  error: string | null;
  usage: Usage;
  lastSeq: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

/** Fields of a run that change while it executes. */
export type RunPatch = Partial<
  Pick<RunRecord, "status" | "checkpoint" | "text" | "subtype" | "error" | "usage" | "lastSeq" | "startedAt" | "endedAt" | "modelId">
>;

export interface SessionRecord {
  id: string;
  workspaceId: string;
  name: string;
  status: SessionStatus;
  agentSpec: AgentSpec;
  metadata: Metadata;
  messages: ChatMessage[];
  activeRunId: string | null;
  createdAt: string;
  lastUsedAt: string;
  endedAt: string | null;
}

export type SessionPatch = Partial<Pick<SessionRecord, "status" | "agentSpec" | "messages" | "activeRunId" | "lastUsedAt" | "endedAt">>;

/** One event as stored: `data` is the event's full JSON (seq and type included). */
export interface StoredEvent {
  runId: string;
  seq: number;
  type: string;
  data: string;
}

/**
 * One group commit: events and state changes written in a single
 * transaction, so a reader never sees an event without the state it implies.
 */
export interface CommitBatch {
  /** Runs to insert, before the events (which may belong to them). */
  newRuns?: RunRecord[];
  events: StoredEvent[];
  runs: Array<{ runId: string; patch: RunPatch }>;
  sessions: Array<{ sessionId: string; patch: SessionPatch }>;
}

/**
 * The store: durable state and the event log. Implementations: SQLite
 * (embedded, store/sqlite) and later PostgreSQL. All must pass
 * store/contract.ts. Methods throw AgentdError for domain conflicts
 * (e.g. `session_busy`), never HTTP errors.
 */
export interface Store {
  readonly kind: string;
  close(): Promise<void>;

  // --- tenancy -------------------------------------------------------------
  /** Returns the workspace, creating it if needed. */
  ensureWorkspace(slug: string): Promise<WorkspaceRecord>;
  getWorkspaceBySlug(slug: string): Promise<WorkspaceRecord | undefined>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** A non-revoked key by hash, with its workspace. */
  findApiKeyByHash(hash: string): Promise<{ key: ApiKeyRecord; workspace: WorkspaceRecord } | undefined>;
  countApiKeys(): Promise<number>;

  // --- runs ----------------------------------------------------------------
  /**
   * Inserts a run. With `claimSession`, atomically also makes it the
   * session's active run: throws AgentdError `session_busy` if the session
   * has an active run, `session_ended` if ended, `not_found` if missing.
   */
  insertRun(run: RunRecord, options?: { claimSession?: string }): Promise<void>;
  getRun(workspaceId: string, runId: string): Promise<RunRecord | undefined>;
  /** Runs in any of these states, oldest first (start-up recovery). */
  listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]>;

  // --- events + state ------------------------------------------------------
  commit(batch: CommitBatch): Promise<void>;
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;

  // --- sessions ------------------------------------------------------------
  insertSession(session: SessionRecord): Promise<void>;
  getSession(workspaceId: string, sessionId: string): Promise<SessionRecord | undefined>;
  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
}
