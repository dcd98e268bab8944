import type { RunStatus } from "@agentd/protocol";
import { AgentdError } from "../../errors.js";
import { withoutNul } from "../schema/columns.js";
import { RUNS } from "../schema/tables.js";
import { first, one, query, type Operation, type Query } from "../sql/operation.js";
import type { ActiveRunCounts, RunRecord } from "../types.js";

/* Runs outside the group commit and leases (Store's run methods), once for both stores. */

/** The INSERT of one run; also used by each dialect's group commit (`CommitBatch.newRuns`). */
export const insertRunQuery = (run: RunRecord): Query =>
  query("insertRun", RUNS.values(run), {
    duplicate: `run ${run.id} already exists`,
    missingParent: `workspace ${run.workspaceId} not found`,
  });

export function* insertRun(run: RunRecord): Operation<void> {
  yield { queries: [insertRunQuery(run)] };
}

/**
 * Inserts a run as its session's active run. Run inside a transaction: the
 * read of the session (locked, on PostgreSQL) and the writes commit together.
 */
export function* insertSessionRun(run: RunRecord, sessionId: string): Operation<void> {
  const session = (yield first("sessionClaimState", [run.workspaceId, sessionId]))[0]!.rows[0] as
    { status: string; activeRunId: string | null } | undefined;
  if (session === undefined) throw new AgentdError("not_found", `session ${sessionId} not found`);
  if (session.status === "ended") throw new AgentdError("session_ended", `session ${sessionId} has ended`);
  if (session.activeRunId !== null) {
    throw new AgentdError("session_busy", `session ${sessionId} already has a run in progress (${session.activeRunId})`);
  }
  yield { queries: [query("claimSession", [run.id, sessionId]), insertRunQuery(run)], last: true };
}

export function* getRun(workspaceId: string, runId: string): Operation<RunRecord | undefined> {
  const row = (yield first("runById", [workspaceId, runId]))[0]!.rows[0];
  return row === undefined ? undefined : RUNS.fromRow(row);
}

export function* countActiveRuns(workspaceId: string): Operation<ActiveRunCounts> {
  const counts: ActiveRunCounts = { queued: 0, running: 0, paused: 0 };
  for (const { status, count } of (yield one("countActiveRuns", [workspaceId]))[0]!.rows)
    counts[status as keyof ActiveRunCounts] = count as number;
  return counts;
}

export function* listRunsByStatus(statuses: RunStatus[]): Operation<RunRecord[]> {
  if (statuses.length === 0) return [];
  return (yield one("runsByStatus", [statuses]))[0]!.rows.map(RUNS.fromRow);
}

export function* requestCancel(runId: string, reason: string): Operation<boolean> {
  return (yield one("requestCancel", [withoutNul(reason), runId]))[0]!.changes > 0;
}

export function* cancelRequests(runIds: string[]): Operation<Array<{ runId: string; reason: string }>> {
  if (runIds.length === 0) return [];
  return (yield one("cancelRequests", [runIds]))[0]!.rows as Array<{ runId: string; reason: string }>;
}

export function* duePausedRuns(now: number, limit: number): Operation<Array<{ runId: string; workspaceId: string; wakeAt: number }>> {
  if (!(limit >= 1)) return [];
  const due = (yield one("duePausedRuns", [Math.floor(now), Math.floor(limit)]))[0]!.rows as Array<{
    runId: string;
    workspaceId: string;
    wakeAt: number | string;
  }>;
  // PostgreSQL's bigint arrives as a string (pg does not guess at precision).
  return due.map((run) => ({ ...run, wakeAt: Number(run.wakeAt) }));
}
