import { randomUUID } from "node:crypto";
import { TERMINAL_RUN_STATUSES } from "@agentd/protocol";
import { sha256Hex } from "../digest.js";
import type { EventLog } from "../events/log.js";
import type { PendingToolCall, RunRecord, SpanRecord, SpanStatus } from "../store/types.js";
import { awaitsApproval, type ActiveRun } from "./active-run.js";
import type { StepResult } from "./step.js";

/**
 * A run's trace (issue #11, docs/traces.md): the rooms call these at the
 * points a span opens or closes, and each span is one small object queued
 * in the event log (`EventLog.appendSpan`), so it commits with the run's
 * events and checkpoint in the same group commit: no transaction, await or
 * per-event work of its own. Spans are
 *
 * - `run`, the root: not written at all; readers make it up from the run's
 *   row, which holds its times, status and usage (rootSpan);
 * - `model`, one per model step (retries and fallbacks included), child of
 *   the root: from the model's request until the step's tool calls are
 *   answered (its `latencyMs` is the model call's own), so the tool spans
 *   lie inside it. While they run it is open, and kept in the checkpoint,
 *   so whichever attempt folds the answers closes it;
 * - `tool`, one per tool call of a turn, child of the model step that asked
 *   for it: written once the call is answered, from the times kept on the
 *   pending call in the checkpoint, so a call that outlives its worker
 *   still gets its whole interval;
 * - `wait`, the run paused on local tools or approvals (kept open in the
 *   checkpoint), child of the root.
 *
 * Each carries the attempt (checkpoint.attempt) that made it: a run resumed
 * after a crash or a takeover shows both attempts.
 */

/** The trace id of a run (32 hex digits) and its root span's id (16), derived from the run id: nothing to store, the same on every worker. */
export function traceIds(runId: string): { traceId: string; rootSpanId: string } {
  const digest = sha256Hex(runId);
  return { traceId: digest.slice(0, 32), rootSpanId: digest.slice(32, 48) };
}

/** A fresh span id: 16 hex digits (randomUUID draws from a cached pool). */
export function newSpanId(): string {
  const uuid = randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18);
}

function rootOf(run: ActiveRun): string {
  return (run.rootSpanId ??= traceIds(run.id).rootSpanId);
}

function span(
  run: ActiveRun,
  fields: Omit<SpanRecord, "runId" | "attempt" | "error" | "status"> & { status?: SpanStatus; error?: string | null },
): SpanRecord {
  return { runId: run.id, attempt: run.record.checkpoint.attempt, status: "ok", error: null, ...fields };
}

/**
 * The root span of a run, as readers see it (traces/service.ts): never
 * written by the engine, since everything it says (times, status, error,
 * usage) is on the run's row, committed with the run's last checkpoint. A
 * row per run for the same facts cost a second span INSERT and its JSON on
 * every one-shot run (docs/benchmarks.md, issue #11). Open (`endedAt`
 * null) while the run has not ended. It spans every attempt, so it
 * carries the first's number.
 */
export function rootSpan(record: RunRecord): SpanRecord {
  const ended = TERMINAL_RUN_STATUSES.has(record.status);
  const usage = record.usage;
  return {
    runId: record.id,
    spanId: traceIds(record.id).rootSpanId,
    parentSpanId: null,
    name: "run",
    kind: "agent",
    attempt: 1,
    startedAt: record.startedAt ?? record.createdAt,
    endedAt: ended ? (record.endedAt ?? record.startedAt ?? record.createdAt) : null,
    status: record.status === "failed" ? "error" : "ok",
    error: record.status === "failed" ? record.error : null,
    attributes: {
      modelId: record.modelId,
      ...(record.agentId ? { agentId: record.agentId } : {}),
      ...(ended
        ? {
            runStatus: record.status,
            ...(record.subtype ? { subtype: record.subtype } : {}),
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            cachedInputTokens: usage.cachedInputTokens ?? 0,
            modelCalls: usage.modelCalls ?? 0,
            toolCalls: usage.toolCalls ?? 0,
            costUsd: usage.costUsd,
          }
        : {}),
    },
  };
}

/** A model step that answered: its span, left open (in the checkpoint) when it asked for tools, as their parent. */
export function modelSpan(log: EventLog, run: ActiveRun, startedAt: number, step: StepResult, costUsd: number | null): void {
  const usage = step.usage;
  const record = span(run, {
    spanId: newSpanId(),
    parentSpanId: rootOf(run),
    name: "model",
    kind: step.model.info.provider,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: step.toolCalls.length > 0 ? null : new Date().toISOString(),
    attributes: {
      modelId: step.model.id,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cachedInputTokens: usage.cachedInputTokens ?? 0,
      latencyMs: step.durationMs,
      timeToFirstTokenMs: step.timeToFirstTokenMs,
      finishReason: step.finishReason,
      toolCalls: step.toolCalls.length,
      costUsd,
    },
  });
  if (record.endedAt === null) run.record.checkpoint.step = record;
  log.appendSpan(record);
}

/** The step's tool calls are answered (or the run ends): its open model span closes. */
export function closeStep(log: EventLog, run: ActiveRun, endedAt = new Date().toISOString()): void {
  const checkpoint = run.record.checkpoint;
  const step = checkpoint.step;
  if (!step) return;
  delete checkpoint.step;
  log.appendSpan({ ...step, endedAt });
}

/** A model step that failed (the run ends with error_model, or stops): an error span with no tokens. */
export function failedModelSpan(log: EventLog, run: ActiveRun, startedAt: number, error: string): void {
  log.appendSpan(
    span(run, {
      spanId: newSpanId(),
      parentSpanId: rootOf(run),
      name: "model",
      kind: run.model?.info.provider ?? "unknown",
      startedAt: new Date(startedAt).toISOString(),
      endedAt: new Date().toISOString(),
      status: "error",
      error,
      attributes: { modelId: run.model?.id ?? run.record.modelId, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
    }),
  );
}

/**
 * The turn's tool calls, answered (the loop folds them into the
 * conversation) or cut short by the run's end (`endedBy`): one span each,
 * from when it was dispatched (or planned, for one answered at once) to its
 * answer.
 */
export function toolSpans(log: EventLog, run: ActiveRun, calls: PendingToolCall[], ended?: { by: string; at: string }): void {
  const parent = run.record.checkpoint.step?.spanId ?? rootOf(run);
  const now = ended ? Date.parse(ended.at) : Date.now();
  const endedBy = ended?.by;
  for (const call of calls) {
    const started = call.startedAt ?? now;
    const finished = Math.min(call.endedAt ?? now, now);
    const outcome =
      call.approval === "rejected" ? "rejected" : call.error !== undefined ? "error" : call.result !== undefined ? "ok" : "unanswered";
    const error = call.error ?? (outcome === "unanswered" ? (endedBy ?? null) : null);
    log.appendSpan(
      span(run, {
        spanId: newSpanId(),
        parentSpanId: parent,
        name: "tool",
        kind: call.executor,
        startedAt: new Date(started).toISOString(),
        endedAt: new Date(Math.max(started, finished)).toISOString(),
        status: outcome === "ok" ? "ok" : "error",
        error,
        attributes: { toolName: call.name, toolUseId: call.toolUseId, durationMs: Math.max(0, finished - started), outcome },
      }),
    );
  }
}

/** The run pauses on the outside: its wait span opens (kept in the checkpoint, so it closes on whichever worker the answer reaches). */
export function openWait(log: EventLog, run: ActiveRun): void {
  const checkpoint = run.record.checkpoint;
  if (checkpoint.wait) return;
  const kind = run.pending.some(awaitsApproval) ? "approval" : "local_tool";
  const startedAt = new Date().toISOString();
  checkpoint.wait = { spanId: newSpanId(), kind, startedAt };
  log.appendSpan(
    span(run, { spanId: checkpoint.wait.spanId, parentSpanId: rootOf(run), name: "wait", kind, startedAt, endedAt: null, attributes: {} }),
  );
}

/** The pause is over (the run goes on or ends): its wait span closes. */
export function closeWait(log: EventLog, run: ActiveRun, endedAt = new Date().toISOString()): void {
  const checkpoint = run.record.checkpoint;
  const wait = checkpoint.wait;
  if (!wait) return;
  delete checkpoint.wait;
  const waitedMs = Date.parse(endedAt) - Date.parse(wait.startedAt);
  log.appendSpan(
    span(run, {
      spanId: wait.spanId,
      parentSpanId: rootOf(run),
      name: "wait",
      kind: wait.kind,
      startedAt: wait.startedAt,
      endedAt,
      attributes: { waitedMs },
    }),
  );
}
