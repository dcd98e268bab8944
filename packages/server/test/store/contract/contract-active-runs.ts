import { expect, it } from "vitest";
import type { RunStatus } from "@agentd/protocol";
import { makeRun } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";

/* Counting a workspace's unfinished runs, for per-workspace caps. */

export function activeRunCases(ctx: ContractContext): void {
  it("counts a workspace's queued, running and paused runs, not ended ones nor other workspaces'", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    expect(await store.countActiveRuns(ws.id)).toEqual({ queued: 0, running: 0, paused: 0 });

    const mine: RunStatus[] = ["queued", "queued", "queued", "running", "running", "paused", "completed", "failed", "cancelled"];
    const runs = mine.map((status) => makeRun(ws.id, { status }));
    for (const run of runs) await store.insertRun(run);
    for (const status of ["running", "paused", "paused"] as const) await store.insertRun(makeRun(other.id, { status }));
    expect(await store.countActiveRuns(ws.id)).toEqual({ queued: 3, running: 2, paused: 1 });
    expect(await store.countActiveRuns(other.id)).toEqual({ queued: 0, running: 1, paused: 2 });
    expect(await store.countActiveRuns("ws_missing")).toEqual({ queued: 0, running: 0, paused: 0 });

    // A run that starts, and one that ends, move between the counts at once.
    await store.commit({
      events: [],
      runs: [
        { runId: runs[0]!.id, patch: { status: "running" } },
        { runId: runs[3]!.id, patch: { status: "completed", endedAt: "2025-01-02T00:00:00.000Z" } },
      ],
      sessions: [],
    });
    expect(await store.countActiveRuns(ws.id)).toEqual({ queued: 2, running: 2, paused: 1 });
  });
}
