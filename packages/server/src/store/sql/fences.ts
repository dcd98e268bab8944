import type { CommitBatch } from "../types.js";

export type Fence = NonNullable<CommitBatch["fences"]>[number];

/**
 * The fences of a batch (issue #4), one per run. A run listed twice with
 * different holders is a caller bug: a TypeError before anything is written
 * (SQLite rolls the batch back; PostgreSQL sends nothing).
 */
export function uniqueFences(fences: Fence[]): Fence[] {
  const byRun = new Map<string, Fence>();
  for (const fence of fences) {
    const seen = byRun.get(fence.runId);
    if (seen !== undefined && (seen.workerId !== fence.workerId || seen.epoch !== fence.epoch))
      throw new TypeError(`run ${fence.runId} is fenced twice with different leases`);
    byRun.set(fence.runId, fence);
  }
  return [...byRun.values()];
}
