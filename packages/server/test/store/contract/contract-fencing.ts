import { it, expect } from "vitest";
import { makeEvent, makeEvents, makeRun, rejectsWith } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import { LONG, lapse } from "./contract-leases.js";
import type { Store } from "../../../src/store/types.js";

/*
 * What a commit writes, issue #4 side: a batch's `fences` leave out the
 * writes of a worker whose lease moved on (a zombie), and nothing else.
 * Plus text that PostgreSQL cannot store as is (NUL).
 */

const seqs = async (store: Store, runId: string) => (await store.readEvents(runId, 0, 100)).map((event) => event.seq);

export function fencingCases(ctx: ContractContext): void {
  it("fences a zombie: its events and patch are left out, the rest of the batch commits", async () => {
    const { store, ws } = ctx;
    const [run, bystander] = [makeRun(ws.id, { status: "running" }), makeRun(ws.id)];
    await store.insertRun(run);
    await store.insertRun(bystander);
    const a = (await store.claimRun(run.id, "worker-a", 1))!.lease;
    await lapse();
    const b = (await store.claimRun(run.id, "worker-b", LONG))!.lease;
    expect([a.epoch, b.epoch]).toEqual([1, 2]);

    const zombie = await store.commit({
      events: [...makeEvents(run.id, 1, 3), makeEvent(bystander.id, 1)],
      runs: [
        { runId: run.id, patch: { lastSeq: 3, text: "zombie" } },
        { runId: bystander.id, patch: { lastSeq: 1 } },
      ],
      sessions: [],
      fences: [{ runId: run.id, workerId: "worker-a", epoch: a.epoch }],
    });
    expect(zombie).toEqual({ fenced: [run.id] });
    expect(await seqs(store, run.id)).toEqual([]);
    expect(await store.getRun(ws.id, run.id)).toEqual(run);
    expect(await seqs(store, bystander.id)).toEqual([1]);
    expect((await store.getRun(ws.id, bystander.id))?.lastSeq).toBe(1);

    const fence = { runId: run.id, workerId: "worker-b", epoch: b.epoch };
    const live = { events: makeEvents(run.id, 1, 2), runs: [{ runId: run.id, patch: { lastSeq: 2 } }], sessions: [], fences: [fence] };
    expect(await store.commit(live)).toEqual({ fenced: [] });
    expect(await seqs(store, run.id)).toEqual([1, 2]);
    // The zombie again, now with seqs the holder wrote: still left out, not a conflict.
    const late = await store.commit({
      events: [makeEvent(run.id, 2)],
      runs: [],
      sessions: [],
      fences: [{ ...fence, workerId: "worker-a", epoch: 1 }],
    });
    expect(late).toEqual({ fenced: [run.id] });
    expect(await store.renewLeases("worker-a", [{ runId: run.id, epoch: a.epoch }], LONG)).toEqual([run.id]);
    expect(await store.releaseRun(run.id, "worker-a", a.epoch)).toBe(false);
    expect(await store.renewLeases("worker-b", [{ runId: run.id, epoch: b.epoch }], LONG)).toEqual([]);

    // A duplicate seq of the holder still fails the whole batch, as without fences.
    await rejectsWith(
      store.commit({ ...live, events: [makeEvent(run.id, 3), makeEvent(run.id, 2)], runs: [{ runId: run.id, patch: { lastSeq: 3 } }] }),
      "conflict",
    );
    expect(await seqs(store, run.id)).toEqual([1, 2]);
    // Fencing a run nobody leases (or that does not exist) leaves it out too.
    expect(
      await store.commit({
        events: [makeEvent(bystander.id, 2)],
        runs: [],
        sessions: [],
        fences: [
          { runId: bystander.id, workerId: "worker-a", epoch: 0 },
          { runId: "run_missing", workerId: "worker-a", epoch: 1 },
        ],
      }),
    ).toEqual({ fenced: [bystander.id, "run_missing"] });
    expect(await store.commit({ events: [makeEvent(bystander.id, 2)], runs: [], sessions: [] })).toEqual({ fenced: [] });
    expect(await store.commit({ events: [], runs: [], sessions: [] })).toEqual({ fenced: [] });
    // One run fenced with two different leases is a caller bug, refused whole.
    const twice = { events: [makeEvent(bystander.id, 3)], runs: [], sessions: [], fences: [fence, { ...fence, epoch: 9 }] };
    await expect(store.commit(twice)).rejects.toThrow(TypeError);
    expect(await seqs(store, bystander.id)).toEqual([1, 2]);
  });

  it("stores NUL in a run's text and error as U+FFFD (PostgreSQL text cannot hold NUL; every store does the same)", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { text: "a\u0000b", error: "\u0000" });
    await store.insertRun(run);
    expect(await store.getRun(ws.id, run.id)).toEqual({ ...run, text: "a\uFFFDb", error: "\uFFFD" });
    await store.commit({ events: [], runs: [{ runId: run.id, patch: { text: "c\u0000\u0000", error: null } }], sessions: [] });
    expect(await store.getRun(ws.id, run.id)).toEqual({ ...run, text: "c\uFFFD\uFFFD", error: null });
  });
}
