import { undoAgentsPostgres } from "./undo-migrations.js";
import { randomBytes } from "node:crypto";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { makeEvents, makeRun, makeSession, rejectsWith, WAKE_BASE, wakeFixtures } from "./contract/contract-fixtures.js";
import { storeContract } from "./contract/contract.js";
import { expectDigestedIdempotencyKeys, storeRawIdempotencyKeys } from "./idempotency-digest-migration.js";
import { openStore } from "../../src/store/open.js";
import { PostgresStore, SCHEMA_VERSION } from "../../src/store/postgres/index.js";
import { statements } from "../../src/store/postgres/statements.js";

/*
 * The PostgreSQL store against a real server: DATABASE_URL, default the local
 * test database. Each test file works in throwaway schemas
 * (agentd_test_<random>), dropped at the end. Without a server the suite is
 * skipped, and says so.
 */

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
const unreachable = await probe();
if (unreachable !== undefined) {
  console.warn(`PostgreSQL store tests SKIPPED: no PostgreSQL at ${databaseUrl} (${unreachable}). Set DATABASE_URL to run them.`);
}

const schemas: string[] = [];
function freshSchema(): string {
  const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
  schemas.push(schema);
  return schema;
}
/** Runs SQL on a connection of its own (not a store's). */
async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
afterAll(async () => {
  if (unreachable !== undefined || schemas.length === 0) return;
  await admin((client) => client.query(schemas.map((schema) => `DROP SCHEMA IF EXISTS ${schema} CASCADE;`).join("\n")));
});

// One schema for the contract, emptied before each case: a fresh store without a migration per case.
const contractSchema = freshSchema();
async function emptyStore() {
  const store = await openStore({ databaseUrl, schema: contractSchema, poolSize: 4 });
  await admin((client) =>
    client.query(
      `TRUNCATE ${contractSchema}.workspaces, ${contractSchema}.api_keys, ${contractSchema}.runs, ${contractSchema}.run_events, ${contractSchema}.run_spans, ${contractSchema}.sessions, ${contractSchema}.idempotency_keys, ${contractSchema}.agents, ${contractSchema}.agent_revisions, ${contractSchema}.agent_tags, ${contractSchema}.workspace_settings`,
    ),
  );
  return store;
}

/** A TCP relay in front of PostgreSQL that a test can cut, as a database outage would. */
async function relay(): Promise<{ url: string; cut: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const target = new URL(databaseUrl);
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => undefined).on("close", () => sockets.delete(socket));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cut = async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return { url: url.href, cut };
}

describe.skipIf(unreachable !== undefined)("PostgreSQL store", () => {
  storeContract("postgres", emptyStore, { reopen: () => openStore({ databaseUrl, schema: contractSchema, poolSize: 4 }) });

  it("migrates once when four processes open a fresh schema at the same time", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ databaseUrl, schema, poolSize: 2 })));
    const versions = await admin((client) => client.query(`SELECT version FROM ${schema}.agentd_schema_migrations ORDER BY version`));
    expect(versions.rows.map((row) => row.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1));
    // The migration lock is transaction-scoped: none is left held (a transaction-mode pooler cannot strand it).
    const held = await admin((client) =>
      client.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid::bigint = (hashtext($2)::bigint & 4294967295)`,
        [0x61_67_64, schema],
      ),
    );
    expect(held.rows[0].n).toBe(0);
    // ... and they share one database: one workspace, whoever creates it.
    const workspaces = await Promise.all(stores.map((store) => store.ensureWorkspace("acme")));
    expect(new Set(workspaces.map((ws) => ws.id)).size).toBe(1);
    await Promise.all(stores.map((store) => store.close()));
  });

  it("loses nothing across close and reopen", async () => {
    const schema = freshSchema();
    const store = await openStore({ databaseUrl, schema });
    const ws = await store.ensureWorkspace("acme");
    const key = {
      id: "key_1",
      workspaceId: ws.id,
      name: "ci",
      displayPrefix: "agd_x",
      hash: "f".repeat(64),
      scopes: ["*"],
      agents: [],
      expiresAt: null,
      limits: {},
      createdAt: ws.createdAt,
      lastUsedAt: null,
      revokedAt: null,
    };
    await store.insertApiKey(key);
    const session = makeSession(ws.id);
    await store.insertSession(session);
    const run = makeRun(ws.id, { sessionId: session.id });
    await store.insertRun(run, { claimSession: session.id });
    await store.commit({
      events: makeEvents(run.id, 1, 25),
      runs: [{ runId: run.id, patch: { status: "paused", lastSeq: 25 } }],
      sessions: [],
    });
    await store.close();
    await store.close(); // idempotent

    const reopened = await openStore({ databaseUrl, schema });
    expect(reopened.kind).toBe("postgres");
    expect(await reopened.ensureWorkspace("acme")).toEqual(ws);
    expect(await reopened.findApiKeyByHash(key.hash)).toEqual({ key, workspace: ws });
    expect(await reopened.getSession(ws.id, session.id)).toEqual({ ...session, activeRunId: run.id });
    expect(await reopened.getRun(ws.id, run.id)).toEqual({ ...run, status: "paused", lastSeq: 25 });
    expect(await reopened.listRunsByStatus(["paused"])).toHaveLength(1);
    expect(await reopened.readEvents(run.id, 0, 100)).toEqual(makeEvents(run.id, 1, 25));
    await reopened.close();
  });

  it("derives the wake time of paused runs written before migration 5 from their checkpoint", async () => {
    const schema = freshSchema();
    const store = await openStore({ databaseUrl, schema });
    const ws = await store.ensureWorkspace("acme");
    const { early, late, none, running } = wakeFixtures(ws.id);
    for (const run of [early, late, none, running]) await store.insertRun(run);
    await store.close();
    await admin((client) =>
      client.query(`DROP INDEX ${schema}.runs_paused_wake; ALTER TABLE ${schema}.runs DROP COLUMN wake_at; ${undoAgentsPostgres(schema)}
        DELETE FROM ${schema}.agentd_schema_migrations WHERE version >= 5;`),
    );

    const reopened = await openStore({ databaseUrl, schema });
    expect(await reopened.duePausedRuns(WAKE_BASE + 1_000, 10)).toEqual([
      { runId: early.id, workspaceId: ws.id, wakeAt: WAKE_BASE + 11 },
      { runId: late.id, workspaceId: ws.id, wakeAt: WAKE_BASE + 30 },
    ]);
    await reopened.close();
  });

  it("counts a workspace's active runs through an index, not a scan of every run", async () => {
    const schema = freshSchema();
    const store = await PostgresStore.open({ databaseUrl, schema });
    const workspaces = await Promise.all(["a", "b", "c", "d"].map((slug) => store.ensureWorkspace(slug)));
    // 40k ended runs and a few live ones per workspace, then fresh statistics.
    await admin(async (client) => {
      await client.query(
        `INSERT INTO ${schema}.runs (id, workspace_id, model_id, status, agent_spec, metadata, checkpoint, usage, last_seq, created_at)
         SELECT 'run_' || g, ($1::text[])[1 + g % 4], 'm', CASE WHEN g % 500 = 0 THEN 'running' WHEN g % 777 = 0 THEN 'paused' ELSE 'completed' END,
           '{}', '{}', '{}', '{}', 0, lpad(g::text, 10, '0') FROM generate_series(1, 40000) g`,
        [workspaces.map((ws) => ws.id)],
      );
      await client.query(`ANALYZE ${schema}.runs`);
    });
    // The same rule as the INSERT, for the workspace of every fourth run.
    const expected = { queued: 0, running: 0, paused: 0 };
    for (let g = 4; g <= 40_000; g += 4) {
      if (g % 500 === 0) expected.running++;
      else if (g % 777 === 0) expected.paused++;
    }
    expect(await store.countActiveRuns(workspaces[0]!.id)).toEqual(expected);
    const { text } = statements(`"${schema}"`).countActiveRuns([workspaces[0]!.id]);
    const plan = await admin((client) => client.query(`EXPLAIN ${text}`, [workspaces[0]!.id]));
    const shown = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
    expect(shown).toMatch(/Index (Only )?Scan (using|on) runs_/);
    expect(shown).not.toContain("Seq Scan");
    await store.close();
  });

  it("replaces idempotency keys stored as sent before migration 6 by their digest, replies kept", async () => {
    const schema = freshSchema();
    const store = await openStore({ databaseUrl, schema });
    const ws = await store.ensureWorkspace("acme");
    await storeRawIdempotencyKeys(store, ws.id);
    await store.close();
    await admin((client) =>
      client.query(`${undoAgentsPostgres(schema)} DELETE FROM ${schema}.agentd_schema_migrations WHERE version >= 6`),
    );

    const reopened = await openStore({ databaseUrl, schema });
    await expectDigestedIdempotencyKeys(reopened, ws.id);
    await reopened.close();
    const raw = await admin((client) =>
      client.query(`SELECT count(*)::int AS n FROM ${schema}.idempotency_keys WHERE key LIKE '%secret-value-123%'`),
    );
    expect(raw.rows[0].n).toBe(0);
  });

  it("refuses a schema written by a newer agentd", async () => {
    const schema = freshSchema();
    await (await PostgresStore.open({ databaseUrl, schema })).close();
    await admin((client) => client.query(`INSERT INTO ${schema}.agentd_schema_migrations VALUES ($1, 'later')`, [SCHEMA_VERSION + 1]));
    await expect(PostgresStore.open({ databaseUrl, schema })).rejects.toThrow(/newer than this agentd supports/);
    const held = await admin((client) =>
      client.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid::bigint = (hashtext($2)::bigint & 4294967295)`,
        [0x61_67_64, schema],
      ),
    );
    expect(held.rows[0].n).toBe(0);
  });

  it("rejects a bad schema name and a patch field that is not patchable", async () => {
    await expect(PostgresStore.open({ databaseUrl, schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(TypeError);
    const store = await emptyStore();
    const ws = await store.ensureWorkspace("acme");
    const run = makeRun(ws.id);
    await store.insertRun(run);
    const patch = { workspaceId: "ws_other" } as never;
    await expect(store.commit({ events: [], runs: [{ runId: run.id, patch }], sessions: [] })).rejects.toThrow(TypeError);
    expect(await store.getRun(ws.id, run.id)).toEqual(run);
    await store.close();
  });

  it("answers unavailable when no database listens, at open and afterwards", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await rejectsWith(
      PostgresStore.open({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutMs: 1_000 }),
      "unavailable",
    );

    const { url, cut } = await relay();
    const store = await PostgresStore.open({ databaseUrl: url, schema: contractSchema, connectTimeoutMs: 1_000 });
    const ws = await store.ensureWorkspace("outage");
    await cut();
    await rejectsWith(store.getRun(ws.id, "run_1"), "unavailable");
    await rejectsWith(store.commit({ newRuns: [makeRun(ws.id)], events: [], runs: [], sessions: [] }), "unavailable");
    await store.close();
  });

  it("replaces a connection the server dropped: the next call succeeds", async () => {
    const schema = freshSchema();
    const store = await PostgresStore.open({ databaseUrl, schema, poolSize: 1 });
    const ws = await store.ensureWorkspace("acme");
    await admin((client) =>
      client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'",
        [schema],
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.getWorkspaceBySlug("acme")).toEqual(ws);
    await store.close();
  });
});
