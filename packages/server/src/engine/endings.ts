import type { ChatMessage, ResultSubtype, RunStatus } from "@agentd/protocol";
import type { RunRecord } from "../store/types.js";
import type { ActiveRun } from "./active-run.js";
import type { EngineContext } from "./context.js";
import { closeStep, closeWait, toolSpans } from "./trace.js";

/** What a `result` says besides its subtype. */
export type Outcome = { text?: string; output?: unknown; error?: string; issues?: Array<{ path: string; message: string }> };

/**
 * The endings of a run: the one place a terminal event (`result` or
 * `cancelled`) is written. Every way a run ends (its answer, a budget, a
 * guard, a deadline, a cancel, an internal error) comes through here, so a
 * new ending is a new caller of finish() with its `ResultSubtype`, and the
 * rule "exactly one terminal event, committed with the final state and the
 * session's release" is kept in one function, end().
 *
 * Ends a run with a `result`: `completed` for success, `failed` for every other subtype.
 */
export function finish(ctx: EngineContext, run: ActiveRun, subtype: ResultSubtype, outcome: Outcome): Promise<void> {
  return end(ctx, run, subtype === "success" ? "completed" : "failed", (endedAt) => {
    const record = run.record;
    const durationMs = Date.parse(endedAt) - Date.parse(record.startedAt ?? record.createdAt);
    ctx.emit(run, { type: "result", subtype, ...outcome, usage: { ...record.usage }, durationMs });
    return { text: outcome.text ?? null, subtype, error: outcome.error ?? null };
  });
}

/** Ends a run with `cancelled` (its reason was set by the cancel). */
export function finishCancelled(ctx: EngineContext, run: ActiveRun): Promise<void> {
  return end(ctx, run, "cancelled", () => {
    ctx.emit(run, { type: "cancelled", reason: run.cancelReason ?? "cancelled", usage: { ...run.record.usage } });
    return { text: null, subtype: null, error: run.cancelReason ?? null };
  });
}

/** A bug or an outage escaped the loop: the run fails without showing its message (it goes to the log). */
export function failUnexpected(ctx: EngineContext, run: ActiveRun, error: unknown): Promise<void> {
  ctx.options.logger.error({ err: error, runId: run.id }, "run failed with an internal error");
  return finish(ctx, run, "error_internal", { error: "internal error in agentd; see the server log for this run id" });
}

/**
 * Queues the terminal event together with the final state and the
 * session's release, so they commit in one transaction: a client that sees
 * the terminal event can send the session's next message at once.
 */
async function end(
  ctx: EngineContext,
  run: ActiveRun,
  status: RunStatus,
  terminal: (endedAt: string) => Pick<RunRecord, "text" | "subtype" | "error">,
): Promise<void> {
  if (run.closing || ctx.stopping) return;
  run.closing = true;
  run.clearTimers();
  // Stops server tools still running. A shared reason: abort() would build a DOMException (a stack trace) per run.
  if (!run.abort.signal.aborted) run.abort.abort(RUN_ENDED);
  const { store, log } = ctx.options;
  const record = run.record;
  const session = record.sessionId ? await store.getSession(record.workspaceId, record.sessionId) : undefined;
  if (ctx.stopping) return; // left as it was: the next start resumes it
  const endedAt = new Date().toISOString();
  // Every terminal event says these (issue #11), a run that never called its model included.
  const usage = record.usage;
  usage.cachedInputTokens ??= 0;
  usage.modelCalls ??= 0;
  usage.toolCalls ??= 0;
  const fields = { ...terminal(endedAt), endedAt };
  run.finished = true;
  Object.assign(record, fields, { status });
  closeWait(log, run, endedAt);
  if (record.checkpoint.pending.length > 0)
    toolSpans(log, run, record.checkpoint.pending, { by: `the run ended (${status})`, at: endedAt });
  closeStep(log, run, endedAt);
  record.checkpoint.pending = [];
  record.checkpoint.pendingDeadline = null;
  record.checkpoint.approvalDeadline = null;
  log.patchRun(record.id, { ...fields, status, usage: record.usage, checkpoint: record.checkpoint });
  ctx.runs.delete(record.id);
  ctx.options.observer?.runEnded(
    record.agentId,
    status,
    Date.parse(endedAt) - Date.parse(record.startedAt ?? record.createdAt),
    record.usage,
  );
  ctx.options.traceExport?.ended(record.workspaceId, record.id);
  if (ctx.keeper) void ctx.keeper.ended(record.id);
  // A queued run of a session never held it: nothing to release.
  if (session && session.activeRunId === record.id) {
    const messages = status === "completed" ? [...session.messages, ...newTurns(record)] : undefined;
    log.patchSession(session.id, { activeRunId: null, lastUsedAt: endedAt, ...(messages ? { messages } : {}) });
    await log.flush().catch(() => undefined);
    await ctx.options.sessionReleased(record.workspaceId, session.id);
  }
}

const RUN_ENDED = new Error("the run ended");

/** The turns a successful session run adds to the session's history. */
function newTurns(record: RunRecord): ChatMessage[] {
  const turns: ChatMessage[] = [];
  for (const message of record.checkpoint.messages.slice(record.checkpoint.inputStart)) {
    if (message.role === "user" || message.role === "system") turns.push({ role: message.role, content: message.content });
  }
  turns.push({ role: "assistant", content: record.text ?? "" });
  return turns;
}
