import { it, expect } from "vitest";
import type { RunStatus } from "@agentd/protocol";
import { makeRun } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";

/*
 * Cancel requests read back in bulk: a worker asks, for the runs it holds,
 * which ones have a cancel request recorded (Store.requestCancel), in case
 * the pub/sub message that should have told it was lost.
 */

export function cancelRequestCases(ctx: ContractContext): void {
  it("answers which of the given runs have a cancel request, with its reason, ordered by runId", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const make = (status: RunStatus, workspaceId = ws.id) => makeRun(workspaceId, { status });
    const [queued, running, paused, quiet, elsewhere, ended] = [
      make("queued"),
      make("running"),
      make("paused"),
      make("running"),
      make("running", other.id),
      make("running"),
    ];
    for (const run of [queued, running, paused, quiet, elsewhere, ended]) await store.insertRun(run);
    for (const run of [queued, running, paused, elsewhere, ended]) expect(await store.requestCancel(run.id, `stop ${run.id}`)).toBe(true);
    // Ended after the request: the request stays, and is reported.
    await store.commit({
      events: [],
      runs: [{ runId: ended.id, patch: { status: "cancelled", endedAt: "2025-01-02T00:00:00.000Z" } }],
      sessions: [],
    });
    await store.requestCancel(running.id, "a\0b");

    const asked = [ended.id, quiet.id, "run_missing", running.id, paused.id, elsewhere.id, running.id];
    const expected = [ended, running, paused, elsewhere]
      .map((run) => ({ runId: run.id, reason: run === running ? "a\uFFFDb" : `stop ${run.id}` }))
      .sort((a, b) => (a.runId < b.runId ? -1 : 1));
    expect(await store.cancelRequests(asked)).toEqual(expected);
    expect(await store.cancelRequests([quiet.id, "run_missing"])).toEqual([]);
    expect(await store.cancelRequests([])).toEqual([]);
  });

  it("answers for thousands of runs in one call", async () => {
    const { store, ws } = ctx;
    const runs = [makeRun(ws.id), makeRun(ws.id)];
    for (const run of runs) await store.insertRun(run);
    await store.requestCancel(runs[1]!.id, "late");
    const asked = [...Array.from({ length: 5_000 }, (_, index) => `run_absent_${index}`), ...runs.map((run) => run.id)];
    expect(await store.cancelRequests(asked)).toEqual([{ runId: runs[1]!.id, reason: "late" }]);
  });
}
