import { RUN_SPANS } from "../schema/tables.js";
import { one, type Operation } from "../sql/operation.js";
import type { SpanRecord } from "../types.js";

/* Reading and deleting traces (issue #11); writing spans is each dialect's group commit. */

export function* readSpans(runId: string): Operation<SpanRecord[]> {
  return (yield one("readSpans", [runId]))[0]!.rows.map((row) => RUN_SPANS.fromRow(row));
}

export function* deleteSpans(runId: string): Operation<number> {
  return (yield one("deleteSpans", [runId]))[0]!.changes;
}

export function* deleteEndedRun(workspaceId: string, runId: string): Operation<boolean> {
  return (yield one("deleteEndedRun", [workspaceId, runId]))[0]!.changes > 0;
}
