import { AgentdError } from "../../errors.js";
import type { StoredEvent } from "../../store/types.js";
import type { FrameWriter } from "./frame-writer.js";

/** Where replayed events come from: the event log (its tail cache, then the store). */
export interface EventReader {
  readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
}

export interface CatchUpHooks {
  /** The run had ended before the request, and the replay reached its end: nothing will follow. */
  complete(): void;
  /** The replay is done and nothing was sent yet (the headers may go alone). */
  idle(): void;
  /** The store did not answer: the stream ends (cleanly) without a terminal event, and the client reconnects with its cursor. */
  outage(): void;
  /** Anything else went wrong reading: the stream ends with an `error` frame (the HTTP edge writes it). */
  failed(error: unknown): void;
}

/**
 * Replay, then the live tail, with no gap and no duplicate. The bus is
 * subscribed before the replay starts and its events are held until the
 * replay ends; any seq the bus skipped is read back from the store. Pub/sub
 * loses what is published while its connection is down: after a reconnect,
 * the store says what was missed.
 */
export class CatchUp {
  /** Bus events that arrived while catching up, or ahead of a gap. */
  private held: StoredEvent[] = [];
  private running = false;

  constructor(
    private readonly reader: EventReader,
    private readonly run: { id: string; ended: boolean },
    private readonly pageSize: number,
    private readonly writer: FrameWriter,
    private readonly hooks: CatchUpHooks,
  ) {}

  /** Events from the bus: written at once when they follow the cursor, held while catching up; a gap starts a catch-up. */
  live(events: readonly StoredEvent[]): void {
    if (this.writer.closed) return;
    if (this.running) {
      this.held.push(...events);
      return;
    }
    if (this.writer.write(events)) {
      this.held.push(...events);
      void this.start();
    }
  }

  /** The bus reconnected: what it lost meanwhile is in the store. */
  missed(): void {
    if (!this.writer.closed && !this.running) void this.start();
  }

  async start(): Promise<void> {
    const { writer, reader, pageSize } = this;
    const runId = this.run.id;
    this.running = true;
    try {
      for (;;) {
        const page = await reader.readEvents(runId, writer.lastSent, pageSize);
        writer.write(page);
        if (writer.closed || page.length < pageSize) break;
      }
      // The reader is already past the terminal event of a run that had ended: nothing will follow.
      if (this.run.ended && !writer.closed && this.held.length === 0) return this.hooks.complete();
      this.hooks.idle();
      // Held bus events may now be contiguous; anything still ahead of a
      // gap means the store has more to give: read again.
      while (!writer.closed && this.held.length > 0) {
        const pending = this.held;
        this.held = [];
        if (writer.write(pending)) writer.write(await reader.readEvents(runId, writer.lastSent, pageSize));
      }
    } catch (error) {
      if (isOutage(error)) this.hooks.outage();
      else this.hooks.failed(error);
    } finally {
      this.running = false;
    }
  }
}

/** The store's domain error for "cannot answer now" (the same test the event log applies to commits). */
function isOutage(error: unknown): boolean {
  return error instanceof AgentdError && error.code === "unavailable";
}
