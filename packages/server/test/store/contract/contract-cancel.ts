import { it, expect } from "vitest";
import type { RunStatus } from "@agentd/protocol";
import { makeEvents, makeRun } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import { LONG } from "./contract-leases.js";

/*
 * Cancel requests: `requestCancel` records why a run should stop
 * (`RunRecord.cancelRequested`) on a run that has not ended, without a
 * lease; the worker holding the run reads it back and acts on it.
 */

export function cancelCases(ctx: ContractContext): void {
  it("inserts runs without a cancel request, whatever the record says", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { cancelRequested: "smuggled in" });
    const batched = makeRun(ws.id, { cancelRequested: "smuggled in" });
    await store.insertRun(run);
    await store.commit({ newRuns: [batched], events: [], runs: [], sessions: [] });
    expect(await store.getRun(ws.id, run.id)).toEqual({ ...run, cancelRequested: null });
    expect(await store.getRun(ws.id, batched.id)).toEqual({ ...batched, cancelRequested: null });
  });

  it("records a cancel request on a queued, running or paused run, visible to every reader", async () => {
    const { store, ws } = ctx;
    for (const status of ["queued", "running", "paused"] satisfies RunStatus[]) {
      const run = makeRun(ws.id, { status });
      await store.insertRun(run);
      expect(await store.requestCancel(run.id, `stop ${status}`), status).toBe(true);
      const expected = { ...run, cancelRequested: `stop ${status}` };
      expect(await store.getRun(ws.id, run.id)).toEqual(expected);
      expect(await store.listRuns(ws.id, { statuses: [status] }, { limit: 10 })).toEqual([expected]);
      expect(await store.listRunsByStatus([status])).toEqual([expected]);
      const claim = await store.claimRun(run.id, "worker-a", LONG, { paused: true });
      expect(claim?.record).toEqual(expected);
    }
  });

  it("records a cancel request while another worker holds the run (no lease needed); a later one replaces the reason", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "running" });
    await store.insertRun(run);
    const held = (await store.claimRun(run.id, "worker-a", LONG))!.lease;
    expect(await store.requestCancel(run.id, "user asked")).toBe(true);
    expect(await store.requestCancel(run.id, "user asked again")).toBe(true);
    // The holder sees it when it claims again; the lease did not move.
    const again = await store.claimRun(run.id, "worker-a", LONG);
    expect(again?.lease.epoch).toBe(held.epoch + 1);
    expect(again?.record.cancelRequested).toBe("user asked again");
  });

  it("refuses a cancel request on an ended or missing run, and changes nothing", async () => {
    const { store, ws } = ctx;
    for (const status of ["completed", "failed", "cancelled"] satisfies RunStatus[]) {
      const run = makeRun(ws.id, { status, endedAt: "2025-01-02T00:00:00.000Z" });
      await store.insertRun(run);
      expect(await store.requestCancel(run.id, "too late"), status).toBe(false);
      expect(await store.getRun(ws.id, run.id)).toEqual(run);
    }
    expect(await store.requestCancel("run_missing", "nobody")).toBe(false);
    expect(await store.getRun(ws.id, "run_missing")).toBeUndefined();
  });

  it("keeps the cancel request across commits that patch the run's other fields, fenced or not", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "running" });
    await store.insertRun(run);
    const lease = (await store.claimRun(run.id, "worker-a", LONG))!.lease;
    expect(await store.requestCancel(run.id, "budget")).toBe(true);
    await store.commit({
      events: makeEvents(run.id, 1, 2),
      runs: [{ runId: run.id, patch: { lastSeq: 2, text: "partial" } }],
      sessions: [],
      fences: [{ runId: run.id, workerId: "worker-a", epoch: lease.epoch }],
    });
    await store.commit({
      events: [makeEvents(run.id, 3, 3)[0]!],
      runs: [{ runId: run.id, patch: { status: "cancelled", lastSeq: 3, endedAt: "2025-01-02T00:00:00.000Z" } }],
      sessions: [],
    });
    expect(await store.getRun(ws.id, run.id)).toEqual({
      ...run,
      status: "cancelled",
      text: "partial",
      lastSeq: 3,
      endedAt: "2025-01-02T00:00:00.000Z",
      cancelRequested: "budget",
    });
    // Ended now: a further request is refused and the recorded reason stays.
    expect(await store.requestCancel(run.id, "again")).toBe(false);
    expect((await store.getRun(ws.id, run.id))?.cancelRequested).toBe("budget");
  });

  it("stores a reason with NUL as U+FFFD, as it does run text", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id);
    await store.insertRun(run);
    expect(await store.requestCancel(run.id, "a\0b ✓")).toBe(true);
    expect((await store.getRun(ws.id, run.id))?.cancelRequested).toBe("a\uFFFDb ✓");
  });
}
