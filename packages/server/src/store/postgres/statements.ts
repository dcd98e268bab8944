import type { RunRecord, SessionRecord, StoredEvent } from "../types.js";
import type { Statement } from "./connection.js";
import { fenceArrays, type Fence } from "./leases.js";
import { API_KEYS, RUNS, SESSIONS, WORKSPACES } from "../schema/tables.js";

/** `$1, $2, ... $n` */
const placeholders = (count: number): string => Array.from({ length: count }, (_, index) => `$${index + 1}`).join(", ");

/**
 * Every fixed statement, as named prepared statements: each connection
 * parses and plans one once, then only binds values. `s` is the quoted
 * schema name; table names are qualified with it rather than relying on
 * `search_path`, which poolers such as PgBouncer may not carry.
 */
export function statements(s: string) {
  const named =
    (name: string, text: string) =>
    (values: unknown[]): Statement => ({ name: `agentd_${name}`, text, values });
  const insertRun = named("insert_run", `INSERT INTO ${s}.runs (${RUNS.insertColumns}) VALUES (${placeholders(RUNS.insertCount)})`);
  const insertSession = named(
    "insert_session",
    `INSERT INTO ${s}.sessions (${SESSIONS.insertColumns}) VALUES (${placeholders(SESSIONS.insertCount)})`,
  );
  // The whole batch is one INSERT: four arrays unnested side by side into rows.
  const insertEvents = named(
    "insert_events",
    `INSERT INTO ${s}.run_events (run_id, seq, type, data) SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[])`,
  );
  // With fences (issue #4): an event of a fenced run is kept only if the run's
  // lease is still the one named (leases.ts `hold` explains why this
  // re-check agrees with it); events of other runs go in unconditionally.
  const insertFencedEvents = named(
    "insert_fenced_events",
    `INSERT INTO ${s}.run_events (run_id, seq, type, data)
     SELECT e.run_id, e.seq, e.type, e.data FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[]) AS e(run_id, seq, type, data)
     WHERE e.run_id <> ALL($5::text[]) OR EXISTS (
       SELECT 1 FROM ${s}.runs r JOIN unnest($5::text[], $6::text[], $7::integer[]) AS f(run_id, worker_id, epoch) ON r.id = f.run_id
       WHERE r.id = e.run_id AND r.owner_id = f.worker_id AND r.lease_epoch = f.epoch)`,
  );
  return {
    insertWorkspace: named(
      "insert_workspace",
      `INSERT INTO ${s}.workspaces (id, slug, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING`,
    ),
    workspaceBySlug: named("workspace_by_slug", `SELECT ${WORKSPACES.select} FROM ${s}.workspaces WHERE slug = $1`),

    insertApiKey: named(
      "insert_api_key",
      `INSERT INTO ${s}.api_keys (id, workspace_id, name, display_prefix, hash, created_at, revoked_at) VALUES (${placeholders(7)})`,
    ),
    activeApiKeyByHash: named(
      "api_key_by_hash",
      `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug", w.created_at AS "workspaceCreatedAt"
       FROM ${s}.api_keys k JOIN ${s}.workspaces w ON w.id = k.workspace_id
       WHERE k.hash = $1 AND k.revoked_at IS NULL`,
    ),
    countApiKeys: named("count_api_keys", `SELECT count(*)::integer AS count FROM ${s}.api_keys`),
    // A handful of rows per workspace, read by operators: no index needed.
    // created_at has the database's default collation: COLLATE "C" orders
    // the ISO strings byte by byte, as SQLite does.
    allApiKeys: named(
      "all_api_keys",
      `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug" FROM ${s}.api_keys k JOIN ${s}.workspaces w ON w.id = k.workspace_id
       ORDER BY k.created_at COLLATE "C" DESC, k.id DESC`,
    ),
    workspaceApiKeys: named(
      "workspace_api_keys",
      `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug" FROM ${s}.api_keys k JOIN ${s}.workspaces w ON w.id = k.workspace_id
       WHERE k.workspace_id = $1 ORDER BY k.created_at COLLATE "C" DESC, k.id DESC`,
    ),
    // coalesce: the first revocation's instant stays, so revoking is idempotent. $1 id, $2 now.
    revokeApiKey: named(
      "revoke_api_key",
      `UPDATE ${s}.api_keys AS k SET revoked_at = coalesce(k.revoked_at, $2) WHERE k.id = $1 RETURNING ${API_KEYS.selectFrom("k")}`,
    ),

    insertRun: (run: RunRecord): Statement => ({
      ...insertRun(RUNS.values(run)),
      violation: { duplicate: `run ${run.id} already exists`, missingParent: `workspace ${run.workspaceId} not found` },
    }),
    runById: named("run_by_id", `SELECT ${RUNS.select} FROM ${s}.runs WHERE workspace_id = $1 AND id = $2`),
    // (workspace_id, status) is the prefix of runs_workspace_status_created
    // (migration 1), which serves the count: three short index ranges,
    // however many ended runs the workspace has.
    countActiveRuns: named(
      "count_active_runs",
      `SELECT status, count(*)::integer AS count FROM ${s}.runs
       WHERE workspace_id = $1 AND status IN ('queued', 'running', 'paused') GROUP BY status`,
    ),
    runsByStatus: named(
      "runs_by_status",
      `SELECT ${RUNS.select} FROM ${s}.runs WHERE status = ANY($1::text[]) ORDER BY created_at, created_order`,
    ),
    // No lease, no fence: one UPDATE, atomic on its own. $1 reason, $2 runId.
    requestCancel: named(
      "request_cancel",
      `UPDATE ${s}.runs SET cancel_requested = $1 WHERE id = $2 AND status NOT IN ('completed', 'failed', 'cancelled') RETURNING 1`,
    ),
    // Any number of ids, bound as one array: a primary-key lookup each.
    cancelRequests: named(
      "cancel_requests",
      `SELECT id AS "runId", cancel_requested AS reason FROM ${s}.runs
       WHERE id = ANY($1::text[]) AND cancel_requested IS NOT NULL ORDER BY id`,
    ),
    // Served by runs_paused_wake (migration 5), whose condition the WHERE repeats. $1 now (whole epoch ms), $2 limit.
    duePausedRuns: named(
      "due_paused_runs",
      `SELECT id AS "runId", workspace_id AS "workspaceId", wake_at AS "wakeAt" FROM ${s}.runs
       WHERE status = 'paused' AND wake_at <= $1::bigint ORDER BY wake_at, created_order LIMIT $2`,
    ),

    insertEvents: (events: StoredEvent[], fences: Fence[] = []): Statement => {
      const runIds = [...new Set(events.map((event) => event.runId))].join(", ");
      const columns = [events.map((e) => e.runId), events.map((e) => e.seq), events.map((e) => e.type), events.map((e) => e.data)];
      return {
        ...(fences.length === 0 ? insertEvents(columns) : insertFencedEvents([...columns, ...fenceArrays(fences)])),
        // Which event broke the rule is only in the error's message text,
        // which is not parsed: the message names the batch's runs.
        violation: {
          duplicate: `an event of this batch is already stored (runs ${runIds})`,
          missingParent: `run not found (one of ${runIds})`,
        },
      };
    },
    readEvents: named(
      "read_events",
      `SELECT run_id AS "runId", seq, type, data FROM ${s}.run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    ),

    insertSession: (session: SessionRecord): Statement => ({
      ...insertSession(SESSIONS.values(session)),
      violation: { duplicate: `session ${session.id} already exists`, missingParent: `workspace ${session.workspaceId} not found` },
    }),
    sessionById: named("session_by_id", `SELECT ${SESSIONS.select} FROM ${s}.sessions WHERE workspace_id = $1 AND id = $2`),
    // FOR UPDATE: concurrent claims of one session queue here, so only one sees it free.
    lockSessionForClaim: named(
      "lock_session_for_claim",
      `SELECT status, active_run_id AS "activeRunId" FROM ${s}.sessions WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
    ),
    claimSession: named("claim_session", `UPDATE ${s}.sessions SET active_run_id = $1 WHERE id = $2`),
  };
}

export type Statements = ReturnType<typeof statements>;
