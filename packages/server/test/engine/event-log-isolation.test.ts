import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { postgresEnv } from "../pg-env.js";
import { MemoryEventBus } from "../../src/bus/memory.js";
import { AgentdError } from "../../src/errors.js";
import { EventLog } from "../../src/events/log.js";
import { openStore } from "../../src/store/open.js";
import type { CommitBatch, Store } from "../../src/store/types.js";
import { makeRun } from "../store/contract/contract-fixtures.js";

/*
 * Issue #8: the writes of one event-loop turn share one transaction, so one
 * write the store cannot take used to fail every request of the turn, other
 * workspaces' included (15 of 40 valid creations of another workspace got
 * 503). Now a failed group commit is retried run by run and exactly the
 * faulty run fails, with 400 when its own data is at fault.
 */

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL cases of the commit isolation test");

/** An object nested `depth` levels: JSON.stringify overflows the stack on it, as on the poison bodies the attack sent. */
function deep(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

describe.each(stores)("a group commit with one write the store cannot take (%s)", (_name, open, enabled) => {
  it.skipIf(!enabled)("fails that run alone: 400 for it, every other run of the turn stored", async () => {
    const store = await open();
    try {
      const victims = await store.ensureWorkspace(`victims-${randomBytes(3).toString("hex")}`);
      const attacker = await store.ensureWorkspace(`attacker-${randomBytes(3).toString("hex")}`);
      const errors: unknown[] = [];
      const log = new EventLog(store, new MemoryEventBus(), (error) => errors.push(error));
      const poisoned = makeRun(attacker.id);
      await log.insertRun(poisoned);

      // One turn: 40 valid creations of another workspace, and two writes of the attacker's run that cannot be serialised.
      const good = Array.from({ length: 40 }, () => makeRun(victims.id));
      const created = good.map((run) => log.insertRun(run).then(
        () => "ok",
        (error: unknown) => error,
      ));
      log.patchRun(poisoned.id, { checkpoint: { ...poisoned.checkpoint, dependencies: deep(20_000) } });
      const poisonOutcome = log.flush(poisoned.id).then(
        () => "ok",
        (error: unknown) => error,
      );
      expect(await Promise.all(created)).toEqual(good.map(() => "ok"));
      const failure = await poisonOutcome;
      expect(failure).toBeInstanceOf(AgentdError);
      expect(failure).toMatchObject({ code: "invalid_request" });
      expect((failure as Error).message).not.toMatch(/run_/);
      for (const run of good) expect((await store.getRun(victims.id, run.id))?.id).toBe(run.id);
      // The attacker's run keeps its last good state.
      expect((await store.getRun(attacker.id, poisoned.id))?.checkpoint.dependencies).toBeUndefined();
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!enabled)("refuses a new run it could not serialise before it joins a batch", async () => {
    const store = await open();
    try {
      const workspace = await store.ensureWorkspace(`ws-${randomBytes(3).toString("hex")}`);
      const log = new EventLog(store, new MemoryEventBus(), () => undefined);
      const bad = makeRun(workspace.id, { metadata: { big: 1n } as never });
      expect(() => log.insertRun(bad)).toThrow(AgentdError);
      const fine = makeRun(workspace.id);
      await log.insertRun(fine);
      expect((await store.getRun(workspace.id, fine.id))?.id).toBe(fine.id);
      expect(await store.getRun(workspace.id, bad.id)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe("a failed group commit, with a fake store", () => {
  it("splits by run when the store refused the batch, and keeps it whole in an outage", async () => {
    const commits: CommitBatch[] = [];
    let outage = false;
    const store = {
      commit: async (batch: CommitBatch) => {
        commits.push(batch);
        if (outage) throw new AgentdError("unavailable", "the database is unavailable: ECONNREFUSED");
        if (batch.events.some((event) => event.runId === "run_bad")) throw Object.assign(new Error("value too long"), { code: "22001" });
        return { fenced: [] };
      },
    } as unknown as Store;
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    const event = (seq: number) => ({ seq, at: "2026-12-07T00:00:00.000Z", type: "assistant_delta", text: "x" }) as never;
    log.append("run_bad", event(1));
    log.append("run_good", event(1));
    const [bad, good] = await Promise.all([log.flush("run_bad").catch((error: unknown) => error), log.flush("run_good").then(() => "ok")]);
    expect(good).toBe("ok");
    expect(bad).toMatchObject({ code: "invalid_request" });
    expect(commits.map((batch) => batch.events.map((e) => e.runId))).toEqual([["run_bad", "run_good"], ["run_bad"], ["run_good"]]);

    outage = true;
    log.append("run_x", event(1));
    log.append("run_y", event(1));
    const outcomes = await Promise.all(["run_x", "run_y"].map((runId) => log.flush(runId).catch((error: unknown) => error)));
    expect(outcomes).toEqual([expect.objectContaining({ code: "unavailable" }), expect.objectContaining({ code: "unavailable" })]);
    expect(commits).toHaveLength(4);
  });
});
