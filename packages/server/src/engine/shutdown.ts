import type { EngineContext } from "./context.js";

/**
 * Graceful shutdown (issue #4), in two halves: drain() lets the work in
 * flight finish for a while, close() hands back whatever is left, resumable
 * from its last checkpoint by another worker or the next start.
 */

/**
 * First half of a graceful shutdown: this worker takes no new run, and no
 * loop starts a new model step; steps and server tools already in flight
 * may finish, for at most `graceMs`. Their events are committed and
 * streamed as usual. close() then hands back whatever is left.
 */
export async function drain(ctx: EngineContext, graceMs: number): Promise<void> {
  ctx.draining = true;
  await ctx.options.queue.stopTaking();
  const deadline = Date.now() + graceMs;
  while (!idle(ctx) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(20, graceMs)));
}

/**
 * Stops every loop (shutdown). A run in the middle of a model step is left
 * `running`, with the checkpoint of its last completed step, marked as
 * handed over (not a crash): another worker, or the next start, picks it
 * up (`run_resumed`). Paused runs need nothing: they wait in the store.
 */
export async function close(ctx: EngineContext): Promise<void> {
  const { log, queue } = ctx.options;
  ctx.draining = true;
  await queue.stopTaking();
  // Marked before anything is aborted: the in-memory checkpoint is a state
  // the run can resume from, while an aborted tool call would record an error.
  const handedOff: string[] = [];
  for (const run of ctx.runs.values()) {
    if (run.closing || run.finished || run.record.status !== "running" || (ctx.keeper && !ctx.keeper.holds(run.id))) continue;
    run.record.checkpoint.handedOff = true;
    log.patchRun(run.id, { checkpoint: run.record.checkpoint });
    handedOff.push(run.id);
  }
  ctx.stopping = true;
  for (const run of ctx.runs.values()) {
    run.clearTimers();
    run.abort.abort();
  }
  await Promise.allSettled([...ctx.loops]);
  ctx.runs.clear();
  await log.flush().catch(() => undefined);
  // Leases handed back at once, and the runs queued for the other workers:
  // they go on without waiting for a lease to lapse or a sweep to find them.
  if (ctx.keeper) {
    await ctx.keeper.close();
    for (const runId of handedOff) queue.enqueue(runId);
  }
}

/** Nothing executing here: no loop, no server tool call in flight. */
function idle(ctx: EngineContext): boolean {
  if (ctx.loops.size > 0) return false;
  for (const run of ctx.runs.values()) if (run.running.size > 0 && !run.closing) return false;
  return true;
}
