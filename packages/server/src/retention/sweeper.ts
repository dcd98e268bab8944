import type { RetentionConfig } from "../config/types.js";
import type { Logger } from "../logger.js";
import type { RetentionBatch, Store } from "../store/types.js";
import { DAY_MS, effectiveRetention } from "./policy.js";

/** What the sweep reports (Metrics implements it). */
export interface RetentionObserver {
  /** Runs deleted by one batch (with their events and spans). */
  runsSwept(count: number): void;
  /** One round: `swept` (ran to its end), `skipped` (another process holds the lock), `stopped` (shutdown), `failed`. */
  sweepEnded(outcome: SweepOutcome["outcome"]): void;
}

export interface SweepOutcome {
  outcome: "swept" | "skipped" | "stopped" | "failed";
  /** Runs this round deleted. */
  deleted: number;
}

export interface SweeperOptions {
  store: Store;
  config: RetentionConfig | undefined;
  logger: Logger;
  observer?: RetentionObserver;
  /** Told each run deleted, so this process's event tail forgets it (events/tail-cache.ts). */
  forget(runId: string): void;
  /** The clock runs are aged by, epoch ms (tests age runs with it). @default Date.now */
  now?: () => number;
}

export const RETENTION_DEFAULTS = { sweepIntervalMs: 300_000, batchRuns: 500, batchEvents: 50_000 } as const;

/** The store-wide lock of the sweep (Store.lockTask). */
const TASK = "retention";

/**
 * The retention sweep (issue #11, docs/scaling.md "Retention"): every
 * `sweepIntervalMs`, on whichever process of the store takes the task lock
 * (so one worker of a cluster at a time), it deletes each workspace's ended
 * runs older than its retention, in batches (`batchRuns` runs and
 * `batchEvents` events at most, each one statement and one transaction),
 * handing the event loop back between batches so the run path never waits
 * behind more than one batch. A failed round is logged and the next one
 * tries again; nothing escapes. `close()` stops it between two batches.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<SweepOutcome> | undefined;
  private stopping = false;
  private readonly intervalMs: number;
  private readonly batch: RetentionBatch;
  private readonly now: () => number;

  constructor(private readonly options: SweeperOptions) {
    const config = options.config ?? {};
    this.intervalMs = config.sweepIntervalMs ?? RETENTION_DEFAULTS.sweepIntervalMs;
    this.batch = {
      maxRuns: config.batchRuns ?? RETENTION_DEFAULTS.batchRuns,
      maxEvents: config.batchEvents ?? RETENTION_DEFAULTS.batchEvents,
    };
    this.now = options.now ?? Date.now;
  }

  /** Sweeps every `sweepIntervalMs`, the first round one interval after start (start-up has enough to do). */
  start(): void {
    if (this.stopping || this.timer !== undefined) return;
    const next = (): void => {
      this.timer = setTimeout(() => {
        void this.sweep().then(() => {
          if (!this.stopping) next();
        });
      }, this.intervalMs);
      // A sweep never keeps the process alive on its own.
      this.timer.unref();
    };
    next();
  }

  /** One round now (a round in progress is joined, not doubled). Never rejects. */
  sweep(): Promise<SweepOutcome> {
    if (this.stopping) return Promise.resolve({ outcome: "stopped", deleted: 0 });
    this.round ??= this.run().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Stops the timer and waits for a round in progress to stop after its current batch. */
  async close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.round;
  }

  private async run(): Promise<SweepOutcome> {
    const { store, logger, observer } = this.options;
    let deleted = 0;
    let outcome: SweepOutcome["outcome"] = "swept";
    try {
      const release = await store.lockTask(TASK);
      if (release === undefined) outcome = "skipped";
      else {
        try {
          deleted = await this.sweepAll((count) => observer?.runsSwept(count));
          if (this.stopping) outcome = "stopped";
        } finally {
          await release();
        }
      }
    } catch (error) {
      outcome = "failed";
      logger.error({ err: error, deletedRuns: deleted }, "retention sweep failed; the next round retries");
    }
    observer?.sweepEnded(outcome);
    if (deleted > 0) logger.info({ deletedRuns: deleted }, "retention sweep deleted expired runs");
    return { outcome, deleted };
  }

  private async sweepAll(swept: (count: number) => void): Promise<number> {
    const { store, config, forget } = this.options;
    let total = 0;
    for (const { workspace, settings } of await store.listWorkspaceSettings()) {
      const { days } = effectiveRetention(workspace, settings, config);
      if (days === null) continue;
      const endedBefore = new Date(this.now() - days * DAY_MS).toISOString();
      for (;;) {
        if (this.stopping) return total;
        const { deleted, more } = await store.deleteExpiredRuns(workspace.id, endedBefore, this.batch);
        for (const runId of deleted) forget(runId);
        if (deleted.length > 0) swept(deleted.length);
        total += deleted.length;
        // Between batches, the event loop serves the run path (SQLite's
        // driver is synchronous: a batch holds the thread while it runs).
        await new Promise((resolve) => setImmediate(resolve));
        if (!more || deleted.length === 0) break;
      }
    }
    return total;
  }
}
