import { UNDO_AGENTS_SQLITE } from "./undo-migrations.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRun } from "./contract/contract-fixtures.js";
import { SCHEMA_VERSION, SqliteStore } from "../../src/store/sqlite/index.js";
import { listRunsSql } from "../../src/store/sqlite/list.js";
import type { RunFilter } from "../../src/store/types.js";

/*
 * SQLite specifics of listing runs that the shared contract cannot see: the
 * query plans (a list must read an index in order and stop at `limit`, not
 * sort the workspace's runs) and the upgrade of a schema-1 database.
 */

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "agentd-list-"));
  file = join(dir, "agentd.db");
  await new SqliteStore(file).close();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function plan(filter: RunFilter): string {
  const db = new Database(file, { readonly: true });
  try {
    const { sql, params } = listRunsSql("ws_1", filter, { limit: 20, after: { createdAt: "2026-01-01T00:00:00.000Z", id: "run_x" } });
    return db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail)
      .join(" | ");
  } finally {
    db.close();
  }
}

describe("SQLite run listing", () => {
  const cases: Array<[string, RunFilter, string]> = [
    ["no filter", {}, "runs_workspace_created_id"],
    ["one status", { statuses: ["paused"] }, "runs_workspace_status_created"],
    ["an agent", { agentId: "support" }, "runs_workspace_agent_created"],
    ["a session", { sessionId: "ses_1" }, "runs_workspace_session_created"],
    ["metadata", { metadata: { env: "prod" } }, "runs_workspace_created_id"],
    ["a time window", { createdAfter: "2025-01-01T00:00:00.000Z", createdBefore: "2026-01-01T00:00:00.000Z" }, "runs_workspace_created_id"],
  ];
  for (const [name, filter, index] of cases) {
    it(`lists by ${name} through ${index}, in index order (no sort)`, () => {
      const detail = plan(filter);
      expect(detail).toContain(`USING INDEX ${index}`);
      expect(detail).not.toContain("TEMP B-TREE");
    });
  }

  it("upgrades a schema-1 database: same runs, the new indexes, the old one gone", async () => {
    const upgradeFile = join(dir, "v1.db");
    const store = new SqliteStore(upgradeFile);
    const ws = await store.ensureWorkspace("acme");
    const runs = [makeRun(ws.id), makeRun(ws.id)];
    for (const run of runs) await store.insertRun(run);
    await store.close();
    // Put the file back into its schema-1 shape (migration 1's indexes only).
    const db = new Database(upgradeFile);
    db.exec(`DROP INDEX runs_workspace_created_id; DROP INDEX runs_workspace_status_created;
      DROP INDEX runs_workspace_agent_created; DROP INDEX runs_workspace_session_created;
      CREATE INDEX runs_workspace_created ON runs (workspace_id, created_at);
      DROP INDEX runs_live_created; ALTER TABLE runs DROP COLUMN owner_id; ALTER TABLE runs DROP COLUMN lease_epoch; ALTER TABLE runs DROP COLUMN lease_expires_at; ALTER TABLE runs DROP COLUMN cancel_requested;
      DROP TABLE idempotency_keys; DROP INDEX runs_paused_wake; ALTER TABLE runs DROP COLUMN wake_at; ${UNDO_AGENTS_SQLITE}`);
    db.pragma("user_version = 1");
    db.close();

    const reopened = new SqliteStore(upgradeFile);
    expect(await reopened.listRuns(ws.id, {}, { limit: 10 })).toEqual([...runs].reverse());
    await reopened.close();
    const probe = new Database(upgradeFile, { readonly: true });
    const indexes = probe
      .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all();
    expect(probe.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    probe.close();
    expect(indexes.sort()).toEqual([
      "runs_key_created",
      "runs_live_created",
      "runs_paused_wake",
      "runs_status",
      "runs_workspace_agent_created",
      "runs_workspace_created_id",
      "runs_workspace_session_created",
      "runs_workspace_status_created",
    ]);
  });
});
