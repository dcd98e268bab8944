import type { QueryResult } from "pg";
import { insertRunQuery } from "../operations/runs.js";
import type { CommitBatch, CommitResult, RunPatch, SessionPatch } from "../types.js";
import type { Statement } from "./connection.js";
import { uniqueFences } from "../sql/fences.js";
import type { LeaseStatements } from "./leases.js";
import type { PatchBuilder } from "./patches.js";
import type { Statements } from "./statements.js";

export interface CommitParts {
  sql: Statements;
  leases: LeaseStatements;
  runPatches: PatchBuilder<RunPatch>;
  sessionPatches: PatchBuilder<SessionPatch>;
}

const optional = <T>(value: T | undefined): T[] => (value === undefined ? [] : [value]);

/**
 * One group commit as the statements to send between BEGIN and COMMIT (all
 * in one pipelined round trip), and how to read its result from their
 * answers. Built before taking a connection: a bad patch field or a
 * conflicting fence throws without a round trip.
 *
 * Fencing (issue #4) stays inside that one round trip: the first statement
 * locks the rows of the fenced runs whose lease still matches and returns
 * them; the events insert and each guarded patch re-check the same
 * condition on the server, so a zombie's writes drop out without the client
 * reading anything mid-transaction.
 */
export function buildCommit(
  parts: CommitParts,
  batch: CommitBatch,
): { writes: Statement[]; result: (answers: QueryResult[]) => CommitResult } {
  const fences = uniqueFences(batch.fences ?? []);
  const guards = new Map(fences.map((fence) => [fence.runId, fence]));
  const writes: Statement[] = [];
  // Lock first: later statements of the batch then see these leases as they are now.
  if (fences.length > 0) writes.push(parts.leases.hold(fences));
  writes.push(...(batch.newRuns ?? []).map((run) => parts.sql.query(insertRunQuery(run))));
  if (batch.events.length > 0) writes.push(parts.sql.insertEvents(batch.events, fences));
  if (batch.spans !== undefined && batch.spans.length > 0) writes.push(parts.sql.insertSpans(batch.spans, fences));
  for (const { runId, patch } of batch.runs) writes.push(...optional(parts.runPatches.build(runId, patch, guards.get(runId))));
  for (const { sessionId, patch } of batch.sessions) writes.push(...optional(parts.sessionPatches.build(sessionId, patch)));
  const result = (answers: QueryResult[]): CommitResult => {
    if (fences.length === 0) return { fenced: [] };
    // answers[0] is BEGIN's; answers[1] the hold statement's.
    const held = new Set(answers[1]!.rows.map((row: { id: string }) => row.id));
    return { fenced: fences.filter((fence) => !held.has(fence.runId)).map((fence) => fence.runId) };
  };
  return { writes, result };
}
