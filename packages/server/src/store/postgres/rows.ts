import { wakeAt } from "../patch-columns.js";
import type { ApiKeyRecord, RunRecord, SessionRecord, WorkspaceRecord } from "../types.js";

/*
 * Rows are selected with quoted camelCase aliases (unquoted ones would be
 * folded to lower case), so mapping a row to a record is only parsing its
 * JSON columns: field names are spelled once, here.
 */

export const WORKSPACE_COLUMNS = `id, slug, created_at AS "createdAt"`;

export const API_KEY_COLUMNS =
  `k.id, k.workspace_id AS "workspaceId", k.name, k.display_prefix AS "displayPrefix", k.hash, ` +
  `k.created_at AS "createdAt", k.revoked_at AS "revokedAt"`;

export const RUN_COLUMNS =
  `id, workspace_id AS "workspaceId", session_id AS "sessionId", agent_id AS "agentId", model_id AS "modelId", ` +
  `status, agent_spec AS "agentSpec", metadata, checkpoint, text, subtype, error, usage, last_seq AS "lastSeq", ` +
  `created_at AS "createdAt", started_at AS "startedAt", ended_at AS "endedAt", cancel_requested AS "cancelRequested"`;

export const SESSION_COLUMNS =
  `id, workspace_id AS "workspaceId", name, status, agent_spec AS "agentSpec", metadata, messages, ` +
  `active_run_id AS "activeRunId", created_at AS "createdAt", last_used_at AS "lastUsedAt", ended_at AS "endedAt"`;

/**
 * Insert column lists, in the order of the `...Values` functions below (a new
 * run has no cancel request: cancel_requested starts NULL; wake_at is
 * derived from the checkpoint).
 */
export const RUN_INSERT_COLUMNS =
  "id, workspace_id, session_id, agent_id, model_id, status, agent_spec, metadata, checkpoint, wake_at, text, subtype, error, usage, last_seq, created_at, started_at, ended_at";
export const SESSION_INSERT_COLUMNS =
  "id, workspace_id, name, status, agent_spec, metadata, messages, active_run_id, created_at, last_used_at, ended_at";

/** `$1, $2, ... $n` */
export const placeholders = (count: number): string => Array.from({ length: count }, (_, index) => `$${index + 1}`).join(", ");

/**
 * A run's `text` and `error` (model output, error messages) with NUL
 * replaced by U+FFFD: a PostgreSQL text value cannot hold NUL (the write
 * would fail with 22021). The SQLite store does the same, so a run reads
 * back alike from either store. JSON columns need nothing: JSON.stringify
 * writes NUL as the escape \u0000.
 */
export function withoutNul<T extends string | null | undefined>(value: T): T {
  return (typeof value === "string" && value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value) as T;
}

type Json<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

export type RunRow = Json<RunRecord, "agentSpec" | "metadata" | "checkpoint" | "usage">;
export type SessionRow = Json<SessionRecord, "agentSpec" | "metadata" | "messages">;
export type ApiKeyRow = ApiKeyRecord & { workspaceSlug: string; workspaceCreatedAt: string };

export function runFromRow(row: RunRow): RunRecord {
  return {
    ...row,
    agentSpec: JSON.parse(row.agentSpec),
    metadata: JSON.parse(row.metadata),
    checkpoint: JSON.parse(row.checkpoint),
    usage: JSON.parse(row.usage),
  };
}

/** Positional parameters for the INSERT; built field by field so extra properties never reach SQL. */
export function runValues(run: RunRecord): unknown[] {
  return [
    run.id,
    run.workspaceId,
    run.sessionId,
    run.agentId,
    run.modelId,
    run.status,
    JSON.stringify(run.agentSpec),
    JSON.stringify(run.metadata),
    JSON.stringify(run.checkpoint),
    wakeAt(run.checkpoint),
    withoutNul(run.text),
    run.subtype,
    withoutNul(run.error),
    JSON.stringify(run.usage),
    run.lastSeq,
    run.createdAt,
    run.startedAt,
    run.endedAt,
  ];
}

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    ...row,
    agentSpec: JSON.parse(row.agentSpec),
    metadata: JSON.parse(row.metadata),
    messages: JSON.parse(row.messages),
  };
}

export function sessionValues(session: SessionRecord): unknown[] {
  return [
    session.id,
    session.workspaceId,
    session.name,
    session.status,
    JSON.stringify(session.agentSpec),
    JSON.stringify(session.metadata),
    JSON.stringify(session.messages),
    session.activeRunId,
    session.createdAt,
    session.lastUsedAt,
    session.endedAt,
  ];
}

export function apiKeyFromRow(row: ApiKeyRow): { key: ApiKeyRecord; workspace: WorkspaceRecord } {
  const { workspaceSlug, workspaceCreatedAt, ...key } = row;
  return { key, workspace: { id: key.workspaceId, slug: workspaceSlug, createdAt: workspaceCreatedAt } };
}
