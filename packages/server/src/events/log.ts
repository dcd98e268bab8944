import type { RunEvent } from "@agentd/protocol";
import type { EventBus } from "../bus/types.js";
import { AgentdError } from "../errors.js";
import type { CommitBatch, RunPatch, RunRecord, SessionPatch, Store, StoredEvent } from "../store/types.js";
import { TailCache } from "./tail-cache.js";

/**
 * Group commit of events and state. Appends made in the same turn of the
 * event loop, across all runs, go to the store in one transaction on the
 * next turn; only then are they published, so no client ever sees an event
 * the store does not have (DESIGN.md "Durability"). One flush at a time keeps
 * each run's events in seq order across batches.
 */
export class EventLog {
  private newRuns: RunRecord[] = [];
  /** Leases of the runs this process executes under a lease (cluster mode): their writes carry the epoch. */
  private readonly fences = new Map<string, { workerId: string; epoch: number }>();
  /**
   * Runs whose writes the store refused (fenced) or lost (failed commit):
   * this process's copy of them is ahead of the store, so whatever it still
   * queues for them is dropped, until fence() (claimed again) or readmit()
   * (reloaded from the store). Without this, writes queued behind the failed
   * batch would land after it, leaving a hole in the run's log.
   */
  private readonly revoked = new Set<string>();
  /** Told which runs' writes the store refused: their lease moved on (this process is a zombie for them). */
  onFenced: (runIds: string[]) => void = () => undefined;
  /** Told which runs had writes in a commit that failed (store unreachable): their state here is ahead of the store. */
  onCommitFailed: (runIds: string[]) => void = () => undefined;
  private events: StoredEvent[] = [];
  private runs = new Map<string, RunPatch>();
  private sessions = new Map<string, SessionPatch>();
  private scheduled: Promise<void> | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  /** The committed tails of this process's runs (events/tail-cache.ts). */
  readonly tails = new TailCache();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly onCommitError: (error: unknown) => void,
  ) {}

  /**
   * Queues a new run's row: it is inserted first in the next group commit, so
   * creating a run costs no transaction of its own. Await `flush()` before
   * telling anyone the run exists.
   */
  insertRun(run: RunRecord, options: { track?: boolean } = {}): void {
    this.newRuns.push(run);
    if (options.track ?? true) this.tails.track(run.id, run.workspaceId);
    this.schedule();
  }

  /** From now on this run's writes are made only while its lease has this epoch. */
  fence(runId: string, workerId: string, epoch: number): void {
    this.revoked.delete(runId);
    this.fences.set(runId, { workerId, epoch });
  }

  /** Drops what is queued for these runs and refuses their writes until fence() or readmit(). */
  revoke(runIds: Iterable<string>): void {
    const dropped = new Set(runIds);
    if (dropped.size === 0) return;
    for (const runId of dropped) {
      this.revoked.add(runId);
      this.fences.delete(runId);
      this.runs.delete(runId);
    }
    this.events = this.events.filter((event) => !dropped.has(event.runId));
  }

  /** A revoked run taken back from the store (its state here rebuilt from there): its writes count again. */
  readmit(runId: string): void {
    this.revoked.delete(runId);
  }

  unfence(runId: string): void {
    this.fences.delete(runId);
  }

  /** Events after `afterSeq`: from the tail cache when it has the run, else from the store. */
  readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const cached = this.tails.read(runId, afterSeq, limit);
    return cached ? Promise.resolve(cached) : this.store.readEvents(runId, afterSeq, limit);
  }

  /** Queues an event (its seq already assigned by the run's owner). */
  append(runId: string, event: RunEvent): void {
    if (this.revoked.has(runId)) return;
    this.events.push({ runId, seq: event.seq, type: event.type, data: JSON.stringify(event) });
    this.mergeRun(runId, { lastSeq: event.seq });
    this.schedule();
  }

  patchRun(runId: string, patch: RunPatch): void {
    if (this.revoked.has(runId)) return;
    this.mergeRun(runId, patch);
    this.schedule();
  }

  patchSession(sessionId: string, patch: SessionPatch): void {
    const current = this.sessions.get(sessionId);
    this.sessions.set(sessionId, current ? { ...current, ...patch } : patch);
    this.schedule();
  }

  /** Resolves once everything queued so far is committed (rejects if that commit failed). */
  flush(): Promise<void> {
    return this.scheduled ?? this.inFlight;
  }

  private mergeRun(runId: string, patch: RunPatch): void {
    const current = this.runs.get(runId);
    this.runs.set(runId, current ? { ...current, ...patch } : patch);
  }

  private schedule(): void {
    if (this.scheduled) return;
    const previous = this.inFlight;
    this.scheduled = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => previous.catch(() => undefined))
      .then(() => this.commitPending());
    // Whoever awaits flush() sees a failure; nobody awaiting must not crash the process.
    this.scheduled.catch(() => undefined);
    this.inFlight = this.scheduled;
  }

  private async commitPending(): Promise<void> {
    this.scheduled = undefined;
    const batch: CommitBatch = {
      newRuns: this.newRuns,
      events: this.events,
      runs: [...this.runs].map(([runId, patch]) => ({ runId, patch })),
      sessions: [...this.sessions].map(([sessionId, patch]) => ({ sessionId, patch })),
    };
    if (this.fences.size > 0) {
      const runIds = new Set([...batch.events.map((event) => event.runId), ...batch.runs.map((entry) => entry.runId)]);
      batch.fences = [...runIds].flatMap((runId) => {
        const fence = this.fences.get(runId);
        return fence ? [{ runId, ...fence }] : [];
      });
    }
    this.newRuns = [];
    this.events = [];
    this.runs = new Map();
    this.sessions = new Map();
    let fenced: string[] = [];
    try {
      fenced = (await this.store.commit(batch))?.fenced ?? [];
    } catch (error) {
      this.onCommitError(error);
      const runIds = new Set([
        ...batch.events.map((event) => event.runId),
        ...batch.runs.map((entry) => entry.runId),
        ...(batch.newRuns ?? []).map((run) => run.id),
      ]);
      this.revoke(runIds);
      this.onCommitFailed([...runIds]);
      // Every request whose writes were in this batch gets this error: it
      // must not describe the other runs of the batch (other workspaces'),
      // and a retry is the right answer for all of them.
      throw error instanceof AgentdError && error.code === "unavailable"
        ? error
        : new AgentdError("unavailable", "agentd could not store this change; retry", { cause: error });
    }
    // A refused run's events were not stored: nobody may see them.
    const events = fenced.length === 0 ? batch.events : batch.events.filter((event) => !fenced.includes(event.runId));
    this.tails.add(events);
    publishGrouped(this.bus, events);
    if (fenced.length > 0) {
      this.revoke(fenced);
      this.onFenced(fenced);
    }
  }
}

function publishGrouped(bus: EventBus, events: StoredEvent[]): void {
  const byRun = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = byRun.get(event.runId);
    if (list) list.push(event);
    else byRun.set(event.runId, [event]);
  }
  for (const [runId, events] of byRun) bus.publish(runId, events);
}
