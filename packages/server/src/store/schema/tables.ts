import type { Usage } from "@agentd/protocol";
import type {
  AgentRecord,
  AgentRevisionRecord,
  AgentTagRecord,
  ApiKeyRecord,
  RunCheckpoint,
  RunPatch,
  RunRecord,
  SessionPatch,
  SessionRecord,
  SpanRecord,
  WorkspaceRecord,
  WorkspaceSettingsRecord,
} from "../types.js";
import { freeText, json, plain, table } from "./columns.js";
import { Patcher } from "./patcher.js";

/*
 * agentd's tables, once for both dialects (each dialect's migrations create
 * them). A field added to a record type fails to compile until it has a
 * column here.
 */

/**
 * `runs.wake_at`: when a paused run's earliest deadline falls, epoch ms
 * rounded up; null when the checkpoint has none. Store.duePausedRuns reads it.
 */
export function wakeAt(checkpoint: RunCheckpoint): number | null {
  const deadlines = [checkpoint.pendingDeadline, checkpoint.approvalDeadline].filter(
    (deadline): deadline is number => typeof deadline === "number" && Number.isFinite(deadline),
  );
  return deadlines.length === 0 ? null : Math.ceil(Math.min(...deadlines));
}

/** A count for an integer column: rounded, and 0 when absent (a fraction would fail the run's write: SQLite STRICT, PostgreSQL bigint). */
const count = (value: number | undefined): number => (typeof value === "number" && Number.isFinite(value) ? Math.round(value) : 0);

/**
 * `runs.usage_cost_nanos`: the run's cost in nano-dollars (costUsd is
 * rounded to one, so integers sum exactly); null when it is unknown, i.e.
 * costUsd is null while the run used tokens (a run that used none cost
 * nothing, whatever its model's price, as a queued run or one that failed
 * before its first answer).
 */
export function costNanos(usage: Usage): number | null {
  if (typeof usage.costUsd === "number" && Number.isFinite(usage.costUsd)) return Math.round(usage.costUsd * 1e9);
  return count(usage.inputTokens) + count(usage.outputTokens) === 0 ? 0 : null;
}

/**
 * The run's usage in plain integer columns beside its JSON (issue #11,
 * `GET /usage`), derived by the store with every write of `usage` (the same
 * INSERT or UPDATE, so no caller can forget them and no write is added):
 * the usage report sums them in SQL without parsing any JSON. Counts absent
 * from an older usage (modelCalls, toolCalls, cachedInputTokens) are 0.
 */
const USAGE_COLUMNS = [
  { name: "usage_input_tokens", value: (usage: Usage) => count(usage.inputTokens) },
  { name: "usage_output_tokens", value: (usage: Usage) => count(usage.outputTokens) },
  { name: "usage_cached_input_tokens", value: (usage: Usage) => count(usage.cachedInputTokens) },
  { name: "usage_model_calls", value: (usage: Usage) => count(usage.modelCalls) },
  { name: "usage_tool_calls", value: (usage: Usage) => count(usage.toolCalls) },
  { name: "usage_cost_nanos", value: costNanos },
];

export const WORKSPACES = table<WorkspaceRecord>("workspaces", {
  id: plain("id"),
  slug: plain("slug"),
  createdAt: plain("created_at"),
});

export const API_KEYS = table<ApiKeyRecord>("api_keys", {
  id: plain("id"),
  workspaceId: plain("workspace_id"),
  name: plain("name"),
  displayPrefix: plain("display_prefix"),
  hash: plain("hash"),
  scopes: json("scopes"),
  agents: json("agents"),
  expiresAt: plain("expires_at"),
  limits: json("limits"),
  createdAt: plain("created_at"),
  lastUsedAt: plain("last_used_at"),
  revokedAt: plain("revoked_at"),
});

export const RUNS = table<RunRecord>("runs", {
  id: plain("id"),
  workspaceId: plain("workspace_id"),
  sessionId: plain("session_id"),
  agentId: plain("agent_id"),
  agentRevision: plain("agent_revision"),
  agentTag: plain("agent_tag"),
  // Set at creation from the request's API key; never patched.
  keyId: plain("key_id"),
  modelId: plain("model_id"),
  status: plain("status"),
  agentSpec: json("agent_spec"),
  metadata: json("metadata"),
  checkpoint: json("checkpoint", { derived: [{ name: "wake_at", value: wakeAt }] }),
  text: freeText("text"),
  subtype: plain("subtype"),
  error: freeText("error"),
  usage: json("usage", { derived: USAGE_COLUMNS }),
  lastSeq: plain("last_seq"),
  createdAt: plain("created_at"),
  startedAt: plain("started_at"),
  endedAt: plain("ended_at"),
  // Set only by Store.requestCancel; an inserted run has none.
  cancelRequested: freeText("cancel_requested", { insert: false }),
});

export const SESSIONS = table<SessionRecord>("sessions", {
  id: plain("id"),
  workspaceId: plain("workspace_id"),
  name: plain("name"),
  status: plain("status"),
  agentSpec: json("agent_spec"),
  agentRevision: plain("agent_revision"),
  agentTag: plain("agent_tag"),
  metadata: json("metadata"),
  messages: json("messages"),
  activeRunId: plain("active_run_id"),
  createdAt: plain("created_at"),
  lastUsedAt: plain("last_used_at"),
  endedAt: plain("ended_at"),
});

/* The agents registry (issue #11). */
export const AGENTS = table<AgentRecord>("agents", {
  workspaceId: plain("workspace_id"),
  id: plain("id"),
  name: freeText("name"),
  description: freeText("description"),
  latestRevision: plain("latest_revision"),
  createdAt: plain("created_at"),
  updatedAt: plain("updated_at"),
  deletedAt: plain("deleted_at"),
});

export const AGENT_REVISIONS = table<AgentRevisionRecord>("agent_revisions", {
  workspaceId: plain("workspace_id"),
  agentId: plain("agent_id"),
  revision: plain("revision"),
  definition: json("definition"),
  createdAt: plain("created_at"),
});

export const AGENT_TAGS = table<AgentTagRecord>("agent_tags", {
  workspaceId: plain("workspace_id"),
  tag: plain("tag"),
  agentId: plain("agent_id"),
  revision: plain("revision"),
  updatedAt: plain("updated_at"),
});

/*
 * The allow-lists of patchable fields. Column names in generated SQL come
 * only from the tables above, never from the patch object, so a stray key
 * cannot inject SQL.
 */
export const RUN_PATCH = new Patcher<RunPatch>(RUNS, {
  status: true,
  checkpoint: true,
  text: true,
  subtype: true,
  error: true,
  usage: true,
  lastSeq: true,
  startedAt: true,
  endedAt: true,
  modelId: true,
});

export const SESSION_PATCH = new Patcher<SessionPatch>(SESSIONS, {
  status: true,
  agentSpec: true,
  messages: true,
  activeRunId: true,
  lastUsedAt: true,
  endedAt: true,
});

/** A key found by hash, joined with its workspace (Store.findApiKeyByHash). */
export type ApiKeyRow = ApiKeyRecord & { workspaceSlug: string; workspaceCreatedAt: string };

export function apiKeyFromRow(row: ApiKeyRow): { key: ApiKeyRecord; workspace: WorkspaceRecord } {
  const { workspaceSlug, workspaceCreatedAt, ...key } = row;
  return { key: API_KEYS.fromRow(key), workspace: { id: key.workspaceId, slug: workspaceSlug, createdAt: workspaceCreatedAt } };
}

/** A run's trace spans (issue #11): written by each dialect's group commit, read whole by run. */
export const RUN_SPANS = table<SpanRecord>("run_spans", {
  runId: plain("run_id"),
  spanId: plain("span_id"),
  parentSpanId: plain("parent_span_id"),
  name: plain("name"),
  kind: plain("kind"),
  attempt: plain("attempt"),
  startedAt: plain("started_at"),
  endedAt: plain("ended_at"),
  status: plain("status"),
  error: freeText("error"),
  attributes: json("attributes"),
});

/** A workspace's own settings (issue #11): one row per workspace that has any; `retention_days` NULL keeps its runs forever. */
export const WORKSPACE_SETTINGS = table<WorkspaceSettingsRecord>("workspace_settings", {
  workspaceId: plain("workspace_id"),
  retentionDays: plain("retention_days"),
  updatedAt: plain("updated_at"),
});
