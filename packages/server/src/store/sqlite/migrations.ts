import { createHash } from "node:crypto";
import type Database from "better-sqlite3";

/**
 * Schema changes, applied in order at open. A migration is never edited
 * once released: add a new one. The applied count is kept in
 * `PRAGMA user_version`, which lives in the database header (no table).
 */
const MIGRATIONS: readonly string[] = [
  // 1: initial schema. STRICT makes SQLite reject a value of the wrong type
  // instead of silently storing it; JSON columns are TEXT (JSON.stringify).
  `
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    display_prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;

  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    session_id TEXT,
    agent_id TEXT,
    model_id TEXT NOT NULL,
    status TEXT NOT NULL,
    agent_spec TEXT NOT NULL,
    metadata TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    text TEXT,
    subtype TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT
  ) STRICT;
  CREATE INDEX runs_status ON runs (status);
  CREATE INDEX runs_workspace_created ON runs (workspace_id, created_at);

  -- WITHOUT ROWID: the log is read and written by (run_id, seq) only, so the
  -- primary key is the table itself (one b-tree, no second index to update).
  CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID, STRICT;

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    agent_spec TEXT NOT NULL,
    metadata TEXT NOT NULL,
    messages TEXT NOT NULL,
    active_run_id TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    ended_at TEXT
  ) STRICT;
  CREATE INDEX sessions_workspace_created ON sessions (workspace_id, created_at);
  `,

  // 2: listing runs (GET /agent-runs), newest first by (created_at, id) with
  // keyset pagination. Each index ends in (created_at, id), so a list with
  // no filter, one agent, one session or one status reads its rows already
  // in order and stops after `limit` of them: no sort, no full scan. The
  // first replaces runs_workspace_created, which is its prefix. Metadata
  // filters are checked on the rows these indexes yield.
  `
  DROP INDEX runs_workspace_created;
  CREATE INDEX runs_workspace_created_id ON runs (workspace_id, created_at, id);
  CREATE INDEX runs_workspace_status_created ON runs (workspace_id, status, created_at, id);
  CREATE INDEX runs_workspace_agent_created ON runs (workspace_id, agent_id, created_at, id) WHERE agent_id IS NOT NULL;
  CREATE INDEX runs_workspace_session_created ON runs (workspace_id, session_id, created_at, id) WHERE session_id IS NOT NULL;
  `,

  // 3: leases (issue #4). A worker holds a run while owner_id is its id and
  // lease_expires_at (epoch ms) is ahead of the clock; every claim increments
  // lease_epoch, the fencing token, which never goes back (release leaves
  // it). The partial index holds only live runs (queued/running), in
  // creation order (rowid breaks ties): orphanedRuns walks it instead of
  // every run ever made, and a run leaves it when it pauses or ends.
  `
  ALTER TABLE runs ADD COLUMN owner_id TEXT;
  ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN lease_expires_at INTEGER;
  CREATE INDEX runs_live_created ON runs (created_at) WHERE status IN ('queued', 'running');
  `,

  // 4: cancel requests. cancel_requested holds the reason a cancel was asked
  // for (Store.requestCancel), NULL when none: set without a lease by one
  // UPDATE, never by an insert or a run patch.
  `
  ALTER TABLE runs ADD COLUMN cancel_requested TEXT;
  `,

  // 5: idempotency keys, shared by every process on the store (Store.beginIdempotent).
  // One row per (workspace, request path, key): 'pending' while an attempt
  // (token) serves the request, 'done' with its reply (status, JSON body).
  // Times are epoch ms: created_at is when the attempt began (a pending row
  // older than the lock time may be taken over), expires_at when the key is
  // forgotten; the index serves purgeIdempotency.
  `
  CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, scope, key)
  ) WITHOUT ROWID, STRICT;
  CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
  `,

  // 6: wake_at (epoch ms), the sooner of the checkpoint's pendingDeadline and
  // approvalDeadline, written by the store with every checkpoint
  // (schema/tables.ts wakeAt). The partial index holds only paused runs, by
  // wake_at (rowid breaks ties): duePausedRuns walks it. Existing paused runs
  // get theirs from their checkpoint (rounded up, as wakeAt does); the others
  // need none until their next checkpoint.
  `
  ALTER TABLE runs ADD COLUMN wake_at INTEGER;
  UPDATE runs SET wake_at = (
    SELECT CAST(m AS INTEGER) + (m > CAST(m AS INTEGER)) FROM (
      SELECT min(value) AS m FROM json_each(runs.checkpoint)
      WHERE key IN ('pendingDeadline', 'approvalDeadline') AND type IN ('integer', 'real')))
  WHERE status = 'paused';
  CREATE INDEX runs_paused_wake ON runs (wake_at) WHERE status = 'paused';
  `,

  // 7: idempotency keys are kept as their SHA-256, hex (http/idempotency.ts
  // digestOf, issue #8). Keys stored before, as sent, are replaced by their
  // digest: the values sent leave the database, and a retry across the
  // upgrade still meets its row. agentd_sha256 is registered by migrate().
  // The DELETE only matters if a key as sent equals another key's digest in
  // the same scope (a client using digests as keys): the UPDATE could not
  // make both rows one.
  `
  DELETE FROM idempotency_keys WHERE EXISTS (
    SELECT 1 FROM idempotency_keys d WHERE d.workspace_id = idempotency_keys.workspace_id
      AND d.scope = idempotency_keys.scope AND d.key = agentd_sha256(idempotency_keys.key));
  UPDATE idempotency_keys SET key = agentd_sha256(key);
  `,

  // 8: the agents registry (issue #11). A revision is immutable and numbered
  // by agents.latest_revision, bumped in the transaction that inserts it. A
  // tag's (agent, revision) must exist (foreign key). A deleted agent keeps
  // its row (deleted_at) and revisions, so runs that used them stay
  // explainable. Runs record the revision and tag they resolved.
  `
  CREATE TABLE agents (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    id TEXT NOT NULL,
    name TEXT,
    description TEXT,
    latest_revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (workspace_id, id)
  ) STRICT;
  -- Listing, newest first with keyset paging.
  CREATE INDEX agents_workspace_created ON agents (workspace_id, created_at, id) WHERE deleted_at IS NULL;

  CREATE TABLE agent_revisions (
    workspace_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, agent_id, revision),
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents(workspace_id, id)
  ) WITHOUT ROWID, STRICT;

  CREATE TABLE agent_tags (
    workspace_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, tag),
    FOREIGN KEY (workspace_id, agent_id, revision) REFERENCES agent_revisions(workspace_id, agent_id, revision)
  ) WITHOUT ROWID, STRICT;
  CREATE INDEX agent_tags_agent ON agent_tags (workspace_id, agent_id);

  ALTER TABLE runs ADD COLUMN agent_revision INTEGER;
  ALTER TABLE runs ADD COLUMN agent_tag TEXT;
  ALTER TABLE sessions ADD COLUMN agent_revision INTEGER;
  ALTER TABLE sessions ADD COLUMN agent_tag TEXT;
  `,

  // 9 (issue #11): a run's
  // trace spans (schema/tables.ts RUN_SPANS), written by the group commit
  // with the run's checkpoints. Read whole by run, so the primary key is the
  // only index; they go with their run (DELETE /agent-runs).
  `
  CREATE TABLE IF NOT EXISTS run_spans (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error TEXT,
    attributes TEXT NOT NULL,
    PRIMARY KEY (run_id, span_id)
  ) WITHOUT ROWID, STRICT;
  `,

  // 10 (issue #11, GET /usage): the API key that created a run (key_id,
  // null for the runs before), and the run's usage in integer columns
  // beside its JSON, which the store derives with every write of usage
  // (schema/tables.ts USAGE_COLUMNS): the usage report sums them without
  // parsing JSON. usage_cost_nanos is the cost in nano-dollars, null when
  // unknown (costUsd null while the run used tokens). Adding a column with
  // a constant default rewrites nothing; the UPDATE fills the existing
  // runs' columns from their usage once. No index: the report reads the
  // window through runs_workspace_created_id (migration 2).
  `
  ALTER TABLE runs ADD COLUMN key_id TEXT;
  ALTER TABLE runs ADD COLUMN usage_input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN usage_output_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN usage_cached_input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN usage_model_calls INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN usage_tool_calls INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN usage_cost_nanos INTEGER DEFAULT 0;
  UPDATE runs SET
    usage_input_tokens = coalesce(CAST(round(json_extract(usage, '$.inputTokens')) AS INTEGER), 0),
    usage_output_tokens = coalesce(CAST(round(json_extract(usage, '$.outputTokens')) AS INTEGER), 0),
    usage_cached_input_tokens = coalesce(CAST(round(json_extract(usage, '$.cachedInputTokens')) AS INTEGER), 0),
    usage_model_calls = coalesce(CAST(round(json_extract(usage, '$.modelCalls')) AS INTEGER), 0),
    usage_tool_calls = coalesce(CAST(round(json_extract(usage, '$.toolCalls')) AS INTEGER), 0),
    usage_cost_nanos = CASE
      WHEN json_type(usage, '$.costUsd') IN ('integer', 'real') THEN CAST(round(json_extract(usage, '$.costUsd') * 1e9) AS INTEGER)
      WHEN coalesce(round(json_extract(usage, '$.inputTokens')), 0) + coalesce(round(json_extract(usage, '$.outputTokens')), 0) = 0 THEN 0
    END;
  `,

  // 11 (issue #12): what a key may do (scopes, its agent allowlist), when
  // it stops working and when it was last used. Keys from before keep every
  // scope, as they had. The pepper of their HMACs is a file beside the
  // database (sqlite/store.ts keyPepper), not a row: a copy of the database
  // alone does not carry it.
  `
  ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '["*"]';
  ALTER TABLE api_keys ADD COLUMN agents TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
  ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
  `,

  // 12 (issue #11, retention):
  // a workspace's own settings (schema/tables.ts WORKSPACE_SETTINGS), one
  // row per workspace that has any. retention_days NULL keeps its ended runs
  // forever; no row at all lets the config decide. The retention sweep reads
  // every row with its workspace (a LEFT JOIN by primary key) and deletes
  // through runs_workspace_status_created: no new index on runs.
  `
  CREATE TABLE IF NOT EXISTS workspace_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    retention_days INTEGER CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at TEXT NOT NULL
  ) STRICT;
  `,

  // 13 (issue #12): a key's own limits (KeyLimits, JSON); '{}' for every key
  // before: the config's defaults apply to it.
  `
  ALTER TABLE api_keys ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
  `,

  // 14 (issue #12, a key's tokensPerDay): its runs of a day found by key
  // (runs_key_created: both columns never change, so it costs one entry per
  // run inserted and nothing on the run's later writes; partial, so runs
  // made by no key add nothing), and the tokens of runs deleted over the API
  // (DELETE /agent-runs/{runId}) kept per key and day, so deleting a run
  // does not give its tokens back (operations/limits.ts).
  `
  CREATE INDEX IF NOT EXISTS runs_key_created ON runs (key_id, created_at) WHERE key_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS key_usage_days (
    key_id TEXT NOT NULL,
    day TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    PRIMARY KEY (key_id, day)
  ) WITHOUT ROWID, STRICT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to date; refuses a database written by a newer agentd. */
export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this agentd supports (${SCHEMA_VERSION}); upgrade agentd`);
  }
  // For migration 7; the same digest as http/idempotency.ts (UTF-8 of the key, hex).
  db.function("agentd_sha256", { deterministic: true }, (text: unknown) => createHash("sha256").update(String(text)).digest("hex"));
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    // Each step and its version bump commit together, so a crash mid-way
    // leaves the database at the previous version, never half-migrated.
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}
