import { expect, it } from "vitest";
import type { Usage } from "@agentd/protocol";
import { makeRun, uniqueId } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import type { RunRecord, UsageSums } from "../../../src/store/types.js";

/*
 * GET /usage (issue #11): Store.sumUsage adds up the usage of a window of a
 * workspace's runs, [from, to) by createdAt, whole or by agent, model, key
 * or UTC day; its integer columns follow every write of `usage` (insert,
 * commit patch); a run whose cost is unknown is counted apart, never as 0.
 */

const usage = (inputTokens: number, outputTokens: number, costUsd: number | null, extra: Partial<Usage> = {}): Usage => ({
  inputTokens,
  outputTokens,
  totalTokens: inputTokens + outputTokens,
  costUsd,
  ...extra,
});

const sums = (key: string | null, fields: Partial<UsageSums>): UsageSums => ({
  key,
  runs: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  modelCalls: 0,
  toolCalls: 0,
  costNanos: 0,
  costUnknownRuns: 0,
  ...fields,
});

const WINDOW = { from: "2031-03-01T00:00:00.000Z", to: "2031-03-03T00:00:00.000Z" };

export function usageCases(ctx: ContractContext): void {
  it("sums the usage of the runs created in [from, to), of this workspace only", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace(`other-${uniqueId("ws").toLowerCase().replace(/_/g, "-")}`);
    const run = (createdAt: string, overrides: Partial<RunRecord> = {}) => makeRun(ws.id, { createdAt, status: "completed", ...overrides });
    const runs = [
      // At `from` exactly: in.
      run(WINDOW.from, {
        agentId: "support",
        modelId: "m:a",
        keyId: "key_a",
        usage: usage(1_000, 200, 0.006, { cachedInputTokens: 100, modelCalls: 2, toolCalls: 1 }),
      }),
      run("2031-03-01T23:59:59.999Z", {
        agentId: "support",
        modelId: "m:b",
        keyId: "key_b",
        usage: usage(10, 20, 0.000000123, { modelCalls: 1 }),
      }),
      // A model without a price: its tokens count, its cost is unknown.
      run("2031-03-02T12:00:00.000Z", { modelId: "m:b", keyId: "key_a", usage: usage(300, 40, null, { modelCalls: 1, toolCalls: 3 }) }),
      // No tokens and no price (failed before its first answer): cost known, 0.
      run("2031-03-02T13:00:00.000Z", { agentId: "triage", modelId: "m:a", status: "failed" }),
      // Live: its usage so far.
      run("2031-03-02T23:00:00.000Z", {
        agentId: "triage",
        modelId: "m:a",
        status: "running",
        usage: usage(5, 0, 0.000001, { modelCalls: 1 }),
      }),
    ];
    const outside = [
      // At `to` exactly, and before `from`: out.
      run(WINDOW.to, { usage: usage(7_777, 7_777, 1) }),
      run("2031-02-28T23:59:59.999Z", { usage: usage(8_888, 8_888, 1) }),
      // Another workspace's, in the window.
      makeRun(other.id, { createdAt: "2031-03-02T00:00:00.000Z", usage: usage(9_999, 9_999, 1) }),
    ];
    for (const record of [...runs, ...outside]) await store.insertRun(record);

    const all = sums(null, {
      runs: 5,
      inputTokens: 1_315,
      outputTokens: 260,
      cachedInputTokens: 100,
      modelCalls: 5,
      toolCalls: 4,
      costNanos: 6_000_000 + 123 + 1_000,
      costUnknownRuns: 1,
    });
    expect(await store.sumUsage(ws.id, WINDOW)).toEqual([all]);

    expect(await store.sumUsage(ws.id, WINDOW, "agent")).toEqual([
      sums("support", {
        runs: 2,
        inputTokens: 1_010,
        outputTokens: 220,
        cachedInputTokens: 100,
        modelCalls: 3,
        toolCalls: 1,
        costNanos: 6_000_123,
      }),
      sums("triage", { runs: 2, inputTokens: 5, modelCalls: 1, costNanos: 1_000 }),
      sums(null, { runs: 1, inputTokens: 300, outputTokens: 40, modelCalls: 1, toolCalls: 3, costUnknownRuns: 1 }),
    ]);
    expect(await store.sumUsage(ws.id, WINDOW, "model")).toEqual([
      sums("m:a", {
        runs: 3,
        inputTokens: 1_005,
        outputTokens: 200,
        cachedInputTokens: 100,
        modelCalls: 3,
        toolCalls: 1,
        costNanos: 6_001_000,
      }),
      sums("m:b", { runs: 2, inputTokens: 310, outputTokens: 60, modelCalls: 2, toolCalls: 3, costNanos: 123, costUnknownRuns: 1 }),
    ]);
    expect(await store.sumUsage(ws.id, WINDOW, "key")).toEqual([
      sums("key_a", {
        runs: 2,
        inputTokens: 1_300,
        outputTokens: 240,
        cachedInputTokens: 100,
        modelCalls: 3,
        toolCalls: 4,
        costNanos: 6_000_000,
        costUnknownRuns: 1,
      }),
      sums("key_b", { runs: 1, inputTokens: 10, outputTokens: 20, modelCalls: 1, costNanos: 123 }),
      sums(null, { runs: 2, inputTokens: 5, modelCalls: 1, costNanos: 1_000 }),
    ]);
    expect(await store.sumUsage(ws.id, WINDOW, "day")).toEqual([
      sums("2031-03-01", {
        runs: 2,
        inputTokens: 1_010,
        outputTokens: 220,
        cachedInputTokens: 100,
        modelCalls: 3,
        toolCalls: 1,
        costNanos: 6_000_123,
      }),
      sums("2031-03-02", {
        runs: 3,
        inputTokens: 305,
        outputTokens: 40,
        modelCalls: 2,
        toolCalls: 3,
        costNanos: 1_000,
        costUnknownRuns: 1,
      }),
    ]);

    // The other workspace sees only its own run; an empty window is one row of zeros, or no group.
    expect(await store.sumUsage(other.id, WINDOW)).toEqual([
      sums(null, { runs: 1, inputTokens: 9_999, outputTokens: 9_999, costNanos: 1e9 }),
    ]);
    const empty = { from: "2031-04-01T00:00:00.000Z", to: "2031-04-02T00:00:00.000Z" };
    expect(await store.sumUsage(ws.id, empty)).toEqual([sums(null, {})]);
    expect(await store.sumUsage(ws.id, empty, "model")).toEqual([]);
    expect(await store.sumUsage("ws_missing", WINDOW, "day")).toEqual([]);
  });

  it("follows the usage a run's patches write, and inserts in a commit batch; the key is kept as inserted", async () => {
    const { store, ws } = ctx;
    const window = { from: "2031-05-01T00:00:00.000Z", to: "2031-05-02T00:00:00.000Z" };
    const run = makeRun(ws.id, { createdAt: "2031-05-01T10:00:00.000Z", keyId: "key_live" });
    await store.insertRun(run);
    // Queued, no tokens yet: counted, at no cost.
    expect(await store.sumUsage(ws.id, window, "key")).toEqual([sums("key_live", { runs: 1 })]);
    expect(await store.getRun(ws.id, run.id)).toEqual(run);

    const step = usage(40, 2, 0.00005, { modelCalls: 1, toolCalls: 0, cachedInputTokens: 0 });
    await store.commit({ events: [], runs: [{ runId: run.id, patch: { status: "running", usage: step } }], sessions: [] });
    expect(await store.sumUsage(ws.id, window)).toEqual([
      sums(null, { runs: 1, inputTokens: 40, outputTokens: 2, modelCalls: 1, costNanos: 50_000 }),
    ]);

    // A later step of a model without a price: the run's cost becomes unknown.
    const unpriced = usage(90, 5, null, { modelCalls: 2, toolCalls: 1, cachedInputTokens: 30 });
    const batched = makeRun(ws.id, { createdAt: "2031-05-01T11:00:00.000Z", usage: usage(1, 1, 0.5, { modelCalls: 1 }) });
    await store.commit({
      newRuns: [batched],
      events: [],
      runs: [{ runId: run.id, patch: { status: "completed", usage: unpriced, endedAt: "2031-05-01T10:05:00.000Z" } }],
      sessions: [],
    });
    expect(await store.sumUsage(ws.id, window, "key")).toEqual([
      sums("key_live", {
        runs: 1,
        inputTokens: 90,
        outputTokens: 5,
        cachedInputTokens: 30,
        modelCalls: 2,
        toolCalls: 1,
        costUnknownRuns: 1,
      }),
      sums(null, { runs: 1, inputTokens: 1, outputTokens: 1, modelCalls: 1, costNanos: 500_000_000 }),
    ]);
    expect((await store.getRun(ws.id, run.id))!.keyId).toBe("key_live");
  });
}
