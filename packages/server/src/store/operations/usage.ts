import type { UsageGroupBy } from "@agentd/protocol";
import { one, type Operation } from "../sql/operation.js";
import type { StatementId } from "../sql/statements.js";
import type { UsageSums } from "../types.js";

/* GET /usage (issue #11): the usage of a window of runs, summed in SQL (sql/statements.ts usageTotals). */

const BY: Record<UsageGroupBy, StatementId> = { agent: "usageByAgent", model: "usageByModel", key: "usageByKey", day: "usageByDay" };

/** Byte order of UTF-8 (the key's code points), null last: what both stores return alike whatever their collations. */
function byKey(a: UsageSums, b: UsageSums): number {
  if (a.key === b.key) return 0;
  if (a.key === null) return 1;
  if (b.key === null) return -1;
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}

export function* sumUsage(workspaceId: string, window: { from: string; to: string }, groupBy?: UsageGroupBy): Operation<UsageSums[]> {
  const [answer] = yield one(groupBy === undefined ? "usageTotals" : BY[groupBy], [workspaceId, window.from, window.to]);
  // PostgreSQL's sums of bigint arrive as numeric strings (pg does not guess at precision).
  const sums = answer!.rows.map((row) => ({
    key: groupBy === undefined ? null : ((row.key as string | null) ?? null),
    runs: Number(row.runs),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    cachedInputTokens: Number(row.cachedInputTokens),
    modelCalls: Number(row.modelCalls),
    toolCalls: Number(row.toolCalls),
    costNanos: Number(row.costNanos),
    costUnknownRuns: Number(row.costUnknownRuns),
  }));
  return sums.sort(byKey);
}
