import { it, expect } from "vitest";
import { makeRun, WAKE_BASE } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import { LONG } from "./contract-leases.js";
import type { RunCheckpoint, RunRecord } from "../../../src/store/types.js";

/*
 * Paused runs whose deadline has passed, found by any worker: the store
 * derives a run's wake time from every checkpoint it writes (the sooner of
 * pendingDeadline and approvalDeadline), and duePausedRuns lists the paused
 * runs whose time has come. Deadlines here are fixed instants, compared with
 * the `now` given: no waiting.
 */

const checkpoint = (deadlines: Partial<Pick<RunCheckpoint, "pendingDeadline" | "approvalDeadline">>): RunCheckpoint => ({
  messages: [{ role: "user", content: "hi" }],
  toolTurns: 1,
  pending: [],
  pendingDeadline: null,
  inputStart: 0,
  attempt: 1,
  ...deadlines,
});

const due = (run: RunRecord, wakeAt: number) => ({ runId: run.id, workspaceId: run.workspaceId, wakeAt });

export function wakeCases(ctx: ContractContext): void {
  it("lists paused runs whose earliest deadline has come, soonest first, at most `limit`", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const paused = (deadlines: Parameters<typeof checkpoint>[0], workspaceId = ws.id) =>
      makeRun(workspaceId, { status: "paused", checkpoint: checkpoint(deadlines) });
    const local = paused({ pendingDeadline: WAKE_BASE + 300 });
    const approval = paused({ approvalDeadline: WAKE_BASE + 100 }, other.id);
    const both = paused({ pendingDeadline: WAKE_BASE + 500, approvalDeadline: WAKE_BASE + 200 });
    const fraction = paused({ pendingDeadline: WAKE_BASE + 400.25, approvalDeadline: null });
    const none = paused({ approvalDeadline: null });
    const later = paused({ pendingDeadline: WAKE_BASE + 10_000 });
    const running = makeRun(ws.id, { status: "running", checkpoint: checkpoint({ pendingDeadline: WAKE_BASE }) });
    for (const run of [later, none, fraction, both, approval, local, running]) await store.insertRun(run);

    const all = [due(approval, WAKE_BASE + 100), due(both, WAKE_BASE + 200), due(local, WAKE_BASE + 300), due(fraction, WAKE_BASE + 401)];
    expect(await store.duePausedRuns(WAKE_BASE + 1_000, 10)).toEqual(all);
    expect(await store.duePausedRuns(WAKE_BASE + 1_000, 2)).toEqual(all.slice(0, 2));
    expect(await store.duePausedRuns(WAKE_BASE + 200, 10)).toEqual(all.slice(0, 2));
    expect(await store.duePausedRuns(WAKE_BASE + 99, 10)).toEqual([]);
    expect(await store.duePausedRuns(WAKE_BASE + 1_000, 0)).toEqual([]);
    expect(await store.duePausedRuns(WAKE_BASE + 20_000, 10)).toEqual([...all, due(later, WAKE_BASE + 10_000)]);
    // The wake time is the store's own: the record reads back as inserted.
    expect(await store.getRun(ws.id, both.id)).toEqual(both);
  });

  it("follows every checkpoint written, by a plain, a batched or a fenced commit; a run that is not paused is never due", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "running", checkpoint: checkpoint({}) });
    await store.insertRun(run);
    const patch = async (runPatch: Partial<RunRecord>, fence?: { workerId: string; epoch: number }) =>
      store.commit({
        events: [],
        runs: [{ runId: run.id, patch: runPatch }],
        sessions: [],
        ...(fence ? { fences: [{ runId: run.id, ...fence }] } : {}),
      });
    const dueNow = () => store.duePausedRuns(WAKE_BASE + 1_000, 10);

    expect(await dueNow()).toEqual([]);
    await patch({ status: "paused", checkpoint: checkpoint({ pendingDeadline: WAKE_BASE + 50 }) });
    expect(await dueNow()).toEqual([due(run, WAKE_BASE + 50)]);
    await patch({ checkpoint: checkpoint({ pendingDeadline: null, approvalDeadline: WAKE_BASE + 70 }) });
    expect(await dueNow()).toEqual([due(run, WAKE_BASE + 70)]);
    await patch({ status: "running" });
    expect(await dueNow()).toEqual([]);
    // Paused again without a new checkpoint: the last one written still says when.
    await patch({ status: "paused" });
    expect(await dueNow()).toEqual([due(run, WAKE_BASE + 70)]);

    const lease = (await store.claimRun(run.id, "worker-a", LONG, { paused: true }))!.lease;
    await patch({ checkpoint: checkpoint({ pendingDeadline: WAKE_BASE + 30, approvalDeadline: WAKE_BASE + 90 }) }, lease);
    expect(await dueNow()).toEqual([due(run, WAKE_BASE + 30)]);
    await patch({ checkpoint: checkpoint({ pendingDeadline: WAKE_BASE + 5_000 }) }, { workerId: "zombie", epoch: lease.epoch });
    expect(await dueNow()).toEqual([due(run, WAKE_BASE + 30)]);
    await patch({ checkpoint: checkpoint({}) }, lease);
    expect(await dueNow()).toEqual([]);

    const batched = makeRun(ws.id, { status: "paused", checkpoint: checkpoint({ approvalDeadline: WAKE_BASE + 10 }) });
    await store.commit({ newRuns: [batched], events: [], runs: [], sessions: [] });
    expect(await dueNow()).toEqual([due(batched, WAKE_BASE + 10)]);
    await store.commit({
      events: [],
      runs: [{ runId: batched.id, patch: { status: "completed", endedAt: "2025-01-02T00:00:00.000Z" } }],
      sessions: [],
    });
    expect(await dueNow()).toEqual([]);
  });
}
