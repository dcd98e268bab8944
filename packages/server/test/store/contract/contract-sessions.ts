import { it, expect } from "vitest";
import { makeRun, makeSession, rejectsWith } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";

/** A session runs one thing at a time: claiming it is atomic with inserting the run. */
export function sessionCases(ctx: ContractContext): void {
  it("claims a session for one run at a time", async () => {
    const { store, ws } = ctx;
    const session = makeSession(ws.id);
    await store.insertSession(session);
    const first = makeRun(ws.id, { sessionId: session.id });
    await store.insertRun(first, { claimSession: session.id });
    expect((await store.getSession(ws.id, session.id))?.activeRunId).toBe(first.id);

    const second = makeRun(ws.id, { sessionId: session.id });
    await rejectsWith(store.insertRun(second, { claimSession: session.id }), "session_busy");
    expect(await store.getRun(ws.id, second.id)).toBeUndefined();

    await store.commit({ events: [], runs: [{ runId: first.id, patch: { status: "completed" } }], sessions: [{ sessionId: session.id, patch: { activeRunId: null } }] });
    await store.insertRun(second, { claimSession: session.id });
    expect((await store.getSession(ws.id, session.id))?.activeRunId).toBe(second.id);

    await store.updateSession(session.id, { activeRunId: null, status: "ended", endedAt: "2025-04-04T00:00:00.000Z" });
    const third = makeRun(ws.id);
    await rejectsWith(store.insertRun(third, { claimSession: session.id }), "session_ended");
    await rejectsWith(store.insertRun(third, { claimSession: "ses_missing" }), "not_found");
    const elsewhere = makeSession(ws.id);
    await store.insertSession(elsewhere);
    const other = await store.ensureWorkspace("globex");
    await rejectsWith(store.insertRun(makeRun(other.id), { claimSession: elsewhere.id }), "not_found");
    expect((await store.getSession(ws.id, elsewhere.id))?.activeRunId).toBeNull();
    expect(await store.getRun(ws.id, third.id)).toBeUndefined();
  });

  it("lets exactly one of many concurrent claims win; a claim whose run is refused leaves the session free", async () => {
    const { store, ws } = ctx;
    const session = makeSession(ws.id);
    await store.insertSession(session);
    const existing = makeRun(ws.id);
    await store.insertRun(existing);
    // The run id is taken: the insert fails after the session row was checked, and the claim goes with it.
    await rejectsWith(store.insertRun({ ...existing, sessionId: session.id }, { claimSession: session.id }), "conflict");
    expect((await store.getSession(ws.id, session.id))?.activeRunId).toBeNull();

    // Concurrent reads first, so a pooled store has its connections open and the claims truly overlap.
    await Promise.all(Array.from({ length: 8 }, () => store.getSession(ws.id, session.id)));
    const contenders = Array.from({ length: 8 }, () => makeRun(ws.id, { sessionId: session.id }));
    const outcomes = await Promise.allSettled(contenders.map((run) => store.insertRun(run, { claimSession: session.id })));
    const winners = contenders.filter((_, index) => outcomes[index]!.status === "fulfilled");
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === "rejected") expect(outcome.reason).toMatchObject({ code: "session_busy" });
    expect((await store.getSession(ws.id, session.id))?.activeRunId).toBe(winners[0]!.id);
    for (const run of contenders) expect(await store.getRun(ws.id, run.id)).toEqual(run === winners[0] ? run : undefined);
  });
}
