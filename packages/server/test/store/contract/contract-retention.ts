import type { RunStatus } from "@agentd/protocol";
import { expect, it } from "vitest";
import { makeEvent, makeRun } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import type { RunRecord, SpanRecord, Store } from "../../../src/store/types.js";

/*
 * Retention (issue #11): a workspace's own settings, and the sweep's bounded
 * deletes of ended runs older than a cutoff, with their events and spans;
 * live runs, recent runs and other workspaces' runs stay.
 */

const CUTOFF = "2025-06-01T00:00:00.000Z";
const OLD = "2025-01-01T00:00:00.000Z";
const RECENT = "2025-07-01T00:00:00.000Z";
const BIG = { maxRuns: 1000, maxEvents: 1_000_000 };

/** A run created and (when ended) ended at these instants, with `events` events and one span. */
async function storedRun(
  store: Store,
  workspaceId: string,
  status: RunStatus,
  created: string,
  ended: string | null,
  events = 2,
): Promise<RunRecord> {
  const run = makeRun(workspaceId, { status, createdAt: created, startedAt: created, endedAt: ended });
  await store.insertRun(run);
  const span: SpanRecord = {
    runId: run.id,
    spanId: "aaaa000000000001",
    parentSpanId: null,
    name: "run",
    kind: "agent",
    attempt: 1,
    startedAt: created,
    endedAt: ended,
    status: "ok",
    error: null,
    attributes: {},
  };
  const spanned = events > 0 ? [span] : [];
  await store.commit({
    events: Array.from({ length: events }, (_, i) => makeEvent(run.id, i + 1)),
    runs: [{ runId: run.id, patch: { lastSeq: events } }],
    sessions: [],
    spans: spanned,
  });
  return { ...run, lastSeq: events };
}

export function retentionCases(ctx: ContractContext): void {
  it("keeps a workspace's settings: upsert, read, list with every workspace, delete", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    expect(await store.getWorkspaceSettings(ws.id)).toBeUndefined();
    await store.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: 30, updatedAt: OLD });
    expect(await store.getWorkspaceSettings(ws.id)).toEqual({ workspaceId: ws.id, retentionDays: 30, updatedAt: OLD });
    await store.putWorkspaceSettings({ workspaceId: ws.id, retentionDays: null, updatedAt: RECENT });
    expect(await store.getWorkspaceSettings(ws.id)).toEqual({ workspaceId: ws.id, retentionDays: null, updatedAt: RECENT });
    expect(await store.getWorkspaceSettings(other.id)).toBeUndefined();

    const listed = await store.listWorkspaceSettings();
    expect(listed).toEqual(
      [
        { workspace: ws, settings: { workspaceId: ws.id, retentionDays: null, updatedAt: RECENT } },
        { workspace: other, settings: undefined },
      ].sort((a, b) => (a.workspace.id < b.workspace.id ? -1 : 1)),
    );
    expect(await store.deleteWorkspaceSettings(ws.id)).toBe(true);
    expect(await store.deleteWorkspaceSettings(ws.id)).toBe(false);
    expect(await store.getWorkspaceSettings(ws.id)).toBeUndefined();
    await expect(store.putWorkspaceSettings({ workspaceId: "ws_missing", retentionDays: 1, updatedAt: OLD })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("deletes exactly the ended runs that ended before the cutoff, with their events and spans", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const expired = [
      await storedRun(store, ws.id, "completed", OLD, OLD),
      await storedRun(store, ws.id, "failed", OLD, OLD),
      await storedRun(store, ws.id, "cancelled", OLD, null),
    ];
    const kept = [
      // Live runs, however old.
      await storedRun(store, ws.id, "queued", OLD, null),
      await storedRun(store, ws.id, "running", OLD, null),
      await storedRun(store, ws.id, "paused", OLD, null),
      // Created before the cutoff, ended after it (a long pause): counted from its end.
      await storedRun(store, ws.id, "completed", OLD, RECENT),
      await storedRun(store, ws.id, "completed", RECENT, RECENT),
      // Another workspace's.
      await storedRun(store, other.id, "completed", OLD, OLD),
    ];
    const result = await store.deleteExpiredRuns(ws.id, CUTOFF, BIG);
    expect(result.deleted.sort()).toEqual(expired.map((run) => run.id).sort());
    expect(result.more).toBe(false);
    for (const run of expired) {
      expect(await store.getRun(ws.id, run.id)).toBeUndefined();
      expect(await store.readEvents(run.id, 0, 10)).toEqual([]);
      expect(await store.readSpans(run.id)).toEqual([]);
    }
    for (const run of kept) {
      expect(await store.getRun(run.workspaceId, run.id)).toMatchObject({ id: run.id, status: run.status });
      expect(await store.readEvents(run.id, 0, 10)).toHaveLength(2);
      expect(await store.readSpans(run.id)).toHaveLength(1);
    }
    expect(await store.deleteExpiredRuns(ws.id, CUTOFF, BIG)).toEqual({ deleted: [], more: false });
  });

  it("bounds a batch by runs and by events, and says when more may be left", async () => {
    const { store, ws } = ctx;
    for (let i = 0; i < 5; i++) await storedRun(store, ws.id, "completed", OLD, OLD, 3);
    const byRuns = await store.deleteExpiredRuns(ws.id, CUTOFF, { maxRuns: 2, maxEvents: 1000 });
    expect(byRuns).toMatchObject({ more: true });
    expect(byRuns.deleted).toHaveLength(2);
    // 3 events a run: 7 events fit two runs.
    const byEvents = await store.deleteExpiredRuns(ws.id, CUTOFF, { maxRuns: 100, maxEvents: 7 });
    expect(byEvents).toMatchObject({ more: true });
    expect(byEvents.deleted).toHaveLength(2);
    // One run bigger than the bound still goes, alone.
    const oversized = await store.deleteExpiredRuns(ws.id, CUTOFF, { maxRuns: 100, maxEvents: 1 });
    expect(oversized.deleted).toHaveLength(1);
    expect(await store.deleteExpiredRuns(ws.id, CUTOFF, BIG)).toEqual({ deleted: [], more: false });
  });

  it("lets one holder at a time take a task's lock", async () => {
    const { store } = ctx;
    const release = await store.lockTask("retention");
    expect(release).toBeTypeOf("function");
    expect(await store.lockTask("retention")).toBeUndefined();
    // Another task is another lock.
    const otherTask = await store.lockTask("something-else");
    expect(otherTask).toBeTypeOf("function");
    await otherTask!();
    await release!();
    await release!(); // idempotent
    const again = await store.lockTask("retention");
    expect(again).toBeTypeOf("function");
    await again!();
  });
}
