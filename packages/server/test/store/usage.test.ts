import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { UsageGroupBy } from "@agentd/protocol";
import { makeRun } from "./contract/contract-fixtures.js";
import { undoUsagePostgres, UNDO_USAGE_SQLITE } from "./undo-migrations.js";
import { postgresEnv } from "../pg-env.js";
import { openStore } from "../../src/store/open.js";
import { statements } from "../../src/store/sql/statements.js";
import { SQLITE } from "../../src/store/sqlite/dialect.js";
import { statements as postgresStatements } from "../../src/store/postgres/statements.js";
import type { RunRecord, Store } from "../../src/store/types.js";

/*
 * GET /usage in each store beyond the shared contract: the aggregate reads
 * the window through the (workspace_id, created_at) index, never every run
 * (EXPLAIN on both dialects), and the migration that added the usage
 * columns (SQLite 10, PostgreSQL 9) fills them for the runs stored before
 * it exactly as the store derives them for a new write.
 */

const { databaseUrl, reachable, schema: pgSchemaBase } = await postgresEnv("PostgreSQL cases of the usage store test");

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const WINDOW = { from: "2031-03-01T00:00:00.000Z", to: "2031-03-31T00:00:00.000Z" };
const GROUPINGS: Array<UsageGroupBy | undefined> = [undefined, "agent", "model", "key", "day"];
const STATEMENT = { none: "usageTotals", agent: "usageByAgent", model: "usageByModel", key: "usageByKey", day: "usageByDay" } as const;

/** Runs of every kind the backfill must read: priced, unpriced with tokens, no tokens, a usage from before modelCalls existed. */
function fixtures(workspaceId: string): RunRecord[] {
  const at = (day: number, hour: number) => `2031-03-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00.000Z`;
  return [
    makeRun(workspaceId, {
      createdAt: at(2, 1),
      agentId: "support",
      keyId: "key_a",
      usage: {
        inputTokens: 1_200,
        outputTokens: 300,
        totalTokens: 1_500,
        cachedInputTokens: 200,
        modelCalls: 2,
        toolCalls: 1,
        costUsd: 0.0081234,
      },
    }),
    makeRun(workspaceId, {
      createdAt: at(2, 5),
      modelId: "m:unpriced",
      keyId: "key_b",
      usage: { inputTokens: 50, outputTokens: 5, totalTokens: 55, modelCalls: 1, toolCalls: 0, costUsd: null },
    }),
    makeRun(workspaceId, { createdAt: at(3, 0), agentId: "support", status: "failed" }),
    makeRun(workspaceId, { createdAt: at(9, 23), usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10, costUsd: 0.000002 } }),
  ];
}

/** The sums under every grouping but `key` (the runs before the migration recorded none). */
async function allSums(store: Store, workspaceId: string) {
  return Promise.all(GROUPINGS.filter((groupBy) => groupBy !== "key").map((groupBy) => store.sumUsage(workspaceId, WINDOW, groupBy)));
}

describe("usage on SQLite", () => {
  it("reads the window through runs_workspace_created_id for every grouping, never a scan of the runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentd-usage-"));
    dirs.push(dir);
    await (await openStore({ dataDir: dir })).close();
    const db = new Database(join(dir, "agentd.db"), { readonly: true });
    const texts = statements(SQLITE);
    for (const [grouping, id] of Object.entries(STATEMENT)) {
      const plan = db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${texts[id]}`)
        .all("ws_1", WINDOW.from, WINDOW.to)
        .map((row) => row.detail)
        .join(" | ");
      expect(plan, grouping).toContain(
        "SEARCH runs USING INDEX runs_workspace_created_id (workspace_id=? AND created_at>? AND created_at<?)",
      );
      expect(plan, grouping).not.toMatch(/\bSCAN runs\b/);
    }
    db.close();
  });

  it("fills the usage columns of the runs stored before migration 10 as a new write derives them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentd-usage-"));
    dirs.push(dir);
    const store = await openStore({ dataDir: dir });
    const ws = await store.ensureWorkspace("acme");
    const runs = fixtures(ws.id);
    for (const run of runs) await store.insertRun(run);
    const derived = await allSums(store, ws.id);
    await store.close();
    const db = new Database(join(dir, "agentd.db"));
    db.exec(UNDO_USAGE_SQLITE);
    db.pragma("user_version = 9");
    db.close();

    const reopened = await openStore({ dataDir: dir });
    expect(await allSums(reopened, ws.id)).toEqual(derived);
    // The key was not recorded before: those runs group under null.
    expect(await reopened.sumUsage(ws.id, WINDOW, "key")).toEqual([
      expect.objectContaining({ key: null, runs: runs.length, costUnknownRuns: 1 }),
    ]);
    expect((await reopened.getRun(ws.id, runs[0]!.id))!.keyId).toBeNull();
    await reopened.close();
  });
});

describe.skipIf(!reachable)("usage on PostgreSQL", () => {
  let next = 0;
  const freshSchema = () => `${pgSchemaBase}_${++next}`;
  const created: string[] = [];
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
    if (created.length > 0)
      await admin((client) => client.query(created.map((schema) => `DROP SCHEMA IF EXISTS ${schema} CASCADE;`).join("\n")));
  });

  it("reads the window through runs_workspace_created_id for every grouping, not a sequential scan", async () => {
    const schema = freshSchema();
    created.push(schema);
    const store = await openStore({ databaseUrl, schema });
    const workspaces = await Promise.all(["a", "b", "c", "d"].map((slug) => store.ensureWorkspace(slug)));
    // 40k runs of four workspaces over 400 days (one every 15 minutes), then fresh statistics: a 30-day window is a few percent of a workspace's.
    await admin(async (client) => {
      await client.query(
        `INSERT INTO ${schema}.runs (id, workspace_id, model_id, agent_id, key_id, status, agent_spec, metadata, checkpoint, usage, last_seq, created_at,
           usage_input_tokens, usage_output_tokens, usage_cost_nanos)
         SELECT 'run_' || g, ($1::text[])[1 + g % 4], 'm' || (g % 3), 'agent' || (g % 5), 'key_' || (g % 2), 'completed', '{}', '{}', '{}', '{}', 0,
           to_char(timestamp '2031-01-01' + g * interval '15 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 100, 10, CASE WHEN g % 7 = 0 THEN NULL ELSE 1000 END
         FROM generate_series(1, 40000) g`,
        [workspaces.map((ws) => ws.id)],
      );
      await client.query(`ANALYZE ${schema}.runs`);
    });
    const sql = postgresStatements(`"${schema}"`);
    const window = { from: "2031-03-01T00:00:00.000Z", to: "2031-03-31T00:00:00.000Z" };
    for (const [grouping, id] of Object.entries(STATEMENT)) {
      const { text } = sql[id]([workspaces[0]!.id, window.from, window.to]);
      const plan = await admin((client) => client.query(`EXPLAIN ${text}`, [workspaces[0]!.id, window.from, window.to]));
      const shown = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
      expect(shown, grouping).toMatch(/(Index|Bitmap Index) Scan (using|on) runs_workspace_created_id/);
      expect(shown, grouping).not.toContain("Seq Scan");
    }
    // And the sums are right: 30 days of one workspace's runs (every fourth quarter hour).
    const [totals] = await store.sumUsage(workspaces[0]!.id, window);
    const expected = { runs: 0, unknown: 0 };
    for (let g = 1; g <= 40_000; g++) {
      const createdAt = new Date(Date.parse("2031-01-01T00:00:00.000Z") + g * 900_000).toISOString();
      if (g % 4 !== 0 || createdAt < window.from || createdAt >= window.to) continue;
      expected.runs++;
      if (g % 7 === 0) expected.unknown++;
    }
    expect(totals).toMatchObject({
      runs: expected.runs,
      inputTokens: 100 * expected.runs,
      costNanos: 1000 * (expected.runs - expected.unknown),
      costUnknownRuns: expected.unknown,
    });
    await store.close();
  });

  it("fills the usage columns of the runs stored before migration 9 as a new write derives them", async () => {
    const schema = freshSchema();
    created.push(schema);
    const store = await openStore({ databaseUrl, schema });
    const ws = await store.ensureWorkspace("acme");
    const runs = fixtures(ws.id);
    for (const run of runs) await store.insertRun(run);
    const derived = await allSums(store, ws.id);
    await store.close();
    await admin((client) => client.query(`${undoUsagePostgres(schema)} DELETE FROM ${schema}.agentd_schema_migrations WHERE version >= 9`));

    const reopened = await openStore({ databaseUrl, schema });
    expect(await allSums(reopened, ws.id)).toEqual(derived);
    expect(await reopened.sumUsage(ws.id, WINDOW, "key")).toEqual([
      expect.objectContaining({ key: null, runs: runs.length, costUnknownRuns: 1 }),
    ]);
    expect((await reopened.getRun(ws.id, runs[0]!.id))!.keyId).toBeNull();
    await reopened.close();
  });
});
