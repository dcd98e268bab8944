import { AgentdError } from "../errors.js";
import type { RunRecord } from "../store/types.js";
import { ActiveRun } from "./active-run.js";
import { TERMINAL, type EngineContext } from "./context.js";
import { finish } from "./endings.js";
import { park } from "./leave.js";
import { armTimers } from "./waiting.js";

/**
 * Resume and takeover: how a run this process did not start (or lost track
 * of) comes back into its hands. At start-up (recover), after a failed
 * commit (reloadLater), and in a cluster by claiming its lease (adopt): for
 * the next step, for an input, or for a paused run's passed deadline. A run
 * found `running` with nobody executing it goes on through resume().
 */

/** How long a tool result or decision waits for a run busy on another worker, in milliseconds. */
const BUSY_RUN_WAIT_MS = 10_000;

/** Picks up runs a previous process left unfinished (start-up). In a cluster the lease sweep does it, continuously. */
export async function recover(ctx: EngineContext): Promise<number> {
  if (ctx.keeper) {
    ctx.keeper.start();
    return 0;
  }
  const runs = await ctx.options.store.listRunsByStatus(["queued", "running", "paused"]);
  for (const record of runs) {
    const run = new ActiveRun(record);
    ctx.runs.set(record.id, run);
    if (record.status === "paused") {
      armTimers(ctx, run);
      continue;
    }
    if (record.status === "running" && !resume(ctx, run, "agentd restarted while the run was in progress")) continue;
    ctx.options.queue.enqueue(record.id);
  }
  return runs.length;
}

/**
 * A run found `running` with nobody executing it: it continues from its
 * checkpoint, with `run_resumed` saying so. A run whose executions keep
 * dying with their worker is ended instead, past the re-attempt cap; a
 * hand-over by a worker shutting down gracefully does not count. Returns
 * whether the run goes on.
 */
export function resume(ctx: EngineContext, run: ActiveRun, reason: string, options: { crash?: boolean } = {}): boolean {
  const checkpoint = run.record.checkpoint;
  const handedOff = checkpoint.handedOff === true;
  delete checkpoint.handedOff;
  checkpoint.attempt += 1;
  if (!handedOff && options.crash !== false) checkpoint.crashes = (checkpoint.crashes ?? 0) + 1;
  ctx.emit(run, {
    type: "run_resumed",
    attempt: checkpoint.attempt,
    reason: handedOff ? "the worker executing the run shut down and handed it over" : reason,
  });
  const crashes = checkpoint.crashes ?? 0;
  const { maxRunAttempts } = ctx.options;
  if (crashes >= maxRunAttempts) {
    void finish(ctx, run, "error_max_attempts", {
      error: `the run was interrupted ${crashes} times by its worker stopping mid-run (maxRunAttempts ${maxRunAttempts})`,
    });
    return false;
  }
  ctx.options.log.patchRun(run.id, { checkpoint });
  return true;
}

/**
 * Embedded mode after a failed commit: once the store answers again, take
 * the runs back from what it holds (their last committed checkpoint).
 */
export function reloadLater(ctx: EngineContext, runIds: string[], delayMs = 1_000): void {
  if (runIds.length === 0 || ctx.stopping) return;
  const { store, log, queue } = ctx.options;
  const timer = setTimeout(async () => {
    const retry: string[] = [];
    for (const runId of runIds) {
      try {
        const [record] = (await store.listRunsByStatus(["queued", "running", "paused"])).filter((candidate) => candidate.id === runId);
        if (!record || ctx.runs.has(runId)) continue;
        log.readmit(runId);
        const run = new ActiveRun(record);
        ctx.runs.set(runId, run);
        if (record.status === "paused") {
          armTimers(ctx, run);
          continue;
        }
        if (record.status === "running" && !resume(ctx, run, "the store was unreachable", { crash: false })) continue;
        queue.enqueue(runId);
      } catch {
        retry.push(runId);
      }
    }
    reloadLater(ctx, retry, Math.min(delayMs * 2, 30_000));
  }, delayMs);
  timer.unref();
}

/** Claims a run and builds it from the store; one claim at a time per run in this process. */
export function adopt(ctx: EngineContext, runId: string, options: { paused?: boolean }): Promise<ActiveRun | undefined> {
  const existing = ctx.runs.get(runId);
  if (existing) return Promise.resolve(existing);
  let pending = ctx.adopting.get(runId);
  if (!pending) {
    pending = claimAndBuild(ctx, runId, options).finally(() => ctx.adopting.delete(runId));
    ctx.adopting.set(runId, pending);
  }
  return pending;
}

async function claimAndBuild(ctx: EngineContext, runId: string, options: { paused?: boolean }): Promise<ActiveRun | undefined> {
  if (ctx.stopping) return undefined;
  const record = await ctx.keeper!.claim(runId, options);
  if (!record) return undefined;
  const run = new ActiveRun(record);
  ctx.runs.set(runId, run);
  if (record.lastSeq === 0) ctx.options.log.tails.track(runId, record.workspaceId);
  if (record.cancelRequested) run.cancelReason = record.cancelRequested;
  // Its worker stopped mid-run: continue from the last checkpoint (or end it, past the cap).
  if (record.status === "running") ctx.options.observer?.leaseTakeover();
  if (record.status === "running" && !resume(ctx, run, "the worker executing the run stopped")) return undefined;
  return run;
}

/** Input for a run not executing here (a tool result, a decision): take its lease, waiting while another worker has it. */
export async function adoptForInput(ctx: EngineContext, record: RunRecord): Promise<void> {
  if (!ctx.keeper || ctx.runs.has(record.id) || TERMINAL.has(record.status)) return;
  const deadline = Date.now() + BUSY_RUN_WAIT_MS;
  for (let current: RunRecord | undefined = record; current && !TERMINAL.has(current.status);) {
    const adopted = await adopt(ctx, record.id, { paused: true });
    if (adopted) {
      // Taken over from a worker that stopped mid-run (not paused): it must go on, whatever this input turns out to be.
      if (adopted.record.status !== "paused") setImmediate(() => void ctx.execute(record.id));
      return;
    }
    if (Date.now() > deadline) {
      throw new AgentdError("unavailable", `run ${record.id} is busy on another worker; retry`, {
        hint: "The SDK retries this by itself.",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
    current = await ctx.options.store.getRun(record.workspaceId, record.id);
  }
}

/** A paused run's deadline has passed (the sweep found it): take its lease and let the deadline policy act (end it, reject, cancel). */
export function applyDeadline(ctx: EngineContext, runId: string): void {
  if (ctx.draining || ctx.runs.has(runId)) return;
  void adopt(ctx, runId, { paused: true }).then((adopted) => {
    if (!adopted) return;
    armTimers(ctx, adopted);
    // Parked again (lease back) only after the timers just armed for the
    // passed deadline have fired; not before, or parking would clear them.
    setTimeout(() => park(ctx, adopted), 20).unref();
  });
}
