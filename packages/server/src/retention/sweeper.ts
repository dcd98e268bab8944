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
  /** Told each batch of runs deleted, so every process's event tail forgets them (EventLog.runsDeleted). */
  forget(runIds: readonly string[]): void;
  /** The clock runs are aged by, epoch ms (tests age runs with it). @default Date.now */
  now?: () => number;
}

/**
 * Defaults. A batch's events are what it costs (each is a row of run_events
 * to delete; a run is one more): measured here, SQLite deletes 4-7 µs per
 * event on the process's one thread, so 2,000 events hold it ~10 ms;
 * PostgreSQL's batch runs on the server, off the event loop, and a bigger
 * one makes fewer, longer transactions (50,000 events: 80-120 ms). See
 * docs/scaling.md "Retention".
 */
export const RETENTION_DEFAULTS = {
  sweepIntervalMs: 300_000,
  batchRuns: 500,
  batchEvents: { sqlite: 2_000, postgres: 50_000 } as Record<string, number>,
} as const;

/** The longest pause between two batches, in milliseconds. */
const MAX_PAUSE_MS = 1_000;

/** The store-wide lock of the sweep (Store.lockTask). */
const TASK = "retention";

/**
 * The retention sweep (issue #11, docs/scaling.md "Retention"): every
 * `sweepIntervalMs`, on whichever process of the store takes the task lock
 * (so one worker of a cluster at a time), it deletes each workspace's ended
 * runs older than its retention, in batches (`batchRuns` runs and
 * `batchEvents` events at most, each one statement and one transaction),
 * pausing between batches as long as the last one took, so the run path
 * never waits behind more than one batch and the sweep takes at most half
 * of the thread however large the backlog. A failed round is logged and the next one
 * tries again; nothing escapes. `close()` stops it between two batches.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<SweepOutcome> | undefined;
  private stopping = false;
  /** Ends the pause between two batches early (close). */
  private wake: (() => void) | undefined;
  private readonly intervalMs: number;
  private readonly batch: RetentionBatch;
  private readonly now: () => number;

  constructor(private readonly options: SweeperOptions) {
    const config = options.config ?? {};
    this.intervalMs = config.sweepIntervalMs ?? RETENTION_DEFAULTS.sweepIntervalMs;
    this.batch = {
      maxRuns: config.batchRuns ?? RETENTION_DEFAULTS.batchRuns,
      maxEvents: config.batchEvents ?? RETENTION_DEFAULTS.batchEvents[options.store.kind] ?? RETENTION_DEFAULTS.batchEvents.postgres!,
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
    this.wake?.();
    await this.round;
  }

  private async run(): Promise<SweepOutcome> {
    const { store, logger, observer } = this.options;
    const progress = { deleted: 0 };
    let outcome: SweepOutcome["outcome"] = "swept";
    try {
      const release = await store.lockTask(TASK);
      if (release === undefined) outcome = "skipped";
      else {
        try {
          await this.sweepAll(progress, (count) => observer?.runsSwept(count));
          if (this.stopping) outcome = "stopped";
        } finally {
          await release();
        }
      }
    } catch (error) {
      outcome = "failed";
      logger.error({ err: error, deletedRuns: progress.deleted }, "retention sweep failed; the next round retries");
    }
    observer?.sweepEnded(outcome);
    if (progress.deleted > 0) logger.info({ deletedRuns: progress.deleted }, "retention sweep deleted expired runs");
    return { outcome, deleted: progress.deleted };
  }

  /** Counts into `progress` as it goes, so a round that fails half-way still says what it deleted. */
  private async sweepAll(progress: { deleted: number }, swept: (count: number) => void): Promise<void> {
    const { store, config, forget } = this.options;
    for (const { workspace, settings } of await store.listWorkspaceSettings()) {
      const { days } = effectiveRetention(workspace, settings, config);
      if (days === null) continue;
      const endedBefore = new Date(this.now() - days * DAY_MS).toISOString();
      for (;;) {
        if (this.stopping) return;
        const started = performance.now();
        const { deleted, more } = await store.deleteExpiredRuns(workspace.id, endedBefore, this.batch);
        forget(deleted);
        if (deleted.length > 0) swept(deleted.length);
        progress.deleted += deleted.length;
        // Between batches, a pause as long as the batch took: the sweep
        // takes at most half of the thread (SQLite's driver is synchronous,
        // a batch holds it while it runs) or of a connection, however large
        // the backlog, and the run path is served in between.
        await this.pause(Math.min(MAX_PAUSE_MS, performance.now() - started));
        if (!more || deleted.length === 0) break;
      }
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
