import { it, expect } from "vitest";
import { makeEvents, makeRun } from "./contract-fixtures.js";
import type { ContractContext, ContractOptions } from "./contract.js";
import type { RunStatus } from "@agentd/protocol";

/*
 * Leases (issue #4): a worker claims a run with a fencing epoch, renews it
 * by heartbeat, and every write it makes carries the epoch, so a worker that
 * paused and came back (a zombie) writes nothing once its run moved on.
 * Lapsing is real time: a lease of 1 ms and a short wait, measured against
 * the store's clock (the database server's, for PostgreSQL).
 */

/** A lease that outlives any case. */
export const LONG = 60_000;
/** Outwaits a lease of 1 ms. */
export const lapse = () => new Promise((resolve) => setTimeout(resolve, 30));

export function leaseCases(ctx: ContractContext, options: ContractOptions): void {
  it("claims a queued or running run with a new epoch each time; never a run held by another, paused, ended or missing", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id);
    await store.insertRun(run);
    const before = Date.now();
    const first = await store.claimRun(run.id, "worker-a", LONG);
    expect(first?.lease).toMatchObject({ runId: run.id, workerId: "worker-a", epoch: 1 });
    // The store's clock: allow for a database server on another machine.
    expect(first!.lease.expiresAt).toBeGreaterThan(before + LONG - 5_000);
    expect(first!.lease.expiresAt).toBeLessThan(Date.now() + LONG + 5_000);
    expect(first!.record).toEqual(run);

    expect(await store.claimRun(run.id, "worker-b", LONG)).toBeUndefined();
    // The record is the run as stored now, and the holder may claim again (a new epoch).
    await store.commit({
      events: makeEvents(run.id, 1, 2),
      runs: [{ runId: run.id, patch: { status: "running", lastSeq: 2 } }],
      sessions: [],
    });
    const again = await store.claimRun(run.id, "worker-a", LONG);
    expect(again?.lease.epoch).toBe(2);
    expect(again?.record).toEqual({ ...run, status: "running", lastSeq: 2 });

    for (const status of ["paused", "completed", "failed", "cancelled"] satisfies RunStatus[]) {
      const other = makeRun(ws.id, { status });
      await store.insertRun(other);
      expect(await store.claimRun(other.id, "worker-a", LONG), status).toBeUndefined();
    }
    expect(await store.claimRun("run_missing", "worker-a", LONG)).toBeUndefined();
  });

  it("claims a paused run only when asked to (`paused: true`), under the same rules", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "paused" });
    await store.insertRun(run);
    expect(await store.claimRun(run.id, "worker-a", LONG)).toBeUndefined();
    expect(await store.claimRun(run.id, "worker-a", LONG, {})).toBeUndefined();
    expect(await store.claimRun(run.id, "worker-a", LONG, { paused: false })).toBeUndefined();
    const first = await store.claimRun(run.id, "worker-a", LONG, { paused: true });
    expect(first?.lease).toMatchObject({ runId: run.id, workerId: "worker-a", epoch: 1 });
    expect(first?.record).toEqual(run);
    // Held by A with a live lease: B cannot take it, with or without the option.
    expect(await store.claimRun(run.id, "worker-b", LONG, { paused: true })).toBeUndefined();
    expect(await store.claimRun(run.id, "worker-b", LONG)).toBeUndefined();
    // The holder may claim again (a new epoch), and the lease fences as any other.
    expect((await store.claimRun(run.id, "worker-a", LONG, { paused: true }))?.lease.epoch).toBe(2);
    expect(await store.renewLeases("worker-a", [{ runId: run.id, epoch: 2 }], LONG)).toEqual([]);
    expect(await store.releaseRun(run.id, "worker-a", 2)).toBe(true);
    expect((await store.claimRun(run.id, "worker-b", 1, { paused: true }))?.lease.epoch).toBe(3);
    // Lapsed: the next claimant with the option takes it; still never without it.
    await lapse();
    expect(await store.claimRun(run.id, "worker-a", LONG)).toBeUndefined();
    expect((await store.claimRun(run.id, "worker-a", LONG, { paused: true }))?.lease.epoch).toBe(4);
    // Ended runs and missing ones stay unclaimable, and the option does not make a live run unclaimable.
    for (const status of ["completed", "failed", "cancelled"] satisfies RunStatus[]) {
      const ended = makeRun(ws.id, { status });
      await store.insertRun(ended);
      expect(await store.claimRun(ended.id, "worker-a", LONG, { paused: true }), status).toBeUndefined();
    }
    expect(await store.claimRun("run_missing", "worker-a", LONG, { paused: true })).toBeUndefined();
    for (const status of ["queued", "running"] satisfies RunStatus[]) {
      const live = makeRun(ws.id, { status });
      await store.insertRun(live);
      expect((await store.claimRun(live.id, "worker-a", LONG, { paused: true }))?.lease.epoch, status).toBe(1);
    }
  });

  it("does not count a paused run held under a lapsed lease as an orphan", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "paused" });
    await store.insertRun(run);
    expect((await store.claimRun(run.id, "worker-a", 1, { paused: true }))?.lease.epoch).toBe(1);
    await lapse();
    expect((await store.orphanedRuns(10, 0)).map((orphan) => orphan.runId)).not.toContain(run.id);
  });

  it("hands a lapsed lease to the next claimant, and of many concurrent claims exactly one wins", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "running" });
    await store.insertRun(run);
    expect((await store.claimRun(run.id, "worker-a", 1))?.lease.epoch).toBe(1);
    await lapse();
    // Warm a pooled store's connections first, so the claims truly overlap.
    await Promise.all(Array.from({ length: 8 }, () => store.getRun(ws.id, run.id)));
    const workers = Array.from({ length: 8 }, (_, index) => `worker-${index}`);
    const claims = await Promise.all(workers.map((worker) => store.claimRun(run.id, worker, LONG)));
    const winners = claims.filter((claim) => claim !== undefined);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.lease.epoch).toBe(2);
    expect(await store.claimRun(run.id, "worker-a", LONG)).toBeUndefined();
  });

  it("renews only the leases still held, in one call, and reports the others as lost", async () => {
    const { store, ws } = ctx;
    const [kept, taken, released] = [makeRun(ws.id), makeRun(ws.id), makeRun(ws.id)];
    for (const run of [kept, taken, released]) await store.insertRun(run);
    const a = await Promise.all([kept, taken, released].map((run) => store.claimRun(run.id, "worker-a", 1)));
    await lapse();
    expect((await store.claimRun(taken.id, "worker-b", LONG))?.lease.epoch).toBe(2);
    expect(await store.releaseRun(released.id, "worker-a", 1)).toBe(true);
    const held = a.map((claim) => ({ runId: claim!.lease.runId, epoch: claim!.lease.epoch }));
    const lost = await store.renewLeases("worker-a", [...held, { runId: "run_missing", epoch: 1 }], LONG);
    expect(lost.sort()).toEqual([taken.id, released.id, "run_missing"].sort());
    // The renewed lease (it had lapsed, but nobody had taken it) is live again.
    await lapse();
    expect(await store.claimRun(kept.id, "worker-b", LONG)).toBeUndefined();
    expect(await store.renewLeases("worker-b", [{ runId: kept.id, epoch: 1 }], LONG)).toEqual([kept.id]);
    expect(await store.renewLeases("worker-a", [], LONG)).toEqual([]);
  });

  it("releases a lease only with its epoch; the epoch keeps growing after a release", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id);
    await store.insertRun(run);
    await store.claimRun(run.id, "worker-a", LONG);
    expect(await store.releaseRun(run.id, "worker-a", 2)).toBe(false);
    expect(await store.releaseRun(run.id, "worker-b", 1)).toBe(false);
    expect(await store.releaseRun(run.id, "worker-a", 1)).toBe(true);
    expect(await store.releaseRun(run.id, "worker-a", 1)).toBe(false);
    expect((await store.claimRun(run.id, "worker-b", LONG))?.lease.epoch).toBe(2);
  });

  it("finds orphans: live runs whose lease lapsed or that nobody claimed in time, oldest first", async () => {
    const { store, ws } = ctx;
    const make = (status: RunStatus, createdAt?: string) => makeRun(ws.id, { status, ...(createdAt ? { createdAt } : {}) });
    const unclaimed = make("queued");
    const [lapsed, live, paused, done] = [make("running"), make("running"), make("running"), make("completed")];
    // Unowned for 10 s: young for a 60 s grace, old for a 1 s one (whatever
    // the skew between this clock and a database server's, within 9 s).
    const fresh = make("queued", new Date(Date.now() - 10_000).toISOString());
    const other = await store.ensureWorkspace("globex");
    const elsewhere = makeRun(other.id, { status: "running" });
    for (const run of [fresh, elsewhere, done, paused, live, lapsed, unclaimed]) await store.insertRun(run);
    await store.claimRun(lapsed.id, "worker-a", 1);
    await store.claimRun(live.id, "worker-a", LONG);
    const pausing = await store.claimRun(paused.id, "worker-a", 1);
    // A run that pauses holds no lease: it is nobody's orphan, and nobody can claim it.
    await store.commit({
      events: [],
      runs: [{ runId: paused.id, patch: { status: "paused" } }],
      sessions: [],
      fences: [{ runId: paused.id, workerId: "worker-a", epoch: pausing!.lease.epoch }],
    });
    expect(await store.releaseRun(paused.id, "worker-a", pausing!.lease.epoch)).toBe(true);
    await lapse();

    expect(await store.orphanedRuns(10, LONG)).toEqual([
      { runId: unclaimed.id, workspaceId: ws.id },
      { runId: lapsed.id, workspaceId: ws.id },
      { runId: elsewhere.id, workspaceId: other.id },
    ]);
    expect(await store.orphanedRuns(1, LONG)).toEqual([{ runId: unclaimed.id, workspaceId: ws.id }]);
    expect(await store.orphanedRuns(0, LONG)).toEqual([]);
    expect(await store.claimRun(paused.id, "worker-b", LONG)).toBeUndefined();
    expect((await store.orphanedRuns(10, 1_000)).map((orphan) => orphan.runId)).toContain(fresh.id);
  });

  // Only stores that can be reopened (a file, a server) have this case; an in-memory one cannot.
  if (options.reopen)
    it("keeps leases across close and reopen", async () => {
      const { store, ws } = ctx;
      const run = makeRun(ws.id);
      await store.insertRun(run);
      const lease = (await store.claimRun(run.id, "worker-a", LONG))!.lease;
      await store.close();
      const reopened = (ctx.store = await options.reopen!());
      expect(await reopened.claimRun(run.id, "worker-b", LONG)).toBeUndefined();
      expect(await reopened.renewLeases("worker-a", [{ runId: run.id, epoch: lease.epoch }], LONG)).toEqual([]);
      expect(await reopened.releaseRun(run.id, "worker-a", lease.epoch)).toBe(true);
      expect((await reopened.claimRun(run.id, "worker-b", LONG))?.lease.epoch).toBe(2);
    });
}
