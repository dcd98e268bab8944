import type { AgentSpec, RunEvent, RunEventInput, Usage } from "@agentd/protocol";
import type { LanguageModel, ModelUsage } from "../models/types.js";
import type { PendingToolCall, RunRecord } from "../store/types.js";
import type { ToolSet } from "./toolset.js";

/**
 * A run this process is responsible for: the in-memory copy of its record,
 * its seq counter and the handles that stop it. The record stays the source
 * of what gets checkpointed; the engine keeps the two in step.
 */
export class ActiveRun {
  readonly abort = new AbortController();
  /** Set once cancel is asked for; the loop ends the run at its next check. */
  cancelReason: string | undefined;
  /** True while a loop is executing this run (at most one at a time). */
  executing = false;
  /** Work arrived while the loop was executing: run it again when it returns. */
  wake = false;
  /** True once ending has begun: no second ending, no new work. */
  closing = false;
  /** True once the terminal event is queued: nothing more may be emitted. */
  finished = false;
  model: LanguageModel | undefined;
  /** The id of the run's root span, once computed (engine/trace.ts). */
  rootSpanId: string | undefined;
  tools: ToolSet | undefined;
  /** Server tool calls in flight, by toolUseId. */
  readonly running = new Map<string, AbortController>();
  readonly timers: { local?: NodeJS.Timeout; approval?: NodeJS.Timeout; wall?: NodeJS.Timeout } = {};

  constructor(readonly record: RunRecord) {
    // Checkpoints written before a field existed get its empty value.
    const checkpoint = record.checkpoint;
    checkpoint.callCounts ??= {};
    checkpoint.callRepeats ??= {};
    checkpoint.dependencies ??= {};
    checkpoint.approvalDeadline ??= null;
    checkpoint.outputRepairs ??= 0;
    for (const call of checkpoint.pending) call.executor ??= "local";
  }

  get id(): string {
    return this.record.id;
  }

  get spec(): AgentSpec {
    return this.record.agentSpec;
  }

  get pending(): PendingToolCall[] {
    return this.record.checkpoint.pending;
  }

  /** Stamps seq and time on an event; the caller queues it in the log. */
  stamp(input: RunEventInput): RunEvent {
    const seq = this.record.lastSeq + 1;
    this.record.lastSeq = seq;
    return { seq, at: new Date().toISOString(), ...input } as RunEvent;
  }

  /**
   * Adds a model step to the run's usage. The cost is null from the first
   * step whose price is unknown on: a sum that leaves a step out would be a
   * guess (issue #11). Sums are rounded to a nano-dollar, as each step's is.
   */
  addUsage(step: ModelUsage, costUsd: number | null, toolCalls: number): Usage {
    const usage = this.record.usage;
    const first = (usage.modelCalls ?? 0) === 0;
    usage.inputTokens += step.inputTokens;
    usage.outputTokens += step.outputTokens;
    if (step.cachedInputTokens) usage.cachedInputTokens = (usage.cachedInputTokens ?? 0) + step.cachedInputTokens;
    usage.totalTokens = usage.inputTokens + usage.outputTokens;
    usage.modelCalls = (usage.modelCalls ?? 0) + 1;
    usage.toolCalls = (usage.toolCalls ?? 0) + toolCalls;
    if (costUsd === null) usage.costUsd = null;
    else if (first || usage.costUsd !== null) usage.costUsd = Math.round(((usage.costUsd ?? 0) + costUsd) * 1e9) / 1e9;
    return usage;
  }

  clearTimers(): void {
    for (const timer of Object.values(this.timers)) if (timer) clearTimeout(timer);
    this.timers.local = this.timers.approval = this.timers.wall = undefined;
  }
}

export const isAnswered = (call: PendingToolCall): boolean => call.result !== undefined || call.error !== undefined;
export const awaitsApproval = (call: PendingToolCall): boolean => call.approval === "pending";
/** A local call the caller has been asked for (approved or needing no approval) and not yet answered. */
export const awaitsLocalResult = (call: PendingToolCall): boolean =>
  call.executor === "local" && !isAnswered(call) && !awaitsApproval(call);
