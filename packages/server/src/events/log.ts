import type { RunEvent } from "@agentd/protocol";
import type { EventBus } from "../bus/types.js";
import { AgentdError } from "../errors.js";
import type { CommitBatch, RunPatch, RunRecord, SessionPatch, SpanRecord, Store, StoredEvent } from "../store/types.js";
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
  /** Told how long each commit the store took lasted, in milliseconds (the metrics' commit latency). */
  onCommitTimed: (durationMs: number) => void = () => undefined;
  private events: StoredEvent[] = [];
  private runs = new Map<string, RunPatch>();
  private sessions = new Map<string, SessionPatch>();
  /** Trace spans by run and span id: a span opened and closed within one turn is written once, as closed. */
  private spans = new Map<string, SpanRecord>();
  private scheduled: Batch | undefined;
  /** The commit before `scheduled` (what it waits for), or undefined. */
  private previous: Batch | undefined;
  private inFlight: Batch = new Batch(Promise.resolve(NO_FAILURES));

  /** The committed tails of this process's runs (events/tail-cache.ts). */
  readonly tails = new TailCache();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly onCommitError: (error: unknown) => void,
  ) {
    bus.onSignal(RUNS_DELETED, (message) => {
      for (const runId of message.split(",")) this.tails.forget(runId);
    });
    // A deletion signal may have been lost meanwhile: no cached ended log is trusted any more.
    bus.onReconnect(() => this.tails.forgetEnded());
  }

  /**
   * Runs were deleted from the store (DELETE /agent-runs, the retention
   * sweep): every process drops its cached copy of their logs, which would
   * otherwise still answer a stream of a run that is gone.
   */
  runsDeleted(runIds: readonly string[]): void {
    for (const runId of runIds) this.tails.forget(runId);
    if (runIds.length > 0) this.bus.signal(RUNS_DELETED, runIds.join(","));
  }

  /**
   * Queues a new run's row: it is inserted first in the next group commit, so
   * creating a run costs no transaction of its own. Resolves once the row is
   * committed; rejects with this run's own error when it could not be stored
   * (400 when the run itself is at fault, 503 for a store outage), never with
   * another run's. A row that cannot even be serialised is refused here,
   * before it joins a batch that other runs share.
   */
  insertRun(run: RunRecord, options: { track?: boolean } = {}): Promise<void> {
    assertStorable(run);
    this.newRuns.push(run);
    if (options.track ?? true) this.tails.track(run.id, run.workspaceId);
    this.schedule();
    return this.flush(run.id);
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
    for (const [key, span] of this.spans) if (dropped.has(span.runId)) this.spans.delete(key);
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

  /**
   * Queues a trace span (engine/trace.ts), written in the same commit as the
   * run's events and checkpoint: no transaction of its own. A span queued
   * again under its id (closed after it was opened) replaces the earlier one.
   */
  appendSpan(span: SpanRecord): void {
    if (this.revoked.has(span.runId)) return;
    this.spans.set(`${span.runId}\n${span.spanId}`, span);
    this.schedule();
  }

  patchSession(sessionId: string, patch: SessionPatch): void {
    const current = this.sessions.get(sessionId);
    this.sessions.set(sessionId, current ? { ...current, ...patch } : patch);
    this.schedule();
  }

  /**
   * Resolves once everything queued so far is committed. With `runId`, it
   * rejects only when that run's writes failed, or are being dropped (the
   * run is revoked); without, when any write of the pending commits failed.
   * Only commits not yet settled count: an older failure was told to the
   * flushes of its own time, and the run may have been claimed again since
   * (a request answered 503 for writes that did commit left a run hanging).
   */
  flush(runId?: string): Promise<void> {
    const batches: Batch[] = [];
    if (this.scheduled !== undefined) {
      batches.push(this.scheduled);
      // A run's writes may sit in the commit in flight as well as in the next one.
      if (runId !== undefined && this.previous !== undefined && !this.previous.settled) batches.push(this.previous);
    } else if (!this.inFlight.settled) batches.push(this.inFlight);
    const check = (outcome: BatchOutcome): void => {
      const error = runId === undefined ? outcome.failed.values().next().value : outcome.failed.get(runId);
      if (error !== undefined) throw error;
    };
    const revoked = (): void => {
      if (runId !== undefined && this.revoked.has(runId)) throw new AgentdError("unavailable", "agentd could not store this change; retry");
    };
    if (batches.length === 0) return new Promise((resolve) => resolve(revoked()));
    return Promise.all(batches.map((batch) => batch.done)).then((outcomes) => {
      for (const outcome of outcomes) check(outcome);
      revoked();
    });
  }

  private mergeRun(runId: string, patch: RunPatch): void {
    const current = this.runs.get(runId);
    this.runs.set(runId, current ? { ...current, ...patch } : patch);
  }

  private schedule(): void {
    if (this.scheduled) return;
    const previous = this.inFlight;
    this.previous = previous;
    // Never rejects: failures are outcomes, which flush() turns into each caller's own error.
    const batch = new Batch(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => previous.done).then(() => this.commitPending()),
    );
    this.scheduled = batch;
    this.inFlight = batch;
  }

  private async commitPending(): Promise<BatchOutcome> {
    this.scheduled = undefined;
    this.previous = undefined;
    const batch: CommitBatch = {
      newRuns: this.newRuns,
      events: this.events,
      runs: [...this.runs].map(([runId, patch]) => ({ runId, patch })),
      sessions: [...this.sessions].map(([sessionId, patch]) => ({ sessionId, patch })),
    };
    if (this.spans.size > 0) batch.spans = [...this.spans.values()];
    if (this.fences.size > 0) {
      const runIds = new Set([
        ...batch.events.map((event) => event.runId),
        ...batch.runs.map((entry) => entry.runId),
        ...(batch.spans ?? []).map((span) => span.runId),
      ]);
      batch.fences = [...runIds].flatMap((runId) => {
        const fence = this.fences.get(runId);
        return fence ? [{ runId, ...fence }] : [];
      });
    }
    this.newRuns = [];
    this.events = [];
    this.runs = new Map();
    this.sessions = new Map();
    if (batch.spans !== undefined) this.spans = new Map();
    try {
      const started = performance.now();
      const result = await this.store.commit(batch);
      this.onCommitTimed(performance.now() - started);
      this.committed(batch, result?.fenced ?? []);
      return NO_FAILURES;
    } catch (error) {
      // One write at fault (a value the store refuses) must not fail the
      // others of its turn, other workspaces' included: commit each run's
      // writes on their own, so exactly the faulty ones fail. Not when the
      // store is away: then every part would wait for it again.
      const parts = isOutage(error) ? [] : splitByRun(batch);
      if (parts.length <= 1) return this.failed(batch, error);
      const failed = new Map<string, AgentdError>();
      for (const part of parts) {
        try {
          this.committed(part, (await this.store.commit(part))?.fenced ?? []);
        } catch (partError) {
          for (const [runId, runError] of this.failed(part, partError).failed) failed.set(runId, runError);
        }
      }
      return { failed };
    }
  }

  /** A batch the store took: its events become visible; refused (fenced) runs' events never do. */
  private committed(batch: CommitBatch, fenced: string[]): void {
    const events = fenced.length === 0 ? batch.events : batch.events.filter((event) => !fenced.includes(event.runId));
    this.tails.add(events);
    publishGrouped(this.bus, events);
    if (fenced.length > 0) {
      this.revoke(fenced);
      this.onFenced(fenced);
    }
  }

  /** A batch the store did not take: its runs here are ahead of the store. */
  private failed(batch: CommitBatch, error: unknown): BatchOutcome {
    this.onCommitError(error);
    const runIds = new Set([
      ...batch.events.map((event) => event.runId),
      ...batch.runs.map((entry) => entry.runId),
      ...(batch.newRuns ?? []).map((run) => run.id),
      ...(batch.spans ?? []).map((span) => span.runId),
    ]);
    this.revoke(runIds);
    this.onCommitFailed([...runIds]);
    const reason = commitError(error);
    const failed = new Map<string, AgentdError>([...runIds].map((runId) => [runId, reason]));
    if (batch.sessions.length > 0) failed.set(SESSIONS, reason);
    return { failed };
  }
}

/** One group commit: its outcome, and whether it is known yet. */
class Batch {
  settled = false;
  readonly done: Promise<BatchOutcome>;
  constructor(outcome: Promise<BatchOutcome>) {
    this.done = outcome.then((value) => {
      this.settled = true;
      return value;
    });
  }
}

/** What one group commit left undone: the error of each run whose writes failed (sessions' under SESSIONS). */
interface BatchOutcome {
  failed: ReadonlyMap<string, AgentdError>;
}

const NO_FAILURES: BatchOutcome = { failed: new Map() };
/** The key of session writes in BatchOutcome.failed (no run id looks like it). */
const SESSIONS = " sessions";

/** The batch as one batch per run (its new row, events, patch and fence), then one of the session writes. */
function splitByRun(batch: CommitBatch): CommitBatch[] {
  const parts = new Map<string, CommitBatch>();
  const part = (runId: string): CommitBatch => {
    let found = parts.get(runId);
    if (!found) parts.set(runId, (found = { newRuns: [], events: [], runs: [], sessions: [] }));
    return found;
  };
  for (const run of batch.newRuns ?? []) part(run.id).newRuns!.push(run);
  for (const event of batch.events) part(event.runId).events.push(event);
  for (const entry of batch.runs) part(entry.runId).runs.push(entry);
  for (const span of batch.spans ?? []) (part(span.runId).spans ??= []).push(span);
  for (const fence of batch.fences ?? []) (part(fence.runId).fences ??= []).push(fence);
  const split = [...parts.values()];
  if (batch.sessions.length > 0) split.push({ newRuns: [], events: [], runs: [], sessions: batch.sessions });
  return split;
}

/**
 * The error each request whose writes were in a failed commit gets. A value
 * the store cannot take (it cannot be serialised, or the database calls it
 * a data exception or over a limit: SQLSTATE classes 22 and 54, SQLite's
 * TOOBIG) is the request's fault: 400. Anything else is an outage: 503, and
 * retrying is right. Neither describes another run of the batch.
 */
function commitError(error: unknown): AgentdError {
  if (error instanceof AgentdError)
    return error.code === "unavailable"
      ? error
      : new AgentdError("unavailable", "agentd could not store this change; retry", { cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  const inputAtFault =
    error instanceof RangeError ||
    error instanceof TypeError ||
    (typeof code === "string" && (/^(22|54)[0-9A-Z]{3}$/.test(code) || code === "SQLITE_TOOBIG"));
  return inputAtFault
    ? new AgentdError("invalid_request", "this request's data could not be stored (too large or too deeply nested)", { cause: error })
    : new AgentdError("unavailable", "agentd could not store this change; retry", { cause: error });
}

function isOutage(error: unknown): boolean {
  return error instanceof AgentdError && error.code === "unavailable";
}

/** Throws 400 for a run row the store could not serialise: refused before it joins a shared batch. */
function assertStorable(run: RunRecord): void {
  try {
    JSON.stringify(run);
  } catch (error) {
    throw new AgentdError("invalid_request", `this run could not be stored: ${(error as Error).message}`, { cause: error });
  }
}

/** The bus topic of `runsDeleted`: run ids, comma-separated (a run id has no comma). */
const RUNS_DELETED = "runs-deleted";

function publishGrouped(bus: EventBus, events: StoredEvent[]): void {
  const byRun = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = byRun.get(event.runId);
    if (list) list.push(event);
    else byRun.set(event.runId, [event]);
  }
  for (const [runId, events] of byRun) bus.publish(runId, events);
}
