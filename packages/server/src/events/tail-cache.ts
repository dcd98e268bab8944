import { isTerminalEventType } from "@agentd/protocol";
import type { StoredEvent } from "../store/types.js";

interface Entry {
  workspaceId: string;
  events: StoredEvent[];
  bytes: number;
  ended: boolean;
}

/**
 * The committed events of the runs this process wrote, kept in memory while
 * they run and for a while after, so the readers that arrive right away —
 * nearly all of them — replay without a store query. Only whole logs from
 * seq 1 are kept; a run evicted (over the byte budget) is read from the store
 * like any other. Filled after the commit, before the publish: it never holds
 * an event the store does not.
 */
export class TailCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private endedCount = 0;

  /**
   * @param maxBytes event data kept in all, running runs included. @default 8 MiB
   * @param maxEnded ended runs kept: readers come right after the end or not for long. @default 1000
   */
  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly maxEnded = 1000,
  ) {}

  /** Starts caching a run that has no events yet. */
  track(runId: string, workspaceId: string): void {
    this.entries.set(runId, { workspaceId, events: [], bytes: 0, ended: false });
  }

  /** Stops caching a run: it goes on elsewhere (another worker), so this copy would go stale. */
  forget(runId: string): void {
    const entry = this.entries.get(runId);
    if (entry) this.evict(runId, entry);
  }

  /** Drops every ended run's log (running ones stay: this process writes them). */
  forgetEnded(): void {
    for (const [runId, entry] of this.entries) if (entry.ended) this.evict(runId, entry);
  }

  /** Adds committed events (any runs, in commit order). */
  add(events: readonly StoredEvent[]): void {
    for (const event of events) {
      const entry = this.entries.get(event.runId);
      if (!entry) continue;
      if (event.seq !== entry.events.length + 1) {
        this.evict(event.runId, entry);
        continue;
      }
      entry.events.push(event);
      entry.bytes += event.data.length;
      this.bytes += event.data.length;
      if (isTerminalEventType(event.type)) {
        entry.ended = true;
        this.endedCount++;
        // Re-insert: the Map's order is then the order runs ended in, oldest first.
        this.entries.delete(event.runId);
        this.entries.set(event.runId, entry);
      }
    }
    if (this.bytes > this.maxBytes || this.endedCount > this.maxEnded) this.shrink();
  }

  /** Events after `afterSeq` if this run's log is cached, else undefined. */
  read(runId: string, afterSeq: number, limit: number): StoredEvent[] | undefined {
    const entry = this.entries.get(runId);
    if (!entry) return undefined;
    return entry.events.slice(afterSeq, afterSeq + limit);
  }

  /** Whether a cached run of this workspace has ended; undefined if not cached. */
  ended(runId: string, workspaceId: string): boolean | undefined {
    const entry = this.entries.get(runId);
    return entry && entry.workspaceId === workspaceId ? entry.ended : undefined;
  }

  private shrink(): void {
    // Ended runs first (oldest first), then running ones.
    for (const pass of [true, false]) {
      for (const [runId, entry] of this.entries) {
        if (this.bytes <= this.maxBytes * 0.75 && this.endedCount <= this.maxEnded * 0.75) return;
        if (entry.ended === pass) this.evict(runId, entry);
      }
    }
  }

  private evict(runId: string, entry: Entry): void {
    this.entries.delete(runId);
    this.bytes -= entry.bytes;
    if (entry.ended) this.endedCount--;
  }
}
