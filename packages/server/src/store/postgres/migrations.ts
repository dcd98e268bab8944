import type { PoolClient } from "pg";

/*
 * Schema changes, applied in order at open. A migration is never edited once
 * released: add a new one. `s` is the quoted schema name.
 *
 * Choices (see the report on issue #4):
 * - JSON columns are `text`, not `jsonb`: the hot path only writes and reads
 *   them whole, so jsonb would parse every checkpoint and event on write and
 *   re-serialise on read for nothing; and jsonb reorders keys and respaces,
 *   while an event's `data` must go back on the wire byte for byte (replay
 *   equals live). A query on JSON content can add an expression index later.
 * - Timestamps are the records' ISO-8601 UTC strings (`text`): they round-trip
 *   exactly and sort chronologically byte by byte.
 * - Keys and timestamps use COLLATE "C": byte comparison, the cheapest for
 *   b-tree lookups and the right order for ISO strings, whatever the
 *   database's default locale.
 */
const MIGRATIONS: ReadonlyArray<(s: string) => string> = [
  // 1: initial schema, mirroring store/sqlite/migrations.ts 1 and 2.
  (s) => `
  CREATE TABLE ${s}.workspaces (
    id text COLLATE "C" PRIMARY KEY,
    slug text COLLATE "C" NOT NULL UNIQUE,
    created_at text NOT NULL
  );

  CREATE TABLE ${s}.api_keys (
    id text COLLATE "C" PRIMARY KEY,
    workspace_id text COLLATE "C" NOT NULL REFERENCES ${s}.workspaces(id),
    name text NOT NULL,
    display_prefix text NOT NULL,
    hash text COLLATE "C" NOT NULL UNIQUE,
    created_at text NOT NULL,
    revoked_at text
  );

  CREATE TABLE ${s}.runs (
    id text COLLATE "C" PRIMARY KEY,
    workspace_id text COLLATE "C" NOT NULL REFERENCES ${s}.workspaces(id),
    session_id text COLLATE "C",
    agent_id text,
    model_id text NOT NULL,
    status text COLLATE "C" NOT NULL,
    agent_spec text NOT NULL,
    metadata text NOT NULL,
    checkpoint text NOT NULL,
    text text,
    subtype text,
    error text,
    usage text NOT NULL,
    last_seq integer NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    started_at text,
    ended_at text,
    -- Insertion order: breaks ties between runs created in the same
    -- millisecond, as rowid does in SQLite.
    created_order bigint GENERATED ALWAYS AS IDENTITY
  );
  -- Start-up recovery (listRunsByStatus) reads these in order.
  CREATE INDEX runs_status ON ${s}.runs (status, created_at, created_order);
  -- Listing (listRuns), newest first by (created_at, id) with keyset paging:
  -- as SQLite's migration 2, each index ends in (created_at, id), so a list
  -- with no filter, one status, one agent or one session reads rows already
  -- in order and stops after the limit.
  CREATE INDEX runs_workspace_created_id ON ${s}.runs (workspace_id, created_at, id);
  CREATE INDEX runs_workspace_status_created ON ${s}.runs (workspace_id, status, created_at, id);
  CREATE INDEX runs_workspace_agent_created ON ${s}.runs (workspace_id, agent_id, created_at, id) WHERE agent_id IS NOT NULL;
  CREATE INDEX runs_workspace_session_created ON ${s}.runs (workspace_id, session_id, created_at, id) WHERE session_id IS NOT NULL;

  -- The log is read and written by (run_id, seq) only: the primary key is the
  -- one index to maintain, and a duplicate seq is refused by it.
  CREATE TABLE ${s}.run_events (
    run_id text COLLATE "C" NOT NULL REFERENCES ${s}.runs(id) ON DELETE CASCADE,
    seq integer NOT NULL,
    type text NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (run_id, seq)
  );

  CREATE TABLE ${s}.sessions (
    id text COLLATE "C" PRIMARY KEY,
    workspace_id text COLLATE "C" NOT NULL REFERENCES ${s}.workspaces(id),
    name text NOT NULL,
    status text NOT NULL,
    agent_spec text NOT NULL,
    metadata text NOT NULL,
    messages text NOT NULL,
    active_run_id text COLLATE "C",
    created_at text COLLATE "C" NOT NULL,
    last_used_at text NOT NULL,
    ended_at text
  );
  CREATE INDEX sessions_workspace_created ON ${s}.sessions (workspace_id, created_at);

  -- A patch is an UPDATE that must match its row. Raising here (SQLSTATE
  -- P0002) lets a group commit send BEGIN, its writes and COMMIT in one
  -- round trip: a missing row aborts the transaction on the server, instead
  -- of the client reading row counts before deciding to commit.
  CREATE FUNCTION ${s}.agentd_expect_row(matched bigint) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    IF matched = 0 THEN RAISE no_data_found; END IF;
  END $$;
  `,

  // 2: leases (issue #4), as store/sqlite/migrations.ts 3. A worker holds a
  // run while owner_id is its id and lease_expires_at (epoch ms, the
  // database's clock) is ahead; every claim increments lease_epoch, the
  // fencing token, which never goes back. Adding columns with a constant
  // default rewrites no rows. The partial index holds only live runs
  // (queued/running) in creation order: orphanedRuns walks it, and a run
  // leaves it when it pauses or ends.
  (s) => `
  ALTER TABLE ${s}.runs
    ADD COLUMN owner_id text COLLATE "C",
    ADD COLUMN lease_epoch integer NOT NULL DEFAULT 0,
    ADD COLUMN lease_expires_at bigint;
  CREATE INDEX runs_live_created ON ${s}.runs (created_at, created_order) WHERE status IN ('queued', 'running');
  `,

  // 3: cancel requests, as store/sqlite/migrations.ts 4. cancel_requested
  // holds the reason a cancel was asked for (Store.requestCancel), NULL when
  // none: set without a lease by one UPDATE, never by an insert or a run
  // patch. A nullable column without a default rewrites no rows.
  (s) => `
  ALTER TABLE ${s}.runs ADD COLUMN cancel_requested text;
  `,

  // 4: idempotency keys, as store/sqlite/migrations.ts 5: one row per
  // (workspace, request path, key), 'pending' while an attempt (token)
  // serves the request, 'done' with its reply (status, JSON body). Times are
  // epoch ms of the database's clock: created_at when the attempt began (a
  // pending row older than the lock time may be taken over), expires_at
  // when the key is forgotten; the index serves purgeIdempotency.
  (s) => `
  CREATE TABLE ${s}.idempotency_keys (
    workspace_id text COLLATE "C" NOT NULL REFERENCES ${s}.workspaces(id),
    scope text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'done')),
    fingerprint text NOT NULL,
    token text NOT NULL,
    status integer,
    body text,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (workspace_id, scope, key)
  );
  CREATE INDEX idempotency_keys_expires ON ${s}.idempotency_keys (expires_at);
  `,

  // 5: wake_at, as store/sqlite/migrations.ts 6: the sooner of the
  // checkpoint's pendingDeadline and approvalDeadline (epoch ms, rounded up),
  // written by the store with every checkpoint. The partial index holds only
  // paused runs, soonest first: duePausedRuns walks it. Existing paused runs
  // get theirs from their checkpoint (LEAST ignores nulls); the others need
  // none until their next checkpoint.
  (s) => `
  ALTER TABLE ${s}.runs ADD COLUMN wake_at bigint;
  UPDATE ${s}.runs SET wake_at = ceil(LEAST(
    (checkpoint::json ->> 'pendingDeadline')::numeric, (checkpoint::json ->> 'approvalDeadline')::numeric))::bigint
  WHERE status = 'paused';
  CREATE INDEX runs_paused_wake ON ${s}.runs (wake_at, created_order) WHERE status = 'paused';
  `,

  // 6: idempotency keys as their SHA-256, as store/sqlite/migrations.ts 7:
  // keys stored before, as sent, are replaced by their digest (hex of the
  // key's UTF-8, as http/idempotency.ts digestOf). The DELETE first removes
  // a row whose digest equals another row's key as sent (a client using
  // digests as keys): uniqueness is checked row by row, so the UPDATE could
  // otherwise fail half-way and the migration with it.
  (s) => `
  DELETE FROM ${s}.idempotency_keys k USING ${s}.idempotency_keys d
  WHERE d.workspace_id = k.workspace_id AND d.scope = k.scope AND d.key = encode(sha256(convert_to(k.key, 'UTF8')), 'hex');
  UPDATE ${s}.idempotency_keys SET key = encode(sha256(convert_to(key, 'UTF8')), 'hex');
  `,

  // 7: the agents registry (issue #11), as store/sqlite/migrations.ts 8.
  (s) => `
  CREATE TABLE ${s}.agents (
    workspace_id text COLLATE "C" NOT NULL REFERENCES ${s}.workspaces(id),
    id text COLLATE "C" NOT NULL,
    name text,
    description text,
    latest_revision integer NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    updated_at text NOT NULL,
    deleted_at text,
    PRIMARY KEY (workspace_id, id)
  );
  CREATE INDEX agents_workspace_created ON ${s}.agents (workspace_id, created_at, id) WHERE deleted_at IS NULL;

  CREATE TABLE ${s}.agent_revisions (
    workspace_id text COLLATE "C" NOT NULL,
    agent_id text COLLATE "C" NOT NULL,
    revision integer NOT NULL,
    definition text NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (workspace_id, agent_id, revision),
    FOREIGN KEY (workspace_id, agent_id) REFERENCES ${s}.agents(workspace_id, id)
  );

  CREATE TABLE ${s}.agent_tags (
    workspace_id text COLLATE "C" NOT NULL,
    tag text COLLATE "C" NOT NULL,
    agent_id text COLLATE "C" NOT NULL,
    revision integer NOT NULL,
    updated_at text NOT NULL,
    PRIMARY KEY (workspace_id, tag),
    FOREIGN KEY (workspace_id, agent_id, revision) REFERENCES ${s}.agent_revisions(workspace_id, agent_id, revision)
  );
  CREATE INDEX agent_tags_agent ON ${s}.agent_tags (workspace_id, agent_id);

  ALTER TABLE ${s}.runs ADD COLUMN agent_revision integer, ADD COLUMN agent_tag text;
  ALTER TABLE ${s}.sessions ADD COLUMN agent_revision integer, ADD COLUMN agent_tag text;
  `,

  // 8 (issue #11): a run's trace spans, as store/sqlite/migrations.ts 9.
  (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.run_spans (
    run_id text COLLATE "C" NOT NULL REFERENCES ${s}.runs(id) ON DELETE CASCADE,
    span_id text COLLATE "C" NOT NULL,
    parent_span_id text COLLATE "C",
    name text NOT NULL,
    kind text NOT NULL,
    attempt integer NOT NULL,
    started_at text COLLATE "C" NOT NULL,
    ended_at text,
    status text NOT NULL CHECK (status IN ('ok', 'error')),
    error text,
    attributes text NOT NULL,
    PRIMARY KEY (run_id, span_id)
  );
  `,

  // 9 (issue #11, GET /usage): a run's API key and its usage in integer
  // columns, as store/sqlite/migrations.ts 10. The columns with a constant
  // default rewrite nothing; the UPDATE fills the existing runs' from their
  // usage, once (every row is written again: on a very large runs table the
  // upgrade takes a while, under the migration lock). bigint: a run's cost
  // in nano-dollars passes 2^31 at $2.15. No index: the report reads the
  // window through runs_workspace_created_id (migration 1).
  (s) => `
  ALTER TABLE ${s}.runs
    ADD COLUMN key_id text COLLATE "C",
    ADD COLUMN usage_input_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN usage_output_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN usage_cached_input_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN usage_model_calls bigint NOT NULL DEFAULT 0,
    ADD COLUMN usage_tool_calls bigint NOT NULL DEFAULT 0,
    ADD COLUMN usage_cost_nanos bigint DEFAULT 0;
  UPDATE ${s}.runs r SET
    usage_input_tokens = coalesce(round((u.j ->> 'inputTokens')::numeric), 0),
    usage_output_tokens = coalesce(round((u.j ->> 'outputTokens')::numeric), 0),
    usage_cached_input_tokens = coalesce(round((u.j ->> 'cachedInputTokens')::numeric), 0),
    usage_model_calls = coalesce(round((u.j ->> 'modelCalls')::numeric), 0),
    usage_tool_calls = coalesce(round((u.j ->> 'toolCalls')::numeric), 0),
    usage_cost_nanos = CASE
      WHEN json_typeof(u.j -> 'costUsd') = 'number' THEN round((u.j ->> 'costUsd')::numeric * 1000000000)
      WHEN coalesce(round((u.j ->> 'inputTokens')::numeric), 0) + coalesce(round((u.j ->> 'outputTokens')::numeric), 0) = 0 THEN 0
    END
  FROM (SELECT id, usage::json AS j FROM ${s}.runs) u
  WHERE u.id = r.id;
  `,

  // 10 (issue #12): as store/sqlite/migrations.ts 11; and the key pepper
  // when AGENTD_KEY_PEPPER is not set (postgres/store.ts keyPepper): every
  // worker of a cluster must hash keys alike, and the database is what they share.
  (s) => `
  ALTER TABLE ${s}.api_keys ADD COLUMN scopes text NOT NULL DEFAULT '["*"]',
    ADD COLUMN agents text NOT NULL DEFAULT '[]', ADD COLUMN expires_at text, ADD COLUMN last_used_at text;
  CREATE TABLE ${s}.secrets (name text COLLATE "C" PRIMARY KEY, value text NOT NULL);
  `,

  // 11 (issue #11, retention): a workspace's own settings, as
  // store/sqlite/migrations.ts 12.
  (s) => `
  CREATE TABLE IF NOT EXISTS ${s}.workspace_settings (
    workspace_id text COLLATE "C" PRIMARY KEY REFERENCES ${s}.workspaces(id),
    retention_days integer CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at text NOT NULL
  );
  `,

  // 12 (issue #12): a key's own limits, as store/sqlite/migrations.ts 13.
  (s) => `
  ALTER TABLE ${s}.api_keys ADD COLUMN limits text NOT NULL DEFAULT '{}';
  `,

  // 13 (issue #12, a key's tokensPerDay): as store/sqlite/migrations.ts 14.
  // The index is built inside the migration's transaction (writes to runs
  // wait meanwhile: seconds on a table of millions of runs).
  (s) => `
  CREATE INDEX IF NOT EXISTS runs_key_created ON ${s}.runs (key_id, created_at) WHERE key_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS ${s}.key_usage_days (
    key_id text COLLATE "C" NOT NULL,
    day text COLLATE "C" NOT NULL,
    tokens bigint NOT NULL,
    PRIMARY KEY (key_id, day)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Any fixed number: the first half of the two-part advisory lock key, so it cannot collide with an application's one-part keys. */
const LOCK_CLASS = 0x61_67_64; // "agd"

/**
 * Brings the schema up to date; refuses one written by a newer agentd. One
 * transaction under a transaction-scoped advisory lock keyed by the schema
 * name: processes that start together migrate one after the other (the
 * first applies, the others then find nothing left to do), a crash leaves
 * the schema at its previous version, and the lock can never outlive the
 * transaction, even through a transaction-mode pooler such as PgBouncer
 * (a session lock taken and released in separate transactions could land
 * on two server connections and stay held: docs/scaling.md).
 */
export async function migrate(client: PoolClient, quotedSchema: string, schema: string): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quotedSchema}.agentd_schema_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${quotedSchema}.agentd_schema_migrations`,
    );
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`database schema version ${current} is newer than this agentd supports (${SCHEMA_VERSION}); upgrade agentd`);
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version - 1]!(quotedSchema));
      await client.query(`INSERT INTO ${quotedSchema}.agentd_schema_migrations (version, applied_at) VALUES ($1, $2)`, [
        version,
        new Date().toISOString(),
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
