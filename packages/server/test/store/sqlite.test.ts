import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { makeEvents, makeRun, makeSession, WAKE_BASE, wakeFixtures } from "./contract/contract-fixtures.js";
import { UNDO_AGENTS_SQLITE } from "./undo-migrations.js";
import { expectDigestedIdempotencyKeys, storeRawIdempotencyKeys } from "./idempotency-digest-migration.js";
import { storeContract } from "./contract/contract.js";
import { openStore } from "../../src/store/open.js";
import { SCHEMA_VERSION, SqliteStore } from "../../src/store/sqlite/index.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "agentd-store-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

storeContract("sqlite in memory", () => openStore({ memory: true }));
let lastDir = "";
storeContract("sqlite file", async () => openStore({ dataDir: (lastDir = await tempDir()) }), {
  reopen: () => openStore({ dataDir: lastDir }),
});

describe("SqliteStore on disk", () => {
  it("loses nothing across close and reopen", async () => {
    const dataDir = join(await tempDir(), "nested", "data");
    const store = await openStore({ dataDir });
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

    const reopened = await openStore({ dataDir });
    expect(await reopened.ensureWorkspace("acme")).toEqual(ws);
    expect(await reopened.findApiKeyByHash(key.hash)).toEqual({ key, workspace: ws });
    expect(await reopened.getSession(ws.id, session.id)).toEqual({ ...session, activeRunId: run.id });
    expect(await reopened.getRun(ws.id, run.id)).toEqual({ ...run, status: "paused", lastSeq: 25 });
    expect(await reopened.listRunsByStatus(["paused"])).toHaveLength(1);
    expect(await reopened.readEvents(run.id, 0, 100)).toEqual(makeEvents(run.id, 1, 25));
    await reopened.close();
  });

  it("uses WAL and records the schema version in the file", async () => {
    const dataDir = await tempDir();
    const store = await openStore({ dataDir });
    // A second connection sees what is persisted in the file, not the first connection's settings.
    const probe = new Database(join(dataDir, "agentd.db"), { readonly: true });
    expect(probe.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(probe.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    probe.close();
    await store.close();
  });

  it("derives the wake time of paused runs written before migration 6 from their checkpoint", async () => {
    const dataDir = await tempDir();
    const store = await openStore({ dataDir });
    const ws = await store.ensureWorkspace("acme");
    const { early, late, none, running } = wakeFixtures(ws.id);
    for (const run of [early, late, none, running]) await store.insertRun(run);
    await store.close();
    const db = new Database(join(dataDir, "agentd.db"));
    db.exec(`DROP INDEX runs_paused_wake; ALTER TABLE runs DROP COLUMN wake_at; ${UNDO_AGENTS_SQLITE}`);
    db.pragma("user_version = 5");
    db.close();

    const reopened = await openStore({ dataDir });
    expect(await reopened.duePausedRuns(WAKE_BASE + 1_000, 10)).toEqual([
      { runId: early.id, workspaceId: ws.id, wakeAt: WAKE_BASE + 11 },
      { runId: late.id, workspaceId: ws.id, wakeAt: WAKE_BASE + 30 },
    ]);
    await reopened.close();
  });

  it("replaces idempotency keys stored as sent before migration 7 by their digest, replies kept", async () => {
    const dataDir = await tempDir();
    const store = await openStore({ dataDir });
    const ws = await store.ensureWorkspace("acme");
    await storeRawIdempotencyKeys(store, ws.id);
    await store.close();
    const file = join(dataDir, "agentd.db");
    const db = new Database(file);
    db.exec(UNDO_AGENTS_SQLITE);
    db.pragma("user_version = 6");
    db.close();

    const reopened = await openStore({ dataDir });
    await expectDigestedIdempotencyKeys(reopened, ws.id);
    await reopened.close();
    const probe = new Database(file, { readonly: true });
    expect(probe.prepare("SELECT count(*) AS n FROM idempotency_keys WHERE key LIKE '%secret-value-123%'").get()).toEqual({ n: 0 });
    probe.close();
  });

  it("refuses a database written by a newer schema", async () => {
    const dataDir = await tempDir();
    await (await openStore({ dataDir })).close();
    const file = join(dataDir, "agentd.db");
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteStore(file)).toThrow(/newer than this agentd supports/);
  });

  it("rejects a patch field that is not patchable instead of writing it", async () => {
    const store = await openStore({ memory: true });
    const ws = await store.ensureWorkspace("acme");
    const run = makeRun(ws.id);
    await store.insertRun(run);
    const patch = { workspaceId: "ws_other" } as never;
    await expect(store.commit({ events: [], runs: [{ runId: run.id, patch }], sessions: [] })).rejects.toThrow(TypeError);
    expect(await store.getRun(ws.id, run.id)).toEqual(run);
    await store.close();
  });
});
