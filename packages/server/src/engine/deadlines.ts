import type { AgentSpec, ResultSubtype } from "@agentd/protocol";
import { ActiveRun, awaitsApproval, awaitsLocalResult } from "./active-run.js";

export const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 3600 * 1000;

export function approvalTimeoutMs(spec: AgentSpec): number {
  return spec.approval?.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
}

export interface DeadlineActions {
  localToolTimeoutMs: number;
  expired(subtype: ResultSubtype, error: string): void;
  rejectApprovals(reason: string): void;
  cancel(reason: string): void;
}

/**
 * The run's clocks, from what the checkpoint says (so they survive a
 * restart): waiting for local results, waiting for approvals (then the
 * approval policy: error, reject or cancel), and the run's wall-clock budget.
 * Nothing waits forever.
 */
export function armDeadlines(run: ActiveRun, actions: DeadlineActions): void {
  const checkpoint = run.record.checkpoint;
  const timers = run.timers;
  if (timers.local) clearTimeout(timers.local);
  if (timers.approval) clearTimeout(timers.approval);
  timers.local = timers.approval = undefined;

  if (checkpoint.pendingDeadline !== null && run.pending.some(awaitsLocalResult)) {
    timers.local = at(checkpoint.pendingDeadline, () => {
      const waiting = run.pending.filter(awaitsLocalResult);
      if (run.closing || waiting.length === 0) return;
      const names = waiting.map((call) => `${call.name} (${call.toolUseId})`).join(", ");
      actions.expired("error_local_tool_timeout", `no result for local tool call ${names} within ${actions.localToolTimeoutMs} ms`);
    });
  }

  const approvalDeadline = checkpoint.approvalDeadline ?? null;
  if (approvalDeadline !== null && run.pending.some(awaitsApproval)) {
    timers.approval = at(approvalDeadline, () => {
      const waiting = run.pending.filter(awaitsApproval);
      if (run.closing || waiting.length === 0) return;
      const names = waiting.map((call) => `${call.name} (${call.toolUseId})`).join(", ");
      const timeout = approvalTimeoutMs(run.spec);
      switch (run.spec.approval?.onTimeout ?? "error") {
        case "reject":
          return actions.rejectApprovals(`no decision within ${timeout} ms`);
        case "cancel":
          return actions.cancel(`no approval decision for ${names} within ${timeout} ms`);
        default:
          return actions.expired("error_approval_timeout", `no approval decision for ${names} within ${timeout} ms`);
      }
    });
  }

  const maxDurationMs = run.spec.budgets?.maxDurationMs;
  if (maxDurationMs !== undefined && !timers.wall && run.record.startedAt) {
    timers.wall = at(Date.parse(run.record.startedAt) + maxDurationMs, () => {
      if (run.closing) return;
      actions.expired("error_timeout", `the run took longer than ${maxDurationMs} ms (budgets.maxDurationMs)`);
    });
  }
}

function at(epochMs: number, fire: () => void): NodeJS.Timeout {
  const timer = setTimeout(fire, Math.max(0, epochMs - Date.now()));
  timer.unref();
  return timer;
}
