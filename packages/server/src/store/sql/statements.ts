import {
  AGENT_REVISIONS,
  AGENT_TAGS,
  AGENTS,
  API_KEYS,
  RUN_SPANS,
  RUNS,
  SESSIONS,
  WORKSPACE_SETTINGS,
  WORKSPACES,
} from "../schema/tables.js";
import type { Dialect } from "./dialect.js";

const marks = (count: number): string => Array.from({ length: count }, () => "?").join(", ");

/**
 * The statements of the shared domain operations, each spelled once; a
 * dialect renders them (placeholders, hooks) when its store opens and
 * prepares them: better-sqlite3 statements, PostgreSQL named statements.
 * Rows are selected with quoted camelCase aliases (schema/columns.ts).
 */
export function statements(d: Dialect) {
  const workspaces = d.table("workspaces");
  const apiKeys = d.table("api_keys");
  const runs = d.table("runs");
  const events = d.table("run_events");
  const sessions = d.table("sessions");
  const spans = d.table("run_spans");
  const agents = d.table("agents");
  const revisions = d.table("agent_revisions");
  const tags = d.table("agent_tags");
  const settings = d.table("workspace_settings");
  const keyUsage = d.table("key_usage_days");
  const agentsWithDefinition = `SELECT ${AGENTS.selectFrom("a")}, r.definition FROM ${agents} a
       JOIN ${revisions} r ON r.workspace_id = a.workspace_id AND r.agent_id = a.id AND r.revision = a.latest_revision`;
  // GET /usage (issue #11): sums of the runs created in [from, to), read
  // through the (workspace_id, created_at) range of runs_workspace_created_id
  // (SQLite: forced, so preparing fails if it goes) and the integer usage
  // columns (schema/tables.ts USAGE_COLUMNS): no JSON is parsed. The cost is
  // in nano-dollars; a run whose cost is unknown has none (NULL), so it is
  // left out of the sum and counted apart.
  const usageSums = `CAST(count(*) AS integer) AS runs,
       coalesce(sum(usage_input_tokens), 0) AS "inputTokens", coalesce(sum(usage_output_tokens), 0) AS "outputTokens",
       coalesce(sum(usage_cached_input_tokens), 0) AS "cachedInputTokens", coalesce(sum(usage_model_calls), 0) AS "modelCalls",
       coalesce(sum(usage_tool_calls), 0) AS "toolCalls", coalesce(sum(usage_cost_nanos), 0) AS "costNanos",
       CAST(count(*) - count(usage_cost_nanos) AS integer) AS "costUnknownRuns"`;
  const usageWindow = `FROM ${runs} ${d.indexedBy("runs_workspace_created_id")} WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`;
  const usageBy = (key: string) => `SELECT ${key} AS "key", ${usageSums} ${usageWindow} GROUP BY ${key}`;
  const keysWithSlug = `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug" FROM ${apiKeys} k JOIN ${workspaces} w ON w.id = k.workspace_id`;
  return {
    // ON CONFLICT DO NOTHING + select: idempotent even when two processes race on one slug.
    insertWorkspace: `INSERT INTO ${workspaces} (id, slug, created_at) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
    workspaceBySlug: `SELECT ${WORKSPACES.select} FROM ${workspaces} WHERE slug = ?`,

    insertApiKey: `INSERT INTO ${apiKeys} (${API_KEYS.insertColumns}) VALUES (${marks(API_KEYS.insertCount)})`,
    activeApiKeyByHash: `SELECT ${API_KEYS.selectFrom("k")}, w.slug AS "workspaceSlug", w.created_at AS "workspaceCreatedAt"
       FROM ${apiKeys} k JOIN ${workspaces} w ON w.id = k.workspace_id
       WHERE k.hash = ? AND k.revoked_at IS NULL`,
    countApiKeys: `SELECT CAST(count(*) AS integer) AS count FROM ${apiKeys}`,
    // A handful of rows per workspace, read by operators: no index needed.
    allApiKeys: `${keysWithSlug} ORDER BY k.created_at ${d.bytewise} DESC, k.id DESC`,
    workspaceApiKeys: `${keysWithSlug} WHERE k.workspace_id = ? ORDER BY k.created_at ${d.bytewise} DESC, k.id DESC`,
    // coalesce: the first revocation's instant stays, so revoking is idempotent.
    revokeApiKey: `UPDATE ${apiKeys} SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING ${API_KEYS.select}`,
    apiKeyById: `SELECT ${API_KEYS.select} FROM ${apiKeys} WHERE workspace_id = ? AND id = ?`,
    // A null leaves the field as it is; a revoked key is never changed again.
    updateApiKey: `UPDATE ${apiKeys} SET name = coalesce(?, name), scopes = coalesce(?, scopes), agents = coalesce(?, agents), limits = coalesce(?, limits)
       WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL RETURNING ${API_KEYS.select}`,
    touchApiKey: `UPDATE ${apiKeys} SET last_used_at = ? WHERE id = ?`,

    insertRun: `INSERT INTO ${runs} (${RUNS.insertColumns}) VALUES (${marks(RUNS.insertCount)})`,
    runById: `SELECT ${RUNS.select} FROM ${runs} WHERE workspace_id = ? AND id = ?`,
    // (workspace_id, status) is the prefix of runs_workspace_status_created,
    // which then covers the query: three short index ranges, however many
    // ended runs the workspace has. (SQLite: preparing fails if the index goes.)
    countActiveRuns: `SELECT status, CAST(count(*) AS integer) AS count FROM ${runs} ${d.indexedBy("runs_workspace_status_created")}
       WHERE workspace_id = ? AND status IN ('queued', 'running', 'paused') GROUP BY status`,
    // A key's concurrentRuns (issue #12): its runs among the workspace's
    // queued and running ones, the same short ranges of
    // runs_workspace_status_created (bounded by limits.maxActiveRunsPerWorkspace), no index of its own.
    countKeyActiveRuns: `SELECT CAST(count(*) AS integer) AS count FROM ${runs} ${d.indexedBy("runs_workspace_status_created")}
       WHERE workspace_id = ? AND status IN ('queued', 'running') AND key_id = ?`,
    // A key's tokensPerDay (issue #12): the tokens of its runs created in
    // [from, to) through runs_key_created, plus those of its runs of that
    // day deleted since (key_usage_days).
    keyTokensOfDay: `SELECT coalesce(sum(usage_input_tokens + usage_output_tokens), 0) AS tokens,
       (SELECT tokens FROM ${keyUsage} WHERE key_id = ? AND day = ?) AS deleted
       FROM ${runs} ${d.indexedBy("runs_key_created")} WHERE key_id = ? AND created_at >= ? AND created_at < ?`,
    // Before an ended run of a key is deleted, in the same transaction: its tokens stay counted for its day.
    keepDeletedRunTokens: `INSERT INTO ${keyUsage} (key_id, day, tokens)
       SELECT key_id, substr(created_at, 1, 10), usage_input_tokens + usage_output_tokens FROM ${runs}
       WHERE workspace_id = ? AND id = ? AND key_id IS NOT NULL AND status IN ('completed', 'failed', 'cancelled')
       ON CONFLICT (key_id, day) DO UPDATE SET tokens = ${keyUsage}.tokens + excluded.tokens`,
    // One statement for any number of statuses: the list is one parameter.
    runsByStatus: `SELECT ${RUNS.select} FROM ${runs} WHERE ${d.inList("status")} ORDER BY created_at, ${d.insertionOrder}`,
    // No lease, no fence: one UPDATE, atomic on its own.
    requestCancel: `UPDATE ${runs} SET cancel_requested = ? WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')`,
    // Any number of ids in one statement (no chunking, no limit on bound parameters); each a primary-key lookup.
    cancelRequests: `SELECT id AS "runId", cancel_requested AS reason FROM ${runs}
       WHERE ${d.inList("id")} AND cancel_requested IS NOT NULL ORDER BY id`,
    // Walks runs_paused_wake, whose condition the WHERE repeats word for word
    // (how SQLite matches a partial index), and stops at `limit`.
    duePausedRuns: `SELECT id AS "runId", workspace_id AS "workspaceId", wake_at AS "wakeAt" FROM ${runs} ${d.indexedBy("runs_paused_wake")}
       WHERE status = 'paused' AND wake_at <= ? ORDER BY wake_at, ${d.insertionOrder} LIMIT ?`,

    usageTotals: `SELECT ${usageSums} ${usageWindow}`,
    usageByAgent: usageBy("agent_id"),
    usageByModel: usageBy("model_id"),
    usageByKey: usageBy("key_id"),
    // created_at is ISO 8601 UTC (toISOString): its first ten characters are the UTC day.
    usageByDay: usageBy("substr(created_at, 1, 10)"),

    readEvents: `SELECT run_id AS "runId", seq, type, data FROM ${events} WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`,

    // A run's spans are a few dozen rows under its primary key prefix: read whole, sorted after.
    readSpans: `SELECT ${RUN_SPANS.select} FROM ${spans} WHERE run_id = ? ORDER BY started_at ${d.bytewise}, span_id ${d.bytewise}`,
    deleteSpans: `DELETE FROM ${spans} WHERE run_id = ?`,
    // Only an ended run: the status check is in the DELETE, so a run that starts again meanwhile stays. Events and spans cascade.
    deleteEndedRun: `DELETE FROM ${runs} WHERE workspace_id = ? AND id = ? AND status IN ('completed', 'failed', 'cancelled')`,

    // Retention (issue #11, retention/): a workspace's settings, and the sweep's two statements.
    workspaceSettings: `SELECT ${WORKSPACE_SETTINGS.select} FROM ${settings} WHERE workspace_id = ?`,
    upsertWorkspaceSettings: `INSERT INTO ${settings} (${WORKSPACE_SETTINGS.insertColumns}) VALUES (${marks(WORKSPACE_SETTINGS.insertCount)})
       ON CONFLICT (workspace_id) DO UPDATE SET retention_days = excluded.retention_days, updated_at = excluded.updated_at`,
    deleteWorkspaceSettings: `DELETE FROM ${settings} WHERE workspace_id = ?`,
    workspacesWithSettings: `SELECT ${WORKSPACES.selectFrom("w")}, s.workspace_id AS "settingsOf", s.retention_days AS "retentionDays", s.updated_at AS "updatedAt"
       FROM ${workspaces} w LEFT JOIN ${settings} s ON s.workspace_id = w.id ORDER BY w.id ${d.bytewise}`,
    // A range of runs_workspace_status_created per ended status: every run
    // that ended before the cutoff was created before it, so created_at
    // bounds the range and ended_at is checked on the rows it yields (a run
    // created before the cutoff but ended after it, a long pause, stays).
    // No ORDER BY: any expired runs will do, so the scan stops at the LIMIT
    // instead of reading and sorting the whole backlog every batch.
    expiredRuns: `SELECT id, last_seq AS "lastSeq" FROM ${runs} ${d.indexedBy("runs_workspace_status_created")}
       WHERE workspace_id = ? AND status IN ('completed', 'failed', 'cancelled') AND created_at < ?
         AND coalesce(ended_at, created_at) ${d.bytewise} < ? LIMIT ?`,
    // The status is checked again in the DELETE (ended runs never start again, but nothing live may go). Events and spans cascade.
    deleteEndedRuns: `DELETE FROM ${runs} WHERE workspace_id = ? AND ${d.inList("id")} AND status IN ('completed', 'failed', 'cancelled')
       RETURNING id AS "runId"`,

    insertSession: `INSERT INTO ${sessions} (${SESSIONS.insertColumns}) VALUES (${marks(SESSIONS.insertCount)})`,
    sessionById: `SELECT ${SESSIONS.select} FROM ${sessions} WHERE workspace_id = ? AND id = ?`,
    // Concurrent claims of one session queue here (PostgreSQL: FOR UPDATE), so only one sees it free.
    sessionClaimState: `SELECT status, active_run_id AS "activeRunId" FROM ${sessions} WHERE workspace_id = ? AND id = ? ${d.forUpdate}`,
    claimSession: `UPDATE ${sessions} SET active_run_id = ? WHERE id = ?`,

    // The agents registry (issue #11). A deleted agent keeps its row, so live reads say `deleted_at IS NULL`.
    insertAgent: `INSERT INTO ${agents} (${AGENTS.insertColumns}) VALUES (${marks(AGENTS.insertCount)})`,
    insertAgentRevision: `INSERT INTO ${revisions} (${AGENT_REVISIONS.insertColumns}) VALUES (${marks(AGENT_REVISIONS.insertCount)})`,
    agentById: `SELECT ${AGENTS.select} FROM ${agents} WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL`,
    // Locks the agent row (PostgreSQL) so a tag cannot be pointed at an agent being deleted.
    liveAgentForUpdate: `SELECT id FROM ${agents} WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL ${d.forUpdate}`,
    // Each agent with its latest revision's definition (a primary-key lookup per row): one statement per page.
    listAgents: `${agentsWithDefinition} WHERE a.workspace_id = ? AND a.deleted_at IS NULL
       ORDER BY a.created_at ${d.bytewise} DESC, a.id ${d.bytewise} DESC LIMIT ?`,
    listAgentsAfter: `${agentsWithDefinition} WHERE a.workspace_id = ? AND a.deleted_at IS NULL AND (a.created_at, a.id) < (?, ?)
       ORDER BY a.created_at ${d.bytewise} DESC, a.id ${d.bytewise} DESC LIMIT ?`,
    // The row lock this UPDATE takes queues racing writers; each then reads the
    // number the one before it wrote (PostgreSQL re-evaluates the row), so
    // revision numbers come out 1, 2, 3... with no gap and no duplicate.
    bumpAgentRevision: `UPDATE ${agents} SET latest_revision = latest_revision + 1, updated_at = ?
       WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL RETURNING latest_revision AS "revision"`,
    deleteAgent: `UPDATE ${agents} SET deleted_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL`,
    agentRevision: `SELECT ${AGENT_REVISIONS.select} FROM ${revisions} WHERE workspace_id = ? AND agent_id = ? AND revision = ?`,
    listAgentRevisions: `SELECT ${AGENT_REVISIONS.select} FROM ${revisions} WHERE workspace_id = ? AND agent_id = ? AND revision < ?
       ORDER BY revision DESC LIMIT ?`,
    // One atomic statement: a reader sees the tag's old target or its new one, never neither.
    upsertAgentTag: `INSERT INTO ${tags} (${AGENT_TAGS.insertColumns}) VALUES (${marks(AGENT_TAGS.insertCount)})
       ON CONFLICT (workspace_id, tag) DO UPDATE SET agent_id = excluded.agent_id, revision = excluded.revision, updated_at = excluded.updated_at
       RETURNING ${AGENT_TAGS.select}`,
    agentTag: `SELECT ${AGENT_TAGS.select} FROM ${tags} WHERE workspace_id = ? AND tag = ?`,
    listAgentTags: `SELECT ${AGENT_TAGS.select} FROM ${tags} WHERE workspace_id = ? ORDER BY tag ${d.bytewise}`,
    agentTagsOf: `SELECT ${AGENT_TAGS.select} FROM ${tags} WHERE workspace_id = ? AND agent_id = ? ORDER BY tag ${d.bytewise}`,
    deleteAgentTag: `DELETE FROM ${tags} WHERE workspace_id = ? AND tag = ?`,
    deleteAgentTags: `DELETE FROM ${tags} WHERE workspace_id = ? AND agent_id = ?`,
    // A run's agent in one read: the tag (if any), the live agent, the revision's definition.
    resolveAgentTag: `SELECT t.agent_id AS "agentId", t.revision, r.definition FROM ${tags} t
       JOIN ${agents} a ON a.workspace_id = t.workspace_id AND a.id = t.agent_id AND a.deleted_at IS NULL
       JOIN ${revisions} r ON r.workspace_id = t.workspace_id AND r.agent_id = t.agent_id AND r.revision = t.revision
       WHERE t.workspace_id = ? AND t.tag = ?`,
    resolveAgentLatest: `SELECT a.id AS "agentId", r.revision, r.definition FROM ${agents} a
       JOIN ${revisions} r ON r.workspace_id = a.workspace_id AND r.agent_id = a.id AND r.revision = a.latest_revision
       WHERE a.workspace_id = ? AND a.id = ? AND a.deleted_at IS NULL`,
    resolveAgentRevision: `SELECT a.id AS "agentId", r.revision, r.definition FROM ${agents} a
       JOIN ${revisions} r ON r.workspace_id = a.workspace_id AND r.agent_id = a.id AND r.revision = ?
       WHERE a.workspace_id = ? AND a.id = ? AND a.deleted_at IS NULL`,
  } satisfies Record<string, string>;
}

export type Statements = ReturnType<typeof statements>;
export type StatementId = keyof Statements;
