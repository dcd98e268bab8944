import pgClient from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { makeEvent, makeRun } from "../store/contract/contract-fixtures.js";
import { postgresEnv } from "../pg-env.js";
import { tempDir } from "../helpers.js";
import type { RetentionConfig } from "../../src/config/types.js";
import type { Logger } from "../../src/logger.js";
import { validateConfig } from "../../src/config/load.js";
import { RetentionSweeper, type SweepOutcome } from "../../src/retention/sweeper.js";
import { openStore } from "../../src/store/open.js";
import type { RunRecord, Store } from "../../src/store/types.js";

/*
 * The retention sweep (issue #11) on both stores: runs are aged with the
 * sweeper's injected clock, never by sleeping; a round deletes exactly the
 * ended runs past their workspace's retention, in bounded batches; one
 * process of a store sweeps at a time; a failure is logged, never thrown.
 */

const DAY = 24 * 3600 * 1000;
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const pg = await postgresEnv("retention sweep on PostgreSQL");

interface Backend {
  name: string;
  /** A fresh, empty store (SQLite: on a file, so that two stores can share one). */
  open(): Promise<Store>;
  /** A second store on the database `open` last made: another process's. */
  again(): Promise<Store>;
}

const pgSchemas: string[] = [];
afterAll(async () => {
  if (pgSchemas.length === 0) return;
  const client = new pgClient.Client({ connectionString: pg.databaseUrl });
  await client.connect();
  await client.query(pgSchemas.map((schema) => `DROP SCHEMA IF EXISTS ${schema} CASCADE;`).join("\n"));
  await client.end();
});
const backends: Array<Backend & { skip: boolean }> = [
  (() => {
    let file = "";
    return {
      name: "sqlite",
      skip: false,
      async open() {
        file = tempDir();
        return openStore({ dataDir: file });
      },
      again: () => openStore({ dataDir: file }),
    };
  })(),
  (() => {
    let schema = "";
    return {
      name: "postgres",
      skip: !pg.reachable,
      async open() {
        schema = `${pg.schema}_${pgSchemas.length + 1}`;
        pgSchemas.push(schema);
        return openStore({ databaseUrl: pg.databaseUrl, schema, poolSize: 4 });
      },
      again: () => openStore({ databaseUrl: pg.databaseUrl, schema, poolSize: 4 }),
    };
  })(),
];

/** Records log lines by level. */
function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, message, fields });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

/** The store with some methods replaced (the others bound to it: stores keep private fields). */
function wrap(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof Store];
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function endedRun(store: Store, workspaceId: string, endedAt: number, status: RunRecord["status"] = "completed"): Promise<RunRecord> {
  const at = new Date(endedAt).toISOString();
  const run = makeRun(workspaceId, {
    status,
    createdAt: at,
    startedAt: at,
    endedAt: status === "completed" || status === "failed" || status === "cancelled" ? at : null,
  });
  await store.insertRun(run);
  await store.commit({
    events: [makeEvent(run.id, 1), makeEvent(run.id, 2)],
    runs: [{ runId: run.id, patch: { lastSeq: 2 } }],
    sessions: [],
  });
  return run;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`retention sweep: ${backend.name}`, () => {
    const stores: Store[] = [];
    const open = async () => {
      const store = await backend.open();
      stores.push(store);
      return store;
    };
    const again = async () => {
      const store = await backend.again();
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    const sweeper = (
      store: Store,
      config: RetentionConfig | undefined,
      now: () => number,
      extra: { forget?: (runIds: readonly string[]) => void; logger?: Logger } = {},
    ) => {
      const counts = { runs: 0, outcomes: [] as SweepOutcome["outcome"][] };
      const instance = new RetentionSweeper({
        store,
        config,
        logger: extra.logger ?? recordingLogger(),
        observer: { runsSwept: (count) => void (counts.runs += count), sweepEnded: (outcome) => void counts.outcomes.push(outcome) },
        forget: extra.forget ?? (() => undefined),
        now,
      });
      return Object.assign(instance, { counts });
    };

    it("deletes ended runs past their retention (settings over config over the default), by the injected clock", async () => {
      const store = await open();
      const [acme, globex, initech, forever] = await Promise.all(
        ["acme", "globex", "initech", "forever"].map((slug) => store.ensureWorkspace(slug)),
      );
      // Every workspace: one run ended at T0, one at T0 + 20 days, one still paused since T0.
      const runs = new Map<string, RunRecord[]>();
      for (const ws of [acme, globex, initech, forever]) {
        runs.set(ws!.slug, [
          await endedRun(store, ws!.id, T0),
          await endedRun(store, ws!.id, T0 + 20 * DAY),
          await endedRun(store, ws!.id, T0, "paused"),
        ]);
      }
      // acme: its own 10 days; globex: the config's entry, 15; initech: the config's default, 30; forever: its own null.
      await store.putWorkspaceSettings({ workspaceId: acme!.id, retentionDays: 10, updatedAt: new Date(T0).toISOString() });
      await store.putWorkspaceSettings({ workspaceId: forever!.id, retentionDays: null, updatedAt: new Date(T0).toISOString() });
      const config: RetentionConfig = { days: 30, workspaces: { globex: { days: 15 }, acme: { days: 1000 } } };
      let now = T0 + 25 * DAY;
      const forgotten: string[] = [];
      const sweep = sweeper(store, config, () => now, { forget: (runIds) => forgotten.push(...runIds) });

      const present = async (slug: string) => {
        const ws = await store.getWorkspaceBySlug(slug);
        const found = await Promise.all(runs.get(slug)!.map((run) => store.getRun(ws!.id, run.id)));
        return found.map((run) => run !== undefined);
      };
      // Day 25: acme's (10 days) and globex's (15) first runs are past; initech's 30 days are not.
      expect(await sweep.sweep()).toEqual({ outcome: "swept", deleted: 2 });
      expect(await present("acme")).toEqual([false, true, true]);
      expect(await present("globex")).toEqual([false, true, true]);
      expect(await present("initech")).toEqual([true, true, true]);
      expect(forgotten.sort()).toEqual([runs.get("acme")![0]!.id, runs.get("globex")![0]!.id].sort());
      expect(await store.readEvents(runs.get("acme")![0]!.id, 0, 10)).toEqual([]);

      // Day 40: acme's and globex's second (ended day 20), initech's first; never a paused run, nor `forever`'s.
      now = T0 + 40 * DAY;
      expect(await sweep.sweep()).toEqual({ outcome: "swept", deleted: 3 });
      expect(await present("acme")).toEqual([false, false, true]);
      expect(await present("globex")).toEqual([false, false, true]);
      expect(await present("initech")).toEqual([false, true, true]);
      expect(await present("forever")).toEqual([true, true, true]);
      expect(sweep.counts).toEqual({ runs: 5, outcomes: ["swept", "swept"] });

      // Without the config, only settings count (acme's 10 days find nothing left to delete): the default keeps forever.
      now = T0 + 3000 * DAY;
      await endedRun(store, acme!.id, T0 + 2000 * DAY);
      expect(await sweeper(store, undefined, () => now).sweep()).toEqual({ outcome: "swept", deleted: 1 });
      expect(await present("globex")).toEqual([false, false, true]);
      expect(await present("initech")).toEqual([false, true, true]);
      expect(await present("forever")).toEqual([true, true, true]);
    });

    it("deletes a backlog larger than a batch in bounded batches, in one round, pausing as long as each batch took", async () => {
      const store = await open();
      const ws = await store.ensureWorkspace("acme");
      for (let i = 0; i < 23; i++) await endedRun(store, ws.id, T0 + i);
      const live = await endedRun(store, ws.id, T0, "running");
      await store.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: 1, updatedAt: new Date(T0).toISOString() });
      const batches: number[] = [];
      const times: Array<{ from: number; to: number }> = [];
      const counting = wrap(store, {
        deleteExpiredRuns: async (workspaceId, endedBefore, batch) => {
          // The default event bound of each store: SQLite's batch holds the process's thread.
          expect(batch).toEqual({ maxRuns: 5, maxEvents: backend.name === "sqlite" ? 2_000 : 50_000 });
          const from = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 40)); // a slow batch
          const result = await store.deleteExpiredRuns(workspaceId, endedBefore, batch);
          batches.push(result.deleted.length);
          times.push({ from, to: performance.now() });
          return result;
        },
      });
      const sweep = sweeper(counting, { batchRuns: 5 }, () => T0 + 2 * DAY);
      expect(await sweep.sweep()).toEqual({ outcome: "swept", deleted: 23 });
      expect(batches).toEqual([5, 5, 5, 5, 3]);
      // Between two batches, a pause about as long as the one before (timers may fire a millisecond early).
      for (let i = 1; i < times.length; i++)
        expect(times[i]!.from - times[i - 1]!.to).toBeGreaterThanOrEqual(times[i - 1]!.to - times[i - 1]!.from - 5);
      expect(await store.getRun(ws.id, live.id)).toMatchObject({ status: "running" });
      expect(await store.listRuns(ws.id, {}, { limit: 100 })).toHaveLength(1);
    });

    it("sweeps on one process of the store at a time", async () => {
      const first = await open();
      const second = await again();
      const ws = await first.ensureWorkspace("acme");
      for (let i = 0; i < 4; i++) await endedRun(first, ws.id, T0);
      await first.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: 1, updatedAt: new Date(T0).toISOString() });
      // The first process's round is held inside its first batch.
      let open_: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (open_ = resolve));
      let entered: () => void = () => undefined;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const held = wrap(first, {
        deleteExpiredRuns: async (...args) => {
          entered();
          await gate;
          return first.deleteExpiredRuns(...args);
        },
      });
      const a = sweeper(held, { batchRuns: 2 }, () => T0 + 2 * DAY);
      const b = sweeper(second, { batchRuns: 2 }, () => T0 + 2 * DAY);
      const roundA = a.sweep();
      await inside;
      expect(await b.sweep()).toEqual({ outcome: "skipped", deleted: 0 });
      open_();
      expect(await roundA).toEqual({ outcome: "swept", deleted: 4 });
      // Released: the other process takes it now (and finds nothing left).
      expect(await b.sweep()).toEqual({ outcome: "swept", deleted: 0 });
      expect(b.counts.outcomes).toEqual(["skipped", "swept"]);
    });

    it("logs a failed round and sweeps again at the next; stops between batches on close", async () => {
      const store = await open();
      const ws = await store.ensureWorkspace("acme");
      for (let i = 0; i < 6; i++) await endedRun(store, ws.id, T0);
      await store.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: 1, updatedAt: new Date(T0).toISOString() });
      const logger = recordingLogger();
      let failures = 1;
      let closing: Promise<void> | undefined;
      let instance: ReturnType<typeof sweeper> | undefined;
      const flaky = wrap(store, {
        deleteExpiredRuns: async (...args) => {
          if (failures-- > 0) throw new Error("database went away");
          const result = await store.deleteExpiredRuns(...args);
          // Shut down during the first batch that succeeds: the round ends after it.
          closing ??= instance!.close();
          return result;
        },
      });
      instance = sweeper(flaky, { batchRuns: 2 }, () => T0 + 2 * DAY, { logger });
      expect(await instance.sweep()).toEqual({ outcome: "failed", deleted: 0 });
      expect(logger.lines).toEqual([
        expect.objectContaining({ level: "error", message: "retention sweep failed; the next round retries" }),
      ]);
      expect(logger.lines[0]!.fields.err).toMatchObject({ message: "database went away" });
      // The lock was given back: the next round takes it, and stops after one batch once closed.
      expect(await instance.sweep()).toEqual({ outcome: "stopped", deleted: 2 });
      await closing;
      expect(await instance.sweep()).toEqual({ outcome: "stopped", deleted: 0 });
      expect(await store.listRuns(ws.id, {}, { limit: 100 })).toHaveLength(4);
      expect(instance.counts.outcomes).toEqual(["failed", "stopped"]);
      // Another process can sweep: nothing was left locked.
      const release = await store.lockTask("retention");
      expect(release).toBeTypeOf("function");
      await release!();
    });

    it("close() during the pause after a long batch ends the round at once", async () => {
      const store = await open();
      const ws = await store.ensureWorkspace("acme");
      for (let i = 0; i < 4; i++) await endedRun(store, ws.id, T0);
      await store.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: 1, updatedAt: new Date(T0).toISOString() });
      let closed: Promise<number> | undefined;
      const slow = wrap(store, {
        deleteExpiredRuns: async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, 400));
          const result = await store.deleteExpiredRuns(...args);
          // Close once the round is in its pause (as long as this batch: 400 ms).
          setTimeout(() => {
            const from = performance.now();
            closed ??= instance.close().then(() => performance.now() - from);
          }, 20);
          return result;
        },
      });
      const instance = sweeper(slow, { batchRuns: 2 }, () => T0 + 2 * DAY);
      expect(await instance.sweep()).toEqual({ outcome: "stopped", deleted: 2 });
      expect(await closed).toBeLessThan(200);
    });

    it("runs on its own every sweepIntervalMs once started, and close() stops it", async () => {
      const store = await open();
      const ws = await store.ensureWorkspace("acme");
      await store.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: 1, updatedAt: new Date(T0).toISOString() });
      const sweep = sweeper(store, { sweepIntervalMs: 100 }, () => T0 + 2 * DAY);
      sweep.start();
      const run = await endedRun(store, ws.id, T0);
      const deadline = Date.now() + 5_000;
      while ((await store.getRun(ws.id, run.id)) !== undefined && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.getRun(ws.id, run.id)).toBeUndefined();
      await sweep.close();
      const rounds = sweep.counts.outcomes.length;
      const later = await endedRun(store, ws.id, T0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sweep.counts.outcomes.length).toBe(rounds);
      expect(await store.getRun(ws.id, later.id)).toBeDefined();
    });
  });
}

describe("retention in the config file", () => {
  it("takes days (1 to 3650 or null) globally and per workspace slug, and names a bad field", () => {
    const retention = {
      days: 90,
      workspaces: { acme: { days: 7 }, audit: { days: null } },
      sweepIntervalMs: 60_000,
      batchRuns: 100,
      batchEvents: 1_000,
    };
    expect(validateConfig({ retention }).retention).toEqual(retention);
    expect(validateConfig({ retention: { days: null } }).retention).toEqual({ days: null });
    for (const [bad, field] of [
      [{ days: 0 }, "retention.days"],
      [{ days: 3651 }, "retention.days"],
      [{ days: 2.5 }, "retention.days"],
      [{ workspaces: { acme: { days: -1 } } }, "retention.workspaces.acme.days"],
      [{ workspaces: { acme: {} } }, "retention.workspaces.acme.days"],
      [{ sweepIntervalMs: 10 }, "retention.sweepIntervalMs"],
      [{ batchRuns: 0 }, "retention.batchRuns"],
      [{ keep: "forever" }, "retention"],
    ] as const) {
      expect(() => validateConfig({ retention: bad })).toThrow(new RegExp(`\\n  ${field.replaceAll(".", "\\.")}: `));
    }
  });
});
