import type {
  AgentSpec,
  ChatMessage,
  KeyLimits,
  Metadata,
  ResultSubtype,
  RunStatus,
  SessionStatus,
  ToolCall,
  Usage,
  UsageGroupBy,
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
  /**
   * HMAC-SHA-256 of the whole key under the server's pepper, hex (auth/key-hash.ts);
   * plain SHA-256 for keys made before issue #12. The key itself is never stored.
   */
  hash: string;
  /** What the key may do (KEY_SCOPES, or `*`). Keys made before issue #12 have `["*"]`. */
  scopes: string[];
  /** Agent ids it may run; empty: every agent. */
  agents: string[];
  /** When it stops working; null: never. */
  expiresAt: string | null;
  /** Its own limits (KeyLimits); `{}`: the config's defaults. */
  limits: KeyLimits;
  createdAt: string;
  /** Written at most once a minute per process (http/auth.ts). */
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** What `PATCH /keys/{keyId}` may change. */
export interface ApiKeyPatch {
  name?: string;
  scopes?: string[];
  agents?: string[];
  /** Replaces the key's limits whole. */
  limits?: KeyLimits;
}

/** A tool call of the current turn, waiting for (or holding) its result. */
export interface PendingToolCall extends ToolCall {
  /** `local`: the caller answers it; `server`: agentd runs it. */
  executor: "local" | "server";
  /** Set when the tool requires approval: `pending` until decided. */
  approval?: "pending" | "approved" | "rejected";
  result?: string;
  error?: string;
  /** When the call was dispatched (asked for, or started here), epoch ms: its trace span's start (engine/trace.ts). */
  startedAt?: number;
  /** When its answer came, epoch ms: its trace span's end. */
  endedAt?: number;
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
  /** When waiting for local tool results stops, epoch milliseconds. */
  pendingDeadline: number | null;
  /** When waiting for approvals stops (then the approval policy applies), epoch milliseconds. */
  approvalDeadline?: number | null;
  /** The run's `dependencies`, for server tools; never shown to the model. */
  dependencies?: Record<string, unknown>;
  /** Calls made so far per tool name (budgets.toolCallLimits). */
  callCounts?: Record<string, number>;
  /** Times each (tool, arguments) pair was called (budgets.loopGuard). */
  callRepeats?: Record<string, number>;
  /** Repair turns spent on an answer that failed the output schema. */
  outputRepairs?: number;
  /** Model calls repeated after retryable provider failures so far (budgets.maxModelRetries). */
  modelRetries?: number;
  /** Index in `messages` where this run's own input starts (earlier: session history). */
  inputStart: number;
  /** Number of times this run was started (1 on the first attempt). */
  attempt: number;
  /** Executions of this run that ended with their worker dying mid-run (the re-attempt cap counts these). */
  crashes?: number;
  /** Set by a worker shutting down gracefully as it hands the run back: the next start is not a crash. */
  handedOff?: boolean;
  /** The span of the model step whose tool calls are pending, open until they are answered: their spans' parent (engine/trace.ts). */
  step?: SpanRecord;
  /** The run's open wait span while it is paused (engine/trace.ts). */
  wait?: { spanId: string; kind: string; startedAt: string };
}

export interface RunRecord {
  id: string;
  workspaceId: string;
  sessionId: string | null;
  agentId: string | null;
  /** The registry revision the run executes (issue #11); null for an inline or config agent. */
  agentRevision: number | null;
  /** The tag the run was named by, as it was resolved at creation; null when named otherwise. */
  agentTag: string | null;
  /**
   * The API key whose request created the run (`POST /agent-runs`, a
   * session's message), for `GET /usage?groupBy=key`; null for a run stored
   * before runs recorded it, or created without a request.
   */
  keyId: string | null;
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
  /**
   * Why cancelling the run was asked for (`Store.requestCancel`); null when
   * it was not. Not part of `RunPatch`: only `requestCancel` sets it, and an
   * inserted run never carries one (the value given to `insertRun` or
   * `CommitBatch.newRuns` is ignored and stored as null).
   */
  cancelRequested: string | null;
}

/**
 * One span of a run's trace (docs/traces.md): `run` (the root, one per run),
 * `model` (one model step), `tool` (one tool call) or `wait` (the run paused
 * on local tools or approvals). Written with the run's checkpoints in the
 * group commit (`CommitBatch.spans`); a span written again with the same id
 * replaces the earlier row (an open span, `endedAt` null, being closed).
 */
export interface SpanRecord {
  runId: string;
  /** 16 hex digits, unique within the run. */
  spanId: string;
  /** Null for the root span. */
  parentSpanId: string | null;
  name: SpanName;
  /** What sort of model step, tool or wait (`server`, `local`, `approval`, ...); the root's is `agent`. */
  kind: string;
  /** The run's attempt (checkpoint.attempt) that made the span: a resumed run's spans carry the new number. */
  attempt: number;
  startedAt: string;
  /** Null while the span is open. */
  endedAt: string | null;
  status: SpanStatus;
  error: string | null;
  attributes: Record<string, unknown>;
}

export type SpanName = "run" | "model" | "tool" | "wait";
export type SpanStatus = "ok" | "error";

/**
 * A registry agent of a workspace (issue #11). Its definitions are its
 * revisions; `latestRevision` is bumped by the transaction that adds one,
 * which is what keeps their numbers gapless under races. A deleted agent
 * keeps its row (`deletedAt`) and revisions, so its id stays taken.
 */
export interface AgentRecord {
  workspaceId: string;
  id: string;
  name: string | null;
  description: string | null;
  latestRevision: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** An agent as listed: with its latest revision's definition, read in the same statement. */
export type AgentListing = AgentRecord & { definition: Record<string, unknown> };

/** One immutable definition of an agent (`definition`: the protocol's AgentDefinitionBody). */
export interface AgentRevisionRecord {
  workspaceId: string;
  agentId: string;
  revision: number;
  definition: Record<string, unknown>;
  createdAt: string;
}

/** A workspace's name for one revision of one agent (`production`). */
export interface AgentTagRecord {
  workspaceId: string;
  tag: string;
  agentId: string;
  revision: number;
  updatedAt: string;
}

/** How a run names a registry agent: by tag, or by id (latest revision unless `revision`). */
export type AgentReference = { tag: string } | { agentId: string; revision?: number };

/** A reference resolved: the revision to execute and the tag it came through (null when none). */
export interface ResolvedAgent {
  agentId: string;
  revision: number;
  tag: string | null;
  definition: Record<string, unknown>;
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
  /** The registry revision the session's runs execute, resolved once when it was created (issue #11); null otherwise. */
  agentRevision: number | null;
  /** The tag the session was created from; null when named otherwise. */
  agentTag: string | null;
  metadata: Metadata;
  messages: ChatMessage[];
  activeRunId: string | null;
  createdAt: string;
  lastUsedAt: string;
  endedAt: string | null;
}

/**
 * What `Store.listRuns` selects; every given field must match (AND).
 * An absent field does not filter; `statuses: []` matches no run.
 */
export interface RunFilter {
  statuses?: RunStatus[];
  agentId?: string;
  sessionId?: string;
  /** Runs whose metadata has every one of these key/value pairs. */
  metadata?: Record<string, string>;
  /** `createdAt` strictly after this instant (ISO 8601 UTC, as `toISOString()` writes it). */
  createdAfter?: string;
  /** `createdAt` strictly before this instant (same form). */
  createdBefore?: string;
}

/**
 * What `Store.sumUsage` adds up over a set of runs (GET /usage). `costNanos`
 * sums the cost of the runs whose cost is known, in nano-dollars (USD ×
 * 10^9, exact); `costUnknownRuns` counts the others (costUsd null while
 * the run used tokens), which are not in it.
 */
export interface UsageSums {
  /** The group's agent id, model id, UTC day (`2026-01-31`) or key id; null for runs without one, and without grouping. */
  key: string | null;
  runs: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  modelCalls: number;
  toolCalls: number;
  costNanos: number;
  costUnknownRuns: number;
}

export type SessionPatch = Partial<Pick<SessionRecord, "status" | "agentSpec" | "messages" | "activeRunId" | "lastUsedAt" | "endedAt">>;

/** A worker's hold on a run (issue #4): only the holder executes it and writes its events. */
export interface Lease {
  runId: string;
  workerId: string;
  /** Fencing token: incremented by every claim; a write carrying an older epoch is refused. */
  epoch: number;
  /** Epoch milliseconds (the database's clock) when the lease lapses unless renewed. */
  expiresAt: number;
}

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
  /**
   * Trace spans to insert or replace (by run and span id), at most one per
   * (run, span id); fenced like the run's events. Absent: none.
   */
  spans?: SpanRecord[];
  /**
   * Fencing (issue #4): for each run listed, the writes of this batch for it
   * (its events and its patch) are made only if the run's lease still has
   * this epoch and this worker; otherwise they are left out and the run is
   * reported in `CommitResult.fenced`. The rest of the batch commits.
   * Runs not listed are written unconditionally (single-process mode).
   */
  fences?: Array<{ runId: string; workerId: string; epoch: number }>;
}

/** A workspace's unfinished runs, by state (`Store.countActiveRuns`). */
export interface ActiveRunCounts {
  queued: number;
  running: number;
  paused: number;
}

/** One idempotency key: a workspace's key for one request path (`scope`); the same key on another path is another key. */
export interface IdempotencyKey {
  workspaceId: string;
  scope: string;
  key: string;
}

/** An attempt to serve a request under its key: `token` (random per attempt) names the attempt holding a pending key. */
export interface IdempotencyHold extends IdempotencyKey {
  token: string;
}

export interface IdempotencyBegin extends IdempotencyHold {
  /** What the request was (e.g. sha256 of method, path and body): a key reused for another request is refused. */
  fingerprint: string;
  /** How long the key is remembered, from now, in milliseconds. */
  ttlMs: number;
  /** How long a pending key holds before another attempt may take it over (its holder presumably died), in milliseconds. */
  lockMs: number;
}

/**
 * What `Store.beginIdempotent` found: `new`, the caller now holds the key
 * (pending) and serves the request; `pending`, another attempt holds it;
 * `done`, the stored reply; `mismatch`, the key belongs to another request.
 */
export type IdempotencyState =
  { state: "new" } | { state: "pending" } | { state: "done"; status: number; body: unknown } | { state: "mismatch" };

/**
 * A workspace's own settings (issue #11, `PUT /settings`). A workspace without
 * a row has none: the config's retention (or the default) applies.
 */
export interface WorkspaceSettingsRecord {
  workspaceId: string;
  /** Ended runs are deleted this many days after they ended; null: kept forever (the workspace's own choice, over the config's). */
  retentionDays: number | null;
  updatedAt: string;
}

/** How much one retention batch may delete (Store.deleteExpiredRuns). */
export interface RetentionBatch {
  /** Most runs deleted. */
  maxRuns: number;
  /** Most events deleted with them (a run's `lastSeq` is its count), at least one run's whatever its size. */
  maxEvents: number;
}

export interface CommitResult {
  /** Runs whose writes were refused because their lease moved on (a zombie writer). */
  fenced: string[];
}

/**
 * The store: durable state and the event log. Implementations: SQLite
 * (embedded, store/sqlite) and PostgreSQL (store/postgres), both one
 * SqlStore (store/sql) running the shared operations (store/operations)
 * over their dialect (docs/store.md). All must pass the contract suite
 * (test/store/contract/). Methods throw AgentdError for domain conflicts
 * (e.g. `session_busy`), never HTTP errors.
 */
export interface Store {
  readonly kind: string;
  close(): Promise<void>;
  /**
   * Makes this process the one that executes runs from this store, until the
   * returned release is called; throws AgentdError `conflict` when another
   * live process holds it. (Runs carry no leases yet: two executing
   * processes would both resume the same unfinished runs.)
   */
  lockWorker(): Promise<() => Promise<void>>;

  // --- tenancy -------------------------------------------------------------
  /** Returns the workspace, creating it if needed. */
  ensureWorkspace(slug: string): Promise<WorkspaceRecord>;
  getWorkspaceBySlug(slug: string): Promise<WorkspaceRecord | undefined>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** A non-revoked key by hash, with its workspace. */
  findApiKeyByHash(hash: string): Promise<{ key: ApiKeyRecord; workspace: WorkspaceRecord } | undefined>;
  countApiKeys(): Promise<number>;
  /**
   * Keys with their workspace's slug, of one workspace or of all, newest
   * first (`createdAt` desc, then `id` desc); revoked ones included, with
   * their `revokedAt`. For operators (`agentd keys list`), not the hot path.
   */
  listApiKeys(workspaceId?: string): Promise<Array<ApiKeyRecord & { workspaceSlug: string }>>;
  /**
   * Revokes a key: sets `revokedAt` to now, once (revoking it again keeps
   * the first instant). Returns the key as it is now; undefined when no key
   * has this id. From then on `findApiKeyByHash` does not find it; servers
   * that cached the lookup stop accepting it when their cache entry lapses
   * (http/auth.ts: 1 s).
   */
  revokeApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** A key of the workspace by id, revoked or not. */
  getApiKey(workspaceId: string, id: string): Promise<ApiKeyRecord | undefined>;
  /** Changes a key that is not revoked; undefined when the workspace has no such live key. */
  updateApiKey(workspaceId: string, id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  /** Records a key's use at `at` (http/auth.ts calls it at most once a minute per key and process, off the request path). */
  touchApiKey(id: string, at: string): Promise<void>;
  /**
   * The server's key pepper (auth/key-hash.ts) when AGENTD_KEY_PEPPER is not
   * set: 32 random bytes made on first use and the same for every process
   * of this store afterwards. SQLite: the file `key-pepper` beside the
   * database (mode 0600); in memory: one per store; PostgreSQL: a row of
   * its `secrets` table.
   */
  keyPepper(): Promise<Buffer>;

  // --- runs ----------------------------------------------------------------
  /**
   * Inserts a run. With `claimSession`, atomically also makes it the
   * session's active run: throws AgentdError `session_busy` if the session
   * has an active run, `session_ended` if ended, `not_found` if missing.
   */
  insertRun(run: RunRecord, options?: { claimSession?: string }): Promise<void>;
  getRun(workspaceId: string, runId: string): Promise<RunRecord | undefined>;
  /**
   * A workspace's runs matching `filter`, newest first: `createdAt` desc,
   * then `id` desc in byte order (binary collation, so `run_B` < `run_a`).
   * At most `page.limit` rows, all strictly after `page.after` in that
   * order (keyset pagination: stable while runs are added).
   */
  listRuns(
    workspaceId: string,
    filter: RunFilter,
    page: { limit: number; after?: { createdAt: string; id: string } },
  ): Promise<RunRecord[]>;
  /**
   * How many of a workspace's runs are `queued`, `running` and `paused` now
   * (per-workspace caps). One indexed count (runs by workspace and status),
   * whatever the number of ended runs.
   */
  countActiveRuns(workspaceId: string): Promise<ActiveRunCounts>;
  /**
   * How many of the key's runs are `queued` or `running` now (its
   * concurrentRuns, issue #12; paused ones hold no slot). Counted among the
   * workspace's active runs (runs by workspace and status): bounded by the
   * workspace's cap, whatever the key's ended runs.
   */
  countKeyActiveRuns(workspaceId: string, keyId: string): Promise<number>;
  /**
   * Model tokens (input + output) of the key's runs created on `day`
   * (`YYYY-MM-DD`, UTC), live ones' so far, including those of its runs of
   * that day deleted since (`deleteEndedRun` keeps them): its tokensPerDay
   * (issue #12). One aggregate over the day's range of runs by key.
   */
  keyTokensOfDay(keyId: string, day: string): Promise<number>;
  /** Runs in any of these states, oldest first (start-up recovery). */
  listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]>;
  /**
   * Records a request to cancel the run, with its reason
   * (`RunRecord.cancelRequested`), if the run exists and is not ended
   * (`completed`, `failed`, `cancelled`); returns whether it did. A later
   * request replaces the reason (NUL is stored as U+FFFD, as in `text`).
   * Needs no lease and is not fenced (one UPDATE): the worker holding the
   * run sees it on its next read or claim. Commits that patch the run's
   * other fields leave it as it is.
   */
  requestCancel(runId: string, reason: string): Promise<boolean>;
  /**
   * Those of `runIds` that have a cancel request recorded, with its reason,
   * ordered by runId (ended runs included: the request stays). One query
   * whatever the number of ids; unknown ids are left out.
   */
  cancelRequests(runIds: string[]): Promise<Array<{ runId: string; reason: string }>>;
  /**
   * `paused` runs whose earliest deadline has come: `wakeAt` <= `now` (epoch
   * ms), soonest first, at most `limit`. A run's wakeAt is derived by the
   * store whenever its checkpoint is written: the sooner of
   * `pendingDeadline` and `approvalDeadline` (rounded up to the
   * millisecond), none when both are null.
   */
  duePausedRuns(now: number, limit: number): Promise<Array<{ runId: string; workspaceId: string; wakeAt: number }>>;

  /**
   * Sums of the usage of a workspace's runs created in [from, to) (ISO 8601
   * UTC, as `toISOString()` writes them), whatever their status (a live
   * run's usage so far). Without `groupBy`, one row (key null; zeros when
   * no run matches); with it, one row per distinct key present, by key in
   * byte order, null last. One aggregate statement over the window's range
   * of the (workspace_id, created_at) index: its cost grows with the runs
   * in the window, not with the workspace's or the store's.
   */
  sumUsage(workspaceId: string, window: { from: string; to: string }, groupBy?: UsageGroupBy): Promise<UsageSums[]>;

  // --- events + state ------------------------------------------------------
  commit(batch: CommitBatch): Promise<CommitResult | void>;

  // --- leases (issue #4) -----------------------------------------------------
  /**
   * Takes the lease of a run that is `queued` or `running` and has no owner,
   * or whose lease has lapsed, or that this worker already holds: sets the
   * owner, increments the epoch, sets expiresAt = now + leaseMs (the store's
   * clock), and returns the lease with the run as it is now. Undefined when
   * another worker holds a live lease or the run is paused or ended.
   *
   * With `paused: true`, a `paused` run can be claimed too, under the same
   * rules (unowned, lapsed, or already held by this worker; the epoch
   * increments): for a worker that resumes or cancels a paused run. Ended
   * runs are never claimable.
   */
  claimRun(
    runId: string,
    workerId: string,
    leaseMs: number,
    options?: { paused?: boolean },
  ): Promise<{ lease: Lease; record: RunRecord } | undefined>;
  /** Extends the leases this worker still holds (same epoch); returns the runIds it holds no longer. */
  renewLeases(workerId: string, leases: Array<{ runId: string; epoch: number }>, leaseMs: number): Promise<string[]>;
  /** Gives a lease up (the run paused, ended or is handed over); false if it had moved on already. */
  releaseRun(runId: string, workerId: string, epoch: number): Promise<boolean>;
  /** Runs `queued` or `running` whose lease has lapsed, or that have no owner and were created more than `unownedForMs` ago; oldest first. */
  orphanedRuns(limit: number, unownedForMs: number): Promise<Array<{ runId: string; workspaceId: string }>>;
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;

  // --- traces (issue #11) ----------------------------------------------------
  /** The spans of a run's trace, by start time then span id; the caller has checked the run's workspace. */
  readSpans(runId: string): Promise<SpanRecord[]>;
  /** Deletes a run's spans; returns how many. */
  deleteSpans(runId: string): Promise<number>;
  /**
   * Deletes a run of this workspace that has ended (`completed`, `failed`,
   * `cancelled`), with its events and spans; returns whether it did (false:
   * no such run, or it is not ended). The tokens of a run a key made stay
   * counted for the key's day (keyTokensOfDay), in the same transaction.
   */
  deleteEndedRun(workspaceId: string, runId: string): Promise<boolean>;

  // --- retention (issue #11) --------------------------------------------------
  getWorkspaceSettings(workspaceId: string): Promise<WorkspaceSettingsRecord | undefined>;
  /** Writes a workspace's settings (one upsert). */
  putWorkspaceSettings(settings: WorkspaceSettingsRecord): Promise<void>;
  /** Removes a workspace's own settings; false when it had none. */
  deleteWorkspaceSettings(workspaceId: string): Promise<boolean>;
  /** Every workspace with its own settings, if any, by id (the retention sweep; a few rows per tenant). */
  listWorkspaceSettings(): Promise<Array<{ workspace: WorkspaceRecord; settings: WorkspaceSettingsRecord | undefined }>>;
  /**
   * Deletes one bounded batch of this workspace's ended runs (`completed`,
   * `failed`, `cancelled`) that ended before `endedBefore` (ISO 8601; a run
   * without `endedAt` counts from `createdAt`), with their events and spans
   * (cascade). Returns the ids deleted, and whether more may be left (the
   * batch was full). Live runs are never deleted.
   */
  deleteExpiredRuns(workspaceId: string, endedBefore: string, batch: RetentionBatch): Promise<{ deleted: string[]; more: boolean }>;
  /**
   * Takes the store-wide lock of a housekeeping task (`retention`), so that of
   * all the processes on this store only one runs it at a time; undefined
   * when another holds it. Held until the returned release is called (or the
   * process dies). PostgreSQL: a transaction-scoped advisory lock.
   */
  lockTask(task: string): Promise<(() => Promise<void>) | undefined>;

  // --- idempotency keys ------------------------------------------------------
  /**
   * Looks a key up and, when it is absent, expired (`ttlMs` after it was
   * begun) or pending for `lockMs` or longer, makes it pending for this
   * attempt (`new`); atomically, so of concurrent attempts on one key exactly
   * one gets `new`. Otherwise: `mismatch` if the key's fingerprint differs,
   * else `done` with the stored reply, or `pending`. Uses the store's clock
   * (the database server's, for PostgreSQL).
   */
  beginIdempotent(request: IdempotencyBegin): Promise<IdempotencyState>;
  /** Stores the reply (`body` as JSON) of a key this attempt still holds pending; false if it holds it no longer (taken over). */
  finishIdempotent(hold: IdempotencyHold, reply: { status: number; body: unknown }): Promise<boolean>;
  /** Forgets a key this attempt still holds pending (its request failed), so a retry can run; false if it holds it no longer. */
  abandonIdempotent(hold: IdempotencyHold): Promise<boolean>;
  /** Deletes up to `limit` expired keys; returns how many. */
  purgeIdempotency(limit: number): Promise<number>;

  // --- agents registry (issue #11) ---------------------------------------
  /** Inserts an agent with its revision 1, in one transaction; `conflict` when the id is taken (deleted ids too). */
  createAgent(agent: AgentRecord, definition: Record<string, unknown>): Promise<void>;
  /** A live (not deleted) agent. */
  getAgent(workspaceId: string, agentId: string): Promise<AgentRecord | undefined>;
  /** Live agents, newest first (`createdAt` desc, then `id` desc), at most `limit`, strictly after `after`. */
  listAgents(workspaceId: string, page: { limit: number; after?: { createdAt: string; id: string } }): Promise<AgentListing[]>;
  /**
   * Adds the next revision: bumps `latestRevision` and inserts the
   * revision in one transaction (the UPDATE serialises racing writers, so
   * numbers have no gap and no duplicate). `not_found` for a missing or deleted agent.
   */
  addAgentRevision(workspaceId: string, agentId: string, definition: Record<string, unknown>, now: string): Promise<AgentRevisionRecord>;
  getAgentRevision(workspaceId: string, agentId: string, revision: number): Promise<AgentRevisionRecord | undefined>;
  /** An agent's revisions, newest first, at most `limit`, with numbers below `before`. */
  listAgentRevisions(workspaceId: string, agentId: string, page: { limit: number; before?: number }): Promise<AgentRevisionRecord[]>;
  /** Soft-deletes an agent and drops the tags naming it, together; false when there was no live agent. */
  deleteAgent(workspaceId: string, agentId: string, now: string): Promise<boolean>;
  /** Points a tag at a revision (one upsert: a reader sees the old target or the new one); `not_found` for a missing agent or revision. */
  putAgentTag(tag: AgentTagRecord): Promise<AgentTagRecord>;
  getAgentTag(workspaceId: string, tag: string): Promise<AgentTagRecord | undefined>;
  /** A workspace's tags by name; with `agentId`, only those naming that agent. */
  listAgentTags(workspaceId: string, agentId?: string): Promise<AgentTagRecord[]>;
  deleteAgentTag(workspaceId: string, tag: string): Promise<boolean>;
  /** The revision a reference names, with its definition, in one read; undefined when the tag, agent (or deleted agent) or revision is missing. */
  resolveAgent(workspaceId: string, reference: AgentReference): Promise<ResolvedAgent | undefined>;

  // --- sessions ------------------------------------------------------------
  insertSession(session: SessionRecord): Promise<void>;
  getSession(workspaceId: string, sessionId: string): Promise<SessionRecord | undefined>;
  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
}
