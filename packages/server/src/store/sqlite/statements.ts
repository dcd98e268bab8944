import type Database from "better-sqlite3";
import type { ApiKeyRecord, StoredEvent, WorkspaceRecord } from "../types.js";
import { API_KEYS, RUNS, SESSIONS, WORKSPACES, type ApiKeyRow } from "../schema/tables.js";

type ApiKeyListRow = ApiKeyRecord & { workspaceSlug: string };
/** Rows as selected: records with their JSON columns still text (`Table.fromRow` parses them). */
type Row = object;
const placeholders = (count: number): string => Array.from({ length: count }, () => "?").join(", ");

/**
 * The part of a prepared statement the store uses. Declared here because
 * better-sqlite3's own Statement type cannot be named in emitted .d.ts files.
 */
export interface Prepared<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Every fixed statement, prepared once at open: preparing is far costlier than running. */
export function prepareStatements(db: Database.Database) {
  const prepare = <P extends unknown[], R = unknown>(sql: string): Prepared<P, R> => db.prepare<P, R>(sql);
  return {
    insertWorkspace: prepare<[id: string, slug: string, createdAt: string]>(
      "INSERT OR IGNORE INTO workspaces (id, slug, created_at) VALUES (?, ?, ?)",
    ),
    workspaceBySlug: prepare<[slug: string], WorkspaceRecord>(`SELECT ${WORKSPACES.select} FROM workspaces WHERE slug = ?`),

    insertApiKey: prepare<
      [id: string, workspaceId: string, name: string, displayPrefix: string, hash: string, createdAt: string, revokedAt: string | null]
    >("INSERT INTO api_keys (id, workspace_id, name, display_prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    activeApiKeyByHash: prepare<[hash: string], ApiKeyRow>(
      `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug", w.created_at AS "workspaceCreatedAt"
       FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
       WHERE k.hash = ? AND k.revoked_at IS NULL`,
    ),
    countApiKeys: db.prepare<[], number>("SELECT count(*) FROM api_keys").pluck() as Prepared<[], number>,
    // A handful of rows per workspace, read by operators: no index needed.
    allApiKeys: prepare<[], ApiKeyListRow>(
      `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug" FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
       ORDER BY k.created_at DESC, k.id DESC`,
    ),
    workspaceApiKeys: prepare<[workspaceId: string], ApiKeyListRow>(
      `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug" FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
       WHERE k.workspace_id = ? ORDER BY k.created_at DESC, k.id DESC`,
    ),
    // coalesce: the first revocation's instant stays, so revoking is idempotent.
    revokeApiKey: prepare<[revokedAt: string, id: string], ApiKeyRecord>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING ${API_KEYS.select}`,
    ),

    insertRun: prepare<unknown[]>(`INSERT INTO runs (${RUNS.insertColumns}) VALUES (${placeholders(RUNS.insertCount)})`),
    runById: prepare<[workspaceId: string, runId: string], Row>(`SELECT ${RUNS.select} FROM runs WHERE workspace_id = ? AND id = ?`),
    // INDEXED BY: (workspace_id, status) is the prefix of runs_workspace_status_created
    // (migration 2), which then covers the query: three short index ranges,
    // however many ended runs the workspace has. Preparing fails if the index goes.
    countActiveRuns: prepare<[workspaceId: string], { status: string; count: number }>(
      `SELECT status, count(*) AS count FROM runs INDEXED BY runs_workspace_status_created
       WHERE workspace_id = ? AND status IN ('queued', 'running', 'paused') GROUP BY status`,
    ),
    // One statement for any number of statuses: the list is bound as a JSON
    // array. rowid breaks ties between runs created in the same millisecond.
    runsByStatus: prepare<[statusesJson: string], Row>(
      `SELECT ${RUNS.select} FROM runs WHERE status IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid`,
    ),
    // No lease, no fence: one UPDATE, atomic on its own.
    requestCancel: prepare<[reason: string, runId: string]>(
      "UPDATE runs SET cancel_requested = ? WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')",
    ),
    // Any number of ids in one statement, bound as a JSON array (no chunking,
    // no limit on bound parameters); each is a primary-key lookup.
    cancelRequests: prepare<[runIdsJson: string], { runId: string; reason: string }>(
      `SELECT id AS runId, cancel_requested AS reason FROM runs
       WHERE id IN (SELECT value FROM json_each(?)) AND cancel_requested IS NOT NULL ORDER BY id`,
    ),
    // Walks runs_paused_wake (migration 6), whose condition the WHERE repeats
    // word for word (how SQLite matches a partial index), and stops at `limit`.
    duePausedRuns: prepare<[now: number, limit: number], { runId: string; workspaceId: string; wakeAt: number }>(
      `SELECT id AS runId, workspace_id AS workspaceId, wake_at AS wakeAt FROM runs INDEXED BY runs_paused_wake
       WHERE status = 'paused' AND wake_at <= ? ORDER BY wake_at, rowid LIMIT ?`,
    ),

    insertEvent: prepare<[runId: string, seq: number, type: string, data: string]>(
      "INSERT INTO run_events (run_id, seq, type, data) VALUES (?, ?, ?, ?)",
    ),
    readEvents: prepare<[runId: string, afterSeq: number, limit: number], StoredEvent>(
      "SELECT run_id AS runId, seq, type, data FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    ),

    insertSession: prepare<unknown[]>(`INSERT INTO sessions (${SESSIONS.insertColumns}) VALUES (${placeholders(SESSIONS.insertCount)})`),
    sessionById: prepare<[workspaceId: string, sessionId: string], Row>(
      `SELECT ${SESSIONS.select} FROM sessions WHERE workspace_id = ? AND id = ?`,
    ),
    sessionClaimState: prepare<[workspaceId: string, sessionId: string], { status: string; activeRunId: string | null }>(
      "SELECT status, active_run_id AS activeRunId FROM sessions WHERE workspace_id = ? AND id = ?",
    ),
    claimSession: prepare<[runId: string, sessionId: string]>("UPDATE sessions SET active_run_id = ? WHERE id = ?"),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
