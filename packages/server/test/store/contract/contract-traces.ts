import { it, expect } from "vitest";
import { makeEvent, makeRun } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import { LONG, lapse } from "./contract-leases.js";
import type { SpanRecord } from "../../../src/store/types.js";

/*
 * Traces (issue #11): spans ride in the group commit (`CommitBatch.spans`),
 * a span written again replaces its row, a zombie's spans are fenced out
 * like its events, and they go with their run.
 */

function makeSpan(runId: string, spanId: string, overrides: Partial<SpanRecord> = {}): SpanRecord {
  return {
    runId,
    spanId,
    parentSpanId: null,
    name: "run",
    kind: "agent",
    attempt: 1,
    startedAt: "2030-01-01T00:00:00.000Z",
    endedAt: null,
    status: "ok",
    error: null,
    attributes: { modelId: "mock", nested: { list: [1, "two", null] } },
    ...overrides,
  };
}

export function traceCases(ctx: ContractContext): void {
  it("writes spans with a commit, replaces a span written again, reads them by start time", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id);
    const other = makeRun(ws.id);
    await store.insertRun(run);
    await store.insertRun(other);
    const root = makeSpan(run.id, "aaaa000000000001");
    const model = makeSpan(run.id, "aaaa000000000002", {
      parentSpanId: root.spanId,
      name: "model",
      kind: "scripted",
      startedAt: "2030-01-01T00:00:00.100Z",
      endedAt: "2030-01-01T00:00:00.300Z",
      attributes: { inputTokens: 10, outputTokens: 2, costUsd: null },
    });
    await store.commit({
      events: [makeEvent(run.id, 1)],
      runs: [{ runId: run.id, patch: { lastSeq: 1 } }],
      sessions: [],
      spans: [model, root],
    });
    await store.commit({ events: [], runs: [], sessions: [], spans: [makeSpan(other.id, root.spanId)] });
    expect(await store.readSpans(run.id)).toEqual([root, model]);

    const closed = {
      ...root,
      endedAt: "2030-01-01T00:00:01.000Z",
      status: "error" as const,
      error: "bad\0thing",
      attempt: 2,
      attributes: { runStatus: "failed" },
    };
    await store.commit({ events: [], runs: [], sessions: [], spans: [closed] });
    expect(await store.readSpans(run.id)).toEqual([{ ...closed, error: "bad\uFFFDthing" }, model]);
    expect(await store.readSpans(other.id)).toHaveLength(1);
    expect(await store.readSpans("run_missing")).toEqual([]);
  });

  it("fences a zombie's spans out, with its events; the rest of the batch commits", async () => {
    const { store, ws } = ctx;
    const run = makeRun(ws.id, { status: "running" });
    const bystander = makeRun(ws.id);
    await store.insertRun(run);
    await store.insertRun(bystander);
    const a = (await store.claimRun(run.id, "worker-a", 1))!.lease;
    await lapse();
    const b = (await store.claimRun(run.id, "worker-b", LONG))!.lease;
    const result = await store.commit({
      events: [],
      runs: [],
      sessions: [],
      spans: [makeSpan(run.id, "bbbb000000000001"), makeSpan(bystander.id, "bbbb000000000002")],
      fences: [{ runId: run.id, workerId: "worker-a", epoch: a.epoch }],
    });
    expect(result).toEqual({ fenced: [run.id] });
    expect(await store.readSpans(run.id)).toEqual([]);
    expect(await store.readSpans(bystander.id)).toHaveLength(1);
    await store.commit({
      events: [],
      runs: [],
      sessions: [],
      spans: [makeSpan(run.id, "bbbb000000000003")],
      fences: [{ runId: run.id, workerId: "worker-b", epoch: b.epoch }],
    });
    expect((await store.readSpans(run.id)).map((span) => span.spanId)).toEqual(["bbbb000000000003"]);
  });

  it("deletes a run's spans alone; deletes an ended run with its events and spans, never a live one nor another workspace's", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const live = makeRun(ws.id, { status: "paused" });
    const done = makeRun(ws.id, { status: "completed" });
    const foreign = makeRun(other.id, { status: "failed" });
    for (const run of [live, done, foreign]) {
      await store.insertRun(run);
      await store.commit({
        events: [makeEvent(run.id, 1)],
        runs: [{ runId: run.id, patch: { lastSeq: 1 } }],
        sessions: [],
        spans: [makeSpan(run.id, "cccc000000000001")],
      });
    }
    expect(await store.deleteSpans(live.id)).toBe(1);
    expect(await store.readSpans(live.id)).toEqual([]);
    expect(await store.readEvents(live.id, 0, 10)).toHaveLength(1);
    expect(await store.deleteSpans(live.id)).toBe(0);

    expect(await store.deleteEndedRun(ws.id, live.id)).toBe(false);
    expect(await store.getRun(ws.id, live.id)).toBeDefined();
    expect(await store.deleteEndedRun(ws.id, foreign.id)).toBe(false);
    expect(await store.getRun(other.id, foreign.id)).toBeDefined();
    expect(await store.deleteEndedRun(ws.id, done.id)).toBe(true);
    expect(await store.getRun(ws.id, done.id)).toBeUndefined();
    expect(await store.readEvents(done.id, 0, 10)).toEqual([]);
    expect(await store.readSpans(done.id)).toEqual([]);
    expect(await store.deleteEndedRun(ws.id, done.id)).toBe(false);
    expect(await store.readSpans(foreign.id)).toHaveLength(1);
  });
}
