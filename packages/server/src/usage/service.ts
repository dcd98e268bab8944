import type { GetUsageResponse, UsageQuery, UsageTotals } from "@agentd/protocol";
import type { Store, UsageSums, WorkspaceRecord } from "../store/types.js";

/**
 * `GET /usage` (issue #11, docs/traces.md "Usage totals"): a workspace's
 * usage over a window of run creation times, from the store's one
 * aggregate statement (Store.sumUsage); the totals are the groups added up
 * here, so a request is one query whatever `groupBy` is.
 */
export class UsageService {
  constructor(private readonly store: Store) {}

  /** `query` is already validated and its window filled in (UsageQuery). */
  async get(workspace: WorkspaceRecord, query: UsageQuery): Promise<GetUsageResponse> {
    const window = { from: query.from, to: query.to };
    const rows = await this.store.sumUsage(workspace.id, window, query.groupBy);
    const groupBy = query.groupBy ?? null;
    return {
      ...window,
      groupBy,
      totals: totalsOf(rows.reduce(add, none())),
      groups: groupBy === null ? [] : rows.map((row) => ({ key: row.key, ...totalsOf(row) })),
    };
  }
}

const none = (): UsageSums => ({
  key: null,
  runs: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  modelCalls: 0,
  toolCalls: 0,
  costNanos: 0,
  costUnknownRuns: 0,
});

function add(sum: UsageSums, row: UsageSums): UsageSums {
  return {
    key: null,
    runs: sum.runs + row.runs,
    inputTokens: sum.inputTokens + row.inputTokens,
    outputTokens: sum.outputTokens + row.outputTokens,
    cachedInputTokens: sum.cachedInputTokens + row.cachedInputTokens,
    modelCalls: sum.modelCalls + row.modelCalls,
    toolCalls: sum.toolCalls + row.toolCalls,
    costNanos: sum.costNanos + row.costNanos,
    costUnknownRuns: sum.costUnknownRuns + row.costUnknownRuns,
  };
}

/**
 * The wire form: USD from nano-dollars (the sum is exact; dividing rounds
 * it to the nearest double), null when no run of the set has a known cost
 * (every run used tokens of a model without a price): a sum over no run
 * would claim $0.
 */
function totalsOf(sums: UsageSums): UsageTotals {
  const { key: _key, costNanos, ...counts } = sums;
  const known = sums.runs - sums.costUnknownRuns;
  return { ...counts, costUsd: known === 0 && sums.costUnknownRuns > 0 ? null : costNanos / 1e9 };
}
