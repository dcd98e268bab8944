import type { ActiveRun } from "./active-run.js";
import type { EngineContext } from "./context.js";

/**
 * How a run leaves this process without ending (the cluster's side of
 * leases; engine/leases.ts keeps the leases themselves). Parked: paused, so
 * it waits in the store, not here. Lost: another worker has it now, or the
 * store refused this worker's writes of it.
 */

/**
 * In a cluster a paused run holds no lease and leaves memory: whichever
 * worker gets its next input takes it. Nothing of it stays here, not even
 * a timer (a soak showed a timer per parked run keeping the run in memory
 * until its deadline): the store keeps its deadline as `wake_at`, and the
 * sweep of any worker applies it once passed (within one sweep,
 * AGENTD_LEASE_MS).
 */
export function park(ctx: EngineContext, run: ActiveRun): void {
  if (!ctx.keeper || ctx.stopping || run.executing || run.closing || run.running.size > 0 || run.record.status !== "paused") return;
  run.clearTimers();
  ctx.runs.delete(run.id);
  ctx.options.log.tails.forget(run.id);
  void ctx.keeper.release(run.id);
}

/** Leases lost (late heartbeat, fenced commit), or writes the store refused: stop those runs here without writing anything more. */
export function lost(ctx: EngineContext, runIds: string[]): string[] {
  const stopped: string[] = [];
  for (const runId of runIds) {
    const run = ctx.runs.get(runId);
    if (!run) continue;
    stopped.push(runId);
    ctx.options.logger.warn({ runId }, "lost the lease of a run; another worker continues it");
    run.closing = true;
    run.finished = true;
    run.clearTimers();
    run.abort.abort();
    ctx.runs.delete(runId);
    ctx.options.log.tails.forget(runId);
  }
  return stopped;
}
