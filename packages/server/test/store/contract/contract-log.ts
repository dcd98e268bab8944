import { it, expect } from "vitest";
import { makeEvent, makeEvents, makeRun, makeSession, rejectsWith } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import type { RunCheckpoint } from "../../../src/store/types.js";

/** The event log and state patches: group commits, reads, atomicity. */
export function logCases(ctx: ContractContext): void {
  it("commits a batch atomically: a duplicate seq leaves nothing of the batch behind", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id);
    const session = makeSession(ws.id);
    await store.insertSession(session);
    await store.insertRun(run);
    await store.commit({ events: makeEvents(run.id, 1, 3), runs: [{ runId: run.id, patch: { lastSeq: 3, status: "running" } }], sessions: [] });
    const before = { run: await store.getRun(ws.id, run.id), session: await store.getSession(ws.id, session.id) };

    const bad = [makeEvent(run.id, 4), makeEvent(run.id, 5), makeEvent(run.id, 2, "result")];
    await rejectsWith(
      store.commit({
        events: bad,
        runs: [{ runId: run.id, patch: { lastSeq: 5, status: "completed", text: "done" } }],
        sessions: [{ sessionId: session.id, patch: { lastUsedAt: "2030-01-01T00:00:00.000Z" } }],
      }),
      "conflict",
    );
    await rejectsWith(store.commit({ events: [makeEvent(run.id, 4), makeEvent(run.id, 4)], runs: [], sessions: [] }), "conflict");
    expect((await store.readEvents(run.id, 0, 100)).map((event) => event.seq)).toEqual([1, 2, 3]);
    expect((await store.readEvents(run.id, 1, 1))[0]).toEqual(makeEvent(run.id, 2));
    expect(await store.getRun(ws.id, run.id)).toEqual(before.run);
    expect(await store.getSession(ws.id, session.id)).toEqual(before.session);
  });

  it("inserts new runs in the commit, before their events; a failing batch inserts none of them", async () => {
    const { store, ws } = ctx;
    const first = makeRun(ws.id);
    const second = makeRun(ws.id);
    await store.commit({ newRuns: [first, second], events: [...makeEvents(first.id, 1, 2), makeEvent(second.id, 1)], runs: [{ runId: first.id, patch: { lastSeq: 2 } }], sessions: [] });
    expect(await store.getRun(ws.id, first.id)).toEqual({ ...first, lastSeq: 2 });
    expect((await store.readEvents(second.id, 0, 10)).map((event) => event.seq)).toEqual([1]);

    const third = makeRun(ws.id);
    await rejectsWith(store.commit({ newRuns: [third], events: [makeEvent(third.id, 1), makeEvent(first.id, 1)], runs: [], sessions: [] }), "conflict");
    expect(await store.getRun(ws.id, third.id)).toBeUndefined();
    await rejectsWith(store.commit({ newRuns: [first], events: [], runs: [], sessions: [] }), "conflict");
  });

  it("refuses events and patches for a run or session that does not exist", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id);
    await store.insertRun(run);
    await rejectsWith(store.commit({ events: [makeEvent(run.id, 1), makeEvent("run_missing", 1)], runs: [], sessions: [] }), "not_found");
    await rejectsWith(store.commit({ events: [makeEvent(run.id, 1)], runs: [{ runId: "run_missing", patch: { status: "running" } }], sessions: [] }), "not_found");
    await rejectsWith(store.updateSession("ses_missing", { status: "ended" }), "not_found");
    expect(await store.readEvents(run.id, 0, 10)).toEqual([]);

    // The last write of a batch failing undoes the first ones: new runs, events, patches.
    const fresh = makeRun(ws.id);
    await rejectsWith(
      store.commit({
        newRuns: [fresh],
        events: [makeEvent(fresh.id, 1), makeEvent(run.id, 1)],
        runs: [{ runId: run.id, patch: { status: "running", lastSeq: 1 } }],
        sessions: [{ sessionId: "ses_missing", patch: { lastUsedAt: "2030-01-01T00:00:00.000Z" } }],
      }),
      "not_found",
    );
    expect(await store.getRun(ws.id, fresh.id)).toBeUndefined();
    expect(await store.getRun(ws.id, run.id)).toEqual(run);
    expect(await store.readEvents(run.id, 0, 10)).toEqual([]);
    // An empty patch changes nothing, so it needs no row (as in SQLite).
    await store.commit({ events: [], runs: [{ runId: "run_missing", patch: {} }], sessions: [] });
  });

  it("reads events after a seq, ascending, a page at a time, one run only", async () => {
    const { store, ws } = ctx;
    const [a, b] = [makeRun(ws.id), makeRun(ws.id)];
    await store.insertRun(a);
    await store.insertRun(b);
    const shuffled = [...makeEvents(a.id, 6, 10), ...makeEvents(b.id, 1, 3), ...makeEvents(a.id, 1, 5)];
    await store.commit({ events: shuffled, runs: [], sessions: [] });
    const seqs = async (after: number, limit: number) => (await store.readEvents(a.id, after, limit)).map((event) => event.seq);
    expect(await seqs(0, 4)).toEqual([1, 2, 3, 4]);
    expect(await seqs(4, 4)).toEqual([5, 6, 7, 8]);
    expect(await seqs(8, 4)).toEqual([9, 10]);
    expect(await seqs(10, 4)).toEqual([]);
    expect(await store.readEvents(a.id, 0, 100)).toEqual(makeEvents(a.id, 1, 10));
    expect(await store.readEvents("run_missing", 0, 10)).toEqual([]);
  });

  it("changes only patched fields and round-trips JSON exactly", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { metadata: { "user.name": "Zoë 🚀", quote: 'say "hi"\n' } });
    await store.insertRun(run);
    expect(await store.getRun(ws.id, run.id)).toEqual(run);
    await store.commit({ events: [], runs: [{ runId: run.id, patch: { status: "running", startedAt: "2025-02-02T00:00:00.000Z" } }], sessions: [] });
    expect(await store.getRun(ws.id, run.id)).toEqual({ ...run, status: "running", startedAt: "2025-02-02T00:00:00.000Z" });

    const checkpoint: RunCheckpoint = {
      messages: [
        { role: "user", content: "what time is it?" },
        { role: "assistant", content: "", toolCalls: [{ toolUseId: "tu_1", name: "clock", args: { zone: "UTC", nested: { list: [1, 2.5, null, true] } } }] },
        { role: "tool", toolUseId: "tu_1", name: "clock", result: "12:00" },
      ],
      toolTurns: 1,
      pending: [{ toolUseId: "tu_2", name: "fetch", args: {}, executor: "server", approval: "approved", error: "timed out" }],
      pendingDeadline: 1_750_000_000_123,
      inputStart: 0,
      attempt: 2,
    };
    const usage = { inputTokens: 1200, outputTokens: 34, totalTokens: 1234, costUsd: 0.000_123_4 };
    await store.commit({ events: [], runs: [{ runId: run.id, patch: { checkpoint, usage, error: null, text: undefined } }], sessions: [] });
    const stored = await store.getRun(ws.id, run.id);
    expect(stored).toEqual({ ...run, status: "running", startedAt: "2025-02-02T00:00:00.000Z", checkpoint, usage });
    expect(JSON.stringify(stored?.checkpoint)).toBe(JSON.stringify(checkpoint));

    const session = makeSession(ws.id);
    await store.insertSession(session);
    const messages = [{ role: "user" as const, content: "hi" }, { role: "assistant" as const, content: "hello ✓" }];
    await store.updateSession(session.id, { messages, lastUsedAt: "2025-03-03T00:00:00.000Z" });
    expect(await store.getSession(ws.id, session.id)).toEqual({ ...session, messages, lastUsedAt: "2025-03-03T00:00:00.000Z" });
    expect(await store.getSession((await store.ensureWorkspace("globex")).id, session.id)).toBeUndefined();
  });
}
