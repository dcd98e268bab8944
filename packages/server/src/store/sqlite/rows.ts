import { wakeAt } from "../patch-columns.js";
import type { ApiKeyRecord, RunRecord, SessionRecord, WorkspaceRecord } from "../types.js";

/*
 * Rows are selected with camelCase aliases, so mapping a row to a record is
 * only parsing its JSON columns: field names are spelled once, here.
 */

export const WORKSPACE_COLUMNS = "id, slug, created_at AS createdAt";

const API_KEY_FIELDS = [
  "id",
  "workspace_id AS workspaceId",
  "name",
  "display_prefix AS displayPrefix",
  "hash",
  "created_at AS createdAt",
  "revoked_at AS revokedAt",
];
/** Qualified by the alias `k` (the key queries join workspaces). */
export const API_KEY_COLUMNS = API_KEY_FIELDS.map((field) => `k.${field}`).join(", ");
/** Unqualified: SQLite's RETURNING takes no table alias. */
export const API_KEY_RETURNING = API_KEY_FIELDS.join(", ");

export const RUN_COLUMNS =
  "id, workspace_id AS workspaceId, session_id AS sessionId, agent_id AS agentId, model_id AS modelId, " +
  "status, agent_spec AS agentSpec, metadata, checkpoint, text, subtype, error, usage, last_seq AS lastSeq, " +
  "created_at AS createdAt, started_at AS startedAt, ended_at AS endedAt, cancel_requested AS cancelRequested";

export const SESSION_COLUMNS =
  "id, workspace_id AS workspaceId, name, status, agent_spec AS agentSpec, metadata, messages, " +
  "active_run_id AS activeRunId, created_at AS createdAt, last_used_at AS lastUsedAt, ended_at AS endedAt";

/**
 * A run's `text` and `error` (model output, error messages) with NUL
 * replaced by U+FFFD. PostgreSQL text cannot hold NUL; this store does the
 * same, so a run reads back alike from either store (store contract).
 */
export function withoutNul<T extends string | null | undefined>(value: T): T {
  return (typeof value === "string" && value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value) as T;
}

type Json<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

export type RunRow = Json<RunRecord, "agentSpec" | "metadata" | "checkpoint" | "usage">;
/** What an INSERT writes: a new run has no cancel request (the column starts NULL); wake_at is derived from the checkpoint. */
export type RunInsertRow = Omit<RunRow, "cancelRequested"> & { wakeAt: number | null };
export type SessionRow = Json<SessionRecord, "agentSpec" | "metadata" | "messages">;
export type ApiKeyRow = ApiKeyRecord & { workspaceSlug: string; workspaceCreatedAt: string };
export type ApiKeyListRow = ApiKeyRecord & { workspaceSlug: string };

export function runFromRow(row: RunRow): RunRecord {
  return {
    ...row,
    agentSpec: JSON.parse(row.agentSpec),
    metadata: JSON.parse(row.metadata),
    checkpoint: JSON.parse(row.checkpoint),
    usage: JSON.parse(row.usage),
  };
}

/**
 * Named parameters for the INSERT; built field by field so extra properties
 * never reach SQL (`cancelRequested` included: a new run has none).
 */
export function runToRow(run: RunRecord): RunInsertRow {
  return {
    id: run.id,
    workspaceId: run.workspaceId,
    sessionId: run.sessionId,
    agentId: run.agentId,
    modelId: run.modelId,
    status: run.status,
    agentSpec: JSON.stringify(run.agentSpec),
    metadata: JSON.stringify(run.metadata),
    checkpoint: JSON.stringify(run.checkpoint),
    wakeAt: wakeAt(run.checkpoint),
    text: withoutNul(run.text),
    subtype: run.subtype,
    error: withoutNul(run.error),
    usage: JSON.stringify(run.usage),
    lastSeq: run.lastSeq,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    ...row,
    agentSpec: JSON.parse(row.agentSpec),
    metadata: JSON.parse(row.metadata),
    messages: JSON.parse(row.messages),
  };
}

export function sessionToRow(session: SessionRecord): SessionRow {
  return {
    id: session.id,
    workspaceId: session.workspaceId,
    name: session.name,
    status: session.status,
    agentSpec: JSON.stringify(session.agentSpec),
    metadata: JSON.stringify(session.metadata),
    messages: JSON.stringify(session.messages),
    activeRunId: session.activeRunId,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    endedAt: session.endedAt,
  };
}

export function apiKeyFromRow(row: ApiKeyRow): { key: ApiKeyRecord; workspace: WorkspaceRecord } {
  const { workspaceSlug, workspaceCreatedAt, ...key } = row;
  return { key, workspace: { id: key.workspaceId, slug: workspaceSlug, createdAt: workspaceCreatedAt } };
}
