import type { EventLog } from "../events/log.js";
import type { Logger } from "../logger.js";
import type { RunRecord, Store } from "../store/types.js";

export interface ClusterOptions {
  /** This process's name in leases; unique among live workers. */
  workerId: string;
  /** How long a lease lasts without a heartbeat, in milliseconds. */
  leaseMs: number;
}

export interface LeaseHooks {
  /** Leases this worker lost (its heartbeat came too late, or a commit was fenced): stop those runs, write nothing. */
  lost(runIds: string[]): void;
  /** A run nobody is executing (its worker died, or it was never picked up): queue it. */
  orphan(runId: string): void;
  /** A paused run whose deadline has passed (whichever worker paused it): take it and apply the deadline. */
  due(runId: string): void;
  /** A run held here has a cancel request in the store (its pub/sub signal may have been lost): cancel it. */
  cancelRequested(runId: string, reason: string): void;
}

/**
 * The leases of one worker (issue #4): claims and releases, the heartbeat that
 * keeps them, and the sweep that finds what needs a worker: runs whose worker
 * stopped, paused runs whose deadline passed, and cancel requests for runs
 * held here whose Redis signal was lost. Every write
 * of a held run carries its epoch (EventLog.fence), so a worker that was
 * paused past its lease (GC, SIGSTOP) and wakes up writes nothing.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: EventLog,
    readonly options: ClusterOptions,
    private readonly hooks: LeaseHooks,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.heartbeat = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
    this.sweeper = setInterval(() => void this.sweep(), Math.max(100, this.options.leaseMs));
    this.heartbeat.unref();
    this.sweeper.unref();
    void this.sweep();
  }

  holds(runId: string): boolean {
    return this.held.has(runId);
  }

  /** Takes a run's lease; undefined when another worker holds it (or it is not claimable). */
  async claim(runId: string, options: { paused?: boolean } = {}): Promise<RunRecord | undefined> {
    const claimed = await this.store.claimRun(runId, this.options.workerId, this.options.leaseMs, options);
    if (!claimed) return undefined;
    this.held.set(runId, claimed.lease.epoch);
    this.log.fence(runId, this.options.workerId, claimed.lease.epoch);
    return claimed.record;
  }

  /** Gives a lease back once this run's queued writes are committed (paused, ended, shutting down). */
  async release(runId: string): Promise<void> {
    const epoch = this.held.get(runId);
    if (epoch === undefined) return;
    await this.log.flush().catch(() => undefined);
    // Claimed again meanwhile (input arrived while this lease was being handed back): keep the new one.
    if (this.held.get(runId) !== epoch) return;
    this.forget(runId);
    await this.store.releaseRun(runId, this.options.workerId, epoch).catch((error: unknown) => {
      this.logger.warn({ err: error, runId }, "could not release a lease; it will lapse");
    });
  }

  /**
   * A run that ended: once its terminal commit (fenced by this lease) is in,
   * the lease is simply dropped. The store is not told: a claim never takes
   * an ended run, so the lease left on its row is inert, and a run's end
   * costs one statement less.
   */
  async ended(runId: string): Promise<void> {
    const epoch = this.held.get(runId);
    if (epoch === undefined) return;
    await this.log.flush().catch(() => undefined);
    if (this.held.get(runId) === epoch) this.forget(runId);
  }

  /** A lease lost (refused commit, late heartbeat): dropped, and the run's queued writes with it. */
  revoke(runIds: string[]): void {
    for (const runId of runIds) this.held.delete(runId);
    this.log.revoke(runIds);
  }

  /** Drops a lease without telling the store (it is lost already). */
  forget(runId: string): void {
    this.held.delete(runId);
    this.log.unfence(runId);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.held.keys()].map((runId) => this.release(runId)));
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const leases = [...this.held].map(([runId, epoch]) => ({ runId, epoch }));
    try {
      const lost = await this.store.renewLeases(this.options.workerId, leases, this.options.leaseMs);
      if (lost.length > 0) {
        this.revoke(lost);
        this.hooks.lost(lost);
      }
    } catch (error) {
      // The store is unreachable: the leases may lapse; the commit fence stops any late write.
      this.logger.warn({ err: error }, "lease heartbeat failed");
    }
  }

  private async sweep(): Promise<void> {
    try {
      for (const orphan of await this.store.orphanedRuns(100, this.options.leaseMs * 2)) this.hooks.orphan(orphan.runId);
      for (const due of await this.store.duePausedRuns(Date.now(), 100)) this.hooks.due(due.runId);
      if (this.held.size > 0)
        for (const request of await this.store.cancelRequests([...this.held.keys()])) this.hooks.cancelRequested(request.runId, request.reason);
    } catch (error) {
      this.logger.warn({ err: error }, "lease sweep failed");
    }
  }
}
