import type { ApprovalDecision } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import type { PendingToolCall, RunRecord } from "../store/types.js";
import { ActiveRun, awaitsApproval, awaitsLocalResult, isAnswered } from "./active-run.js";
import { TERMINAL, type EngineContext } from "./context.js";
import { finishCancelled } from "./endings.js";
import { adoptForInput } from "./resume.js";
import { ToolSet } from "./toolset.js";
import { commitInput, decide, settled } from "./waiting.js";

/**
 * What callers send a run (the routes, through RunService): a cancel, a
 * local tool's result, decisions on approvals. Each is checked against what
 * the run waits for, committed before it is answered, and then handed to
 * settled() (waiting.ts) to let the loop go on.
 */

export type ToolResultOutcome = "accepted" | "ignored";

export async function cancel(ctx: EngineContext, record: RunRecord, reason: string | undefined): Promise<void> {
  // A session's queued run is in no engine yet: take charge of it to end it.
  if (!ctx.runs.has(record.id) && record.status === "queued" && record.sessionId !== null) ctx.runs.set(record.id, new ActiveRun(record));
  if (!ctx.runs.has(record.id) && ctx.options.cluster && !TERMINAL.has(record.status)) {
    return cancelElsewhere(ctx, record, reason ?? "cancelled by request");
  }
  const run = ctx.runs.get(record.id);
  if (!run || run.closing) return; // already terminal: cancel is idempotent
  if (run.cancelReason !== undefined) return ctx.options.log.flush(run.id);
  run.cancelReason = reason ?? "cancelled by request";
  if (run.executing) run.abort.abort();
  else await finishCancelled(ctx, run);
  // The caller's 200 means the cancel is durable when no loop is running;
  // a running loop writes `cancelled` as soon as the model call stops.
  return ctx.options.log.flush(run.id);
}

/**
 * A cancel of a run this worker does not hold (a cluster): recorded in the
 * store first, so the 200 is durable whoever holds the run — its holder's
 * lease sweep, or whichever worker executes or resumes it next, reads it
 * (resume.ts) — then signalled, so the holder stops it now rather than at
 * its next sweep. A paused run has no loop to stop: it is taken over here
 * and ended.
 */
async function cancelElsewhere(ctx: EngineContext, record: RunRecord, reason: string): Promise<void> {
  if (!(await ctx.options.store.requestCancel(record.id, reason))) return;
  ctx.options.cluster!.bus.signal("cancel", record.id);
  if (record.status !== "paused") return;
  await adoptForInput(ctx, record);
  // Taken over with the request just recorded (resume.ts sets cancelReason from it): end it here.
  const run = ctx.runs.get(record.id);
  if (run && !run.closing && !run.executing) {
    run.cancelReason ??= reason;
    await finishCancelled(ctx, run);
    await ctx.options.log.flush(run.id);
  }
}

/** Seed 004 §8: a result for one pending local tool call. */
export async function submitToolResult(
  ctx: EngineContext,
  record: RunRecord,
  toolUseId: string,
  outcome: { result?: string; error?: string },
): Promise<ToolResultOutcome> {
  await adoptForInput(ctx, record);
  const run = liveRun(ctx, record, { ignoreCancelled: true });
  if (!run) return "ignored";
  const call = run.pending.find((pending) => pending.toolUseId === toolUseId);
  // The same answer again (a retry after a lost reply, or a 503 for a commit that did land): already taken.
  if (call && isAnswered(call) && sameAnswer(call, outcome)) return "accepted";
  if (!call || !awaitsLocalResult(call)) {
    throw new AgentdError("unknown_tool_use", `no pending local tool call ${toolUseId} in run ${record.id}`, {
      hint: call
        ? "This tool call already has a result, or waits for approval first."
        : "The toolUseId comes from a local_tool_call event of this run.",
    });
  }
  if (outcome.error !== undefined) call.error = outcome.error;
  else call.result = outcome.result ?? "";
  call.endedAt = Date.now();
  ctx.emit(run, {
    type: "local_tool_result_in",
    toolUseId,
    ...(outcome.error !== undefined ? { error: outcome.error } : { result: call.result! }),
  });
  if (!run.pending.some(awaitsLocalResult)) run.record.checkpoint.pendingDeadline = null;
  commitInput(ctx, run);
  // Settled even when the commit failed: a run lost with it is closing and stays put; one the
  // store did take (a lost reply) must not wait for an execution nobody starts.
  try {
    await ctx.options.log.flush(run.id);
  } finally {
    settled(ctx, run);
  }
  return "accepted";
}

/** Decisions on calls waiting for approval (`POST /continue`); all or nothing. */
export async function continueRun(ctx: EngineContext, record: RunRecord, decisions: ApprovalDecision[]): Promise<void> {
  await adoptForInput(ctx, record);
  const run = liveRun(ctx, record, { ignoreCancelled: false })!;
  const seen = new Set<string>();
  for (const decision of decisions) {
    const call = run.pending.find((pending) => pending.toolUseId === decision.toolUseId);
    if (!call || !awaitsApproval(call) || seen.has(decision.toolUseId)) {
      throw new AgentdError("unknown_tool_use", `no tool call ${decision.toolUseId} waiting for approval in run ${record.id}`, {
        hint: call ? "This call was already decided." : "The toolUseId comes from an approval_required event of this run.",
      });
    }
    seen.add(decision.toolUseId);
  }
  // A run paused before a restart has not resolved its tools in this process yet.
  run.tools ??= await ToolSet.resolve(run.spec.tools ?? [], ctx.options.tools, run.spec);
  for (const decision of decisions) decide(ctx, run, decision);
  commitInput(ctx, run);
  try {
    await ctx.options.log.flush(run.id);
  } finally {
    settled(ctx, run);
  }
}

/** The run if it can still take input; throws run_terminal (or returns undefined for a cancelled one, when asked to). */
function liveRun(ctx: EngineContext, record: RunRecord, options: { ignoreCancelled: boolean }): ActiveRun | undefined {
  const run = ctx.runs.get(record.id);
  const cancelled = record.status === "cancelled" || run?.record.status === "cancelled" || run?.cancelReason !== undefined;
  if (run && !run.closing && run.cancelReason === undefined) return run;
  // §9: results racing a cancel are accepted and ignored.
  if (cancelled && options.ignoreCancelled) return undefined;
  throw new AgentdError("run_terminal", `run ${record.id} has already finished (${run?.record.status ?? record.status})`);
}

/** Whether a tool-result POST repeats the answer the call already has. */
function sameAnswer(call: PendingToolCall, outcome: { result?: string; error?: string }): boolean {
  return outcome.error !== undefined ? call.error === outcome.error : call.error === undefined && call.result === (outcome.result ?? "");
}
