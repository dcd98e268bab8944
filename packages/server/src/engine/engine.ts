import type { ApprovalDecision, RunEventInput } from "@agentd/protocol";
import type { RunRecord } from "../store/types.js";
import { ActiveRun } from "./active-run.js";
import type { EngineContext, EngineOptions } from "./context.js";
import { cancel, continueRun, submitToolResult, type ToolResultOutcome } from "./input.js";
import { LeaseKeeper } from "./leases.js";
import { lost } from "./leave.js";
import { execute } from "./loop.js";
import { applyDeadline, recover, reloadLater } from "./resume.js";
import { close, drain } from "./shutdown.js";
import { settled } from "./waiting.js";

export type { EngineOptions } from "./context.js";
export type { ToolResultOutcome } from "./input.js";

/**
 * What the server asks of the engine (runs/service.ts, sessions, server.ts),
 * and the wiring of its rooms, each a file of functions over one shared
 * EngineContext (context.ts):
 *
 * - loop.ts: the agent loop, model step → tool calls → repeat;
 * - waiting.ts: a run paused on the outside, its clocks, and the answers that let it go on;
 * - input.ts: what callers send a run (cancel, tool results, approval decisions);
 * - endings.ts: the one place a terminal event is written;
 * - resume.ts: resume and takeover (start-up, a failed commit, a lease claimed from another worker);
 * - leave.ts: a run leaving this process without ending (parked, or its lease lost);
 * - shutdown.ts: drain and close;
 * - leases.ts: the cluster's leases themselves (claims, heartbeat, sweep).
 */
export class RunEngine {
  private readonly ctx: EngineContext;
  private counted = { at: 0, active: 0, since: 0 };

  constructor(options: EngineOptions) {
    const { cluster, log } = options;
    // The hot path: one call per event, nothing allocated but the event.
    const emit = (run: ActiveRun, input: RunEventInput): void => {
      if (run.finished || ctx.stopping) return;
      log.append(run.id, run.stamp(input));
    };
    const ctx: EngineContext = {
      options,
      runs: new Map(),
      loops: new Set(),
      adopting: new Map(),
      keeper: cluster
        ? new LeaseKeeper(
            options.store,
            log,
            cluster,
            {
              lost: (runIds) => lost(ctx, runIds),
              orphan: (runId) => options.queue.enqueue(runId),
              due: (runId) => applyDeadline(ctx, runId),
              cancelRequested: (runId, reason) => {
                const run = ctx.runs.get(runId);
                if (run && run.cancelReason === undefined) void cancel(ctx, run.record, reason);
              },
            },
            options.logger,
          )
        : undefined,
      stopping: false,
      draining: false,
      emit,
      stepHooks: {
        emit,
        models: options.models,
        ...(options.observer ? { observer: options.observer } : {}),
        saveCheckpoint: (run) => log.patchRun(run.id, { checkpoint: run.record.checkpoint }),
      },
      turnHooks: {
        emit,
        settled: (run) => settled(ctx, run),
        localToolTimeoutMs: options.localToolTimeoutMs,
        serverToolTimeoutMs: options.serverToolTimeoutMs,
      },
      execute: (runId) => execute(ctx, runId),
      cancel: (record, reason) => cancel(ctx, record, reason),
    };
    this.ctx = ctx;
    const keeper = ctx.keeper;
    if (cluster && keeper) {
      log.onFenced = (runIds) => {
        keeper.revoke(runIds);
        lost(ctx, runIds);
      };
      // The store did not take this worker's writes: stop those runs here; their
      // leases lapse and a worker (maybe this one) resumes them from the store.
      log.onCommitFailed = (runIds) => {
        keeper.revoke(runIds);
        lost(ctx, runIds);
      };
      // Another worker recorded a cancel of a run (input.ts cancelElsewhere): if it is held here, stop it with the recorded reason.
      cluster.bus.onSignal("cancel", (runId) => {
        if (!ctx.runs.has(runId)) return;
        void options.store.cancelRequests([runId]).then(
          ([request]) => {
            const run = ctx.runs.get(runId);
            if (run && run.cancelReason === undefined) void cancel(ctx, run.record, request?.reason ?? "cancelled by request");
          },
          () => undefined,
        );
      });
    }
    if (!cluster) log.onCommitFailed = (runIds) => reloadLater(ctx, lost(ctx, runIds));
    options.queue.process((runId) => execute(ctx, runId), { concurrency: cluster ? 256 : 10_000 });
  }

  /** The in-memory record of a run this process is executing, if any. */
  activeRecord(runId: string): RunRecord | undefined {
    const run = this.ctx.runs.get(runId);
    return run && !run.finished ? run.record : undefined;
  }

  /**
   * Runs this process holds that are not paused: queued or executing here
   * (the admission cap's "process full"). Counted at most every 50 ms, plus
   * the runs submitted since: cheap at 10,000 runs, and never an undercount
   * of new work.
   */
  get activeRuns(): number {
    const now = Date.now();
    if (now - this.counted.at > 50) {
      let active = 0;
      for (const run of this.ctx.runs.values()) if (run.record.status !== "paused" && !run.finished) active++;
      this.counted = { at: now, active, since: 0 };
    }
    return this.counted.active + this.counted.since;
  }

  /** True when runs execute under leases, shared with other workers. */
  get clustered(): boolean {
    return this.ctx.keeper !== undefined;
  }

  /** Takes charge of a freshly inserted run and queues it (in a cluster: for whichever worker has room). */
  submit(record: RunRecord): void {
    this.counted.since++;
    const { queue } = this.ctx.options;
    if (this.ctx.keeper) return queue.enqueue(record.id);
    this.ctx.runs.set(record.id, new ActiveRun(record));
    queue.enqueue(record.id);
  }

  /** Picks up runs a previous process left unfinished (start-up). In a cluster the lease sweep does it, continuously. */
  recover(): Promise<number> {
    return recover(this.ctx);
  }

  cancel(record: RunRecord, reason: string | undefined): Promise<void> {
    return cancel(this.ctx, record, reason);
  }

  /** Seed 004 §8: a result for one pending local tool call. */
  submitToolResult(record: RunRecord, toolUseId: string, outcome: { result?: string; error?: string }): Promise<ToolResultOutcome> {
    return submitToolResult(this.ctx, record, toolUseId, outcome);
  }

  /** Decisions on calls waiting for approval (`POST /continue`); all or nothing. */
  continueRun(record: RunRecord, decisions: ApprovalDecision[]): Promise<void> {
    return continueRun(this.ctx, record, decisions);
  }

  /** First half of a graceful shutdown (shutdown.ts): no new run or step; what is in flight may finish within `graceMs`. */
  drain(graceMs: number): Promise<void> {
    return drain(this.ctx, graceMs);
  }

  /** Stops every loop; runs mid-step are handed over, resumable from their last checkpoint (shutdown.ts). */
  close(): Promise<void> {
    return close(this.ctx);
  }
}
