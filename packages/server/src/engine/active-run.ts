import type { AgentSpec, RunEvent, RunEventInput, Usage } from "@agentd/protocol";
import type { LanguageModel } from "../models/types.js";
import type { RunRecord } from "../store/types.js";

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
  /** True once ending has begun: no second ending, no new work. */
  closing = false;
  /** True once the terminal event is queued: nothing more may be emitted. */
  finished = false;
  deadlineTimer: NodeJS.Timeout | undefined;
  model: LanguageModel | undefined;

  constructor(readonly record: RunRecord) {}

  get id(): string {
    return this.record.id;
  }

  get spec(): AgentSpec {
    return this.record.agentSpec;
  }

  /** Stamps seq and time on an event; the caller queues it in the log. */
  stamp(input: RunEventInput): RunEvent {
    const seq = this.record.lastSeq + 1;
    this.record.lastSeq = seq;
    return { seq, at: new Date().toISOString(), ...input } as RunEvent;
  }

  addUsage(inputTokens: number, outputTokens: number, costUsd: number | null): Usage {
    const usage = this.record.usage;
    usage.inputTokens += inputTokens;
    usage.outputTokens += outputTokens;
    usage.totalTokens = usage.inputTokens + usage.outputTokens;
    if (costUsd !== null) usage.costUsd = (usage.costUsd ?? 0) + costUsd;
    return usage;
  }

  clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }
}
