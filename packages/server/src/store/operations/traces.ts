import { RUN_SPANS } from "../schema/tables.js";
import { one, query, type Operation } from "../sql/operation.js";
import type { SpanRecord } from "../types.js";

/* Reading and deleting traces (issue #11); writing spans is each dialect's group commit. */

export function* readSpans(runId: string): Operation<SpanRecord[]> {
  return (yield one("readSpans", [runId]))[0]!.rows.map((row) => RUN_SPANS.fromRow(row));
}

export function* deleteSpans(runId: string): Operation<number> {
  return (yield one("deleteSpans", [runId]))[0]!.changes;
}

/** In one transaction: the run's tokens are kept for its key's tokensPerDay (issue #12) before the row goes. */
export function* deleteEndedRun(workspaceId: string, runId: string): Operation<boolean> {
  const answers = yield {
    queries: [query("keepDeletedRunTokens", [workspaceId, runId]), query("deleteEndedRun", [workspaceId, runId])],
    last: true,
  };
  return answers[1]!.changes > 0;
}
