import { describe, expect, it } from "vitest";
import { MemoryEventBus } from "../../src/bus/memory.js";
import { EventLog } from "../../src/events/log.js";
import { ActiveRun } from "../../src/engine/active-run.js";
import { traceIds } from "../../src/engine/trace.js";
import type { CommitBatch, RunRecord, SpanRecord, Store } from "../../src/store/types.js";

/*
 * Issue #11: spans ride in the group commit of the run's events (no commit
 * of their own), once per span id per batch; and the run's usage counts
 * model and tool calls, with a cost that is null once any step's price is
 * unknown.
 */

function recordingStore() {
  const commits: CommitBatch[] = [];
  const store = { commit: async (batch: CommitBatch) => void commits.push(batch) } as unknown as Store;
  return { store, commits };
}

const span = (runId: string, spanId: string, endedAt: string | null): SpanRecord => ({
  runId,
  spanId,
  parentSpanId: null,
  name: "run",
  kind: "agent",
  attempt: 1,
  startedAt: "2030-01-01T00:00:00.000Z",
  endedAt,
  status: "ok",
  error: null,
  attributes: {},
});
const event = (seq: number) => ({ seq, at: "2030-01-01T00:00:00.000Z", type: "assistant_delta", text: "x" }) as never;

describe("spans in the event log", () => {
  it("go in the same commit as the turn's events, once per (run, span id): the last write wins", async () => {
    const { store, commits } = recordingStore();
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    log.append("run_a", event(1));
    log.appendSpan(span("run_a", "s1", null));
    log.appendSpan(span("run_b", "s1", null));
    log.appendSpan(span("run_a", "s1", "2030-01-01T00:00:01.000Z"));
    await log.flush();
    expect(commits).toHaveLength(1);
    expect(commits[0]!.events.map((e) => e.runId)).toEqual(["run_a"]);
    expect(commits[0]!.spans).toEqual([span("run_a", "s1", "2030-01-01T00:00:01.000Z"), span("run_b", "s1", null)]);
    log.append("run_a", event(2));
    await log.flush();
    expect(commits[1]!.spans).toBeUndefined();
  });

  it("drops a revoked run's spans, and fences spans of a leased run", async () => {
    const { store, commits } = recordingStore();
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    log.appendSpan(span("run_gone", "s1", null));
    log.revoke(["run_gone"]);
    log.appendSpan(span("run_gone", "s2", null));
    log.fence("run_held", "worker-a", 3);
    log.appendSpan(span("run_held", "s1", null));
    await log.flush();
    expect(commits[0]!.spans!.map((s) => s.runId)).toEqual(["run_held"]);
    expect(commits[0]!.fences).toEqual([{ runId: "run_held", workerId: "worker-a", epoch: 3 }]);
  });
});

describe("a run's usage", () => {
  const record = () =>
    ({
      id: "run_u",
      checkpoint: { messages: [], toolTurns: 0, pending: [], pendingDeadline: null, inputStart: 0, attempt: 1 },
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null },
    }) as unknown as RunRecord;

  it("counts model and tool calls and sums the cost of priced steps", () => {
    const run = new ActiveRun(record());
    run.addUsage({ inputTokens: 100, outputTokens: 10, cachedInputTokens: 40 }, 0.1, 2);
    const usage = run.addUsage({ inputTokens: 50, outputTokens: 5 }, 0.2, 0);
    expect(usage).toEqual({
      inputTokens: 150,
      outputTokens: 15,
      totalTokens: 165,
      cachedInputTokens: 40,
      modelCalls: 2,
      toolCalls: 2,
      costUsd: 0.3,
    });
  });

  it("has a null cost from the first step whose price is unknown on, never a partial sum", () => {
    const run = new ActiveRun(record());
    run.addUsage({ inputTokens: 100, outputTokens: 10 }, 0.1, 0);
    expect(run.addUsage({ inputTokens: 100, outputTokens: 10 }, null, 0).costUsd).toBeNull();
    expect(run.addUsage({ inputTokens: 100, outputTokens: 10 }, 0.1, 0).costUsd).toBeNull();
    const unpriced = new ActiveRun(record());
    expect(unpriced.addUsage({ inputTokens: 1, outputTokens: 1 }, null, 0).costUsd).toBeNull();
    expect(unpriced.addUsage({ inputTokens: 1, outputTokens: 1 }, 0.5, 0).costUsd).toBeNull();
  });

  it("derives one trace id and root span id per run, the same everywhere", () => {
    expect(traceIds("run_x")).toEqual(traceIds("run_x"));
    expect(traceIds("run_x").traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIds("run_x").rootSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(traceIds("run_y").traceId).not.toBe(traceIds("run_x").traceId);
  });
});
