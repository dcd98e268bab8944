import type { ApprovalDecision } from "@agentd/protocol";
import { awaitsApproval, isAnswered, type ActiveRun } from "./active-run.js";
import { setStatus, type EngineContext } from "./context.js";
import { armDeadlines } from "./deadlines.js";
import { finish } from "./endings.js";
import { park } from "./leave.js";
import { dispatchCall } from "./tool-calls.js";
import { openWait } from "./trace.js";

/**
 * A run waiting on the outside (local tool results, approvals) and the
 * answers that end the wait: pausing with its clocks armed, a decision
 * applied, an answer committed with the status it implies, and settled(),
 * which decides after every answer whether the loop goes on.
 */

export function pause(ctx: EngineContext, run: ActiveRun): void {
  openWait(ctx.options.log, run);
  setStatus(ctx, run, "paused", { checkpoint: run.record.checkpoint });
  armTimers(ctx, run);
}

/** The run's clocks (engine/deadlines.ts), with what each does when it fires. */
export function armTimers(ctx: EngineContext, run: ActiveRun): void {
  armDeadlines(run, {
    localToolTimeoutMs: ctx.options.localToolTimeoutMs,
    expired: (subtype, error) => void finish(ctx, run, subtype, { error }),
    rejectApprovals: (reason) => {
      for (const call of run.pending.filter(awaitsApproval)) decide(ctx, run, { toolUseId: call.toolUseId, approved: false, reason });
      ctx.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
      settled(ctx, run);
    },
    cancel: (reason) => void ctx.cancel(run.record, reason),
  });
}

/** One decision on a call waiting for approval: approved calls start (or are asked for), rejected ones get their error. */
export function decide(ctx: EngineContext, run: ActiveRun, decision: ApprovalDecision): void {
  const call = run.pending.find((pending) => pending.toolUseId === decision.toolUseId)!;
  ctx.emit(run, {
    type: "approval_decided",
    toolUseId: call.toolUseId,
    approved: decision.approved,
    ...(decision.reason ? { reason: decision.reason } : {}),
  });
  if (decision.approved) {
    call.approval = "approved";
    dispatchCall(run, call, ctx.turnHooks);
  } else {
    call.approval = "rejected";
    call.error = `the call was rejected by a human${decision.reason ? `: ${decision.reason}` : ""}`;
    call.endedAt = Date.now();
  }
  if (!run.pending.some(awaitsApproval)) run.record.checkpoint.approvalDeadline = null;
}

/**
 * Writes an answer with the status it implies, in one commit: a run that can
 * go on is `running` in the store the moment its last answer is, so if this
 * worker dies before the next step, the orphan sweep picks it up elsewhere.
 */
export function commitInput(ctx: EngineContext, run: ActiveRun): void {
  const canGoOn = run.pending.every(isAnswered) || run.running.size > 0;
  if (canGoOn && run.record.status === "paused") setStatus(ctx, run, "running", { checkpoint: run.record.checkpoint });
  else ctx.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
}

/** Something of the turn was answered: go on if it is complete, else show whether the run waits on the outside. */
export function settled(ctx: EngineContext, run: ActiveRun): void {
  if (run.closing || ctx.stopping) return;
  if (run.pending.every(isAnswered)) {
    void ctx.execute(run.id);
    return;
  }
  if (run.executing) return;
  if (run.running.size === 0) {
    pause(ctx, run);
    park(ctx, run);
    return;
  } else if (run.record.status !== "running") setStatus(ctx, run, "running", { checkpoint: run.record.checkpoint });
  else ctx.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
}
