import type { StoredEvent } from "../store/types.js";

export type EventListener = (events: readonly StoredEvent[]) => void;

/**
 * Live fan-out of committed events to readers. Only a wake-up path: the
 * store is the log, and a reader that misses a publication catches up from
 * it (events/stream.ts). Embedded: in-process; scale-out: Redis pub/sub.
 * Events travel serialized, as stored, so fan-out never re-encodes them.
 */
export interface EventBus {
  /** Called after the events are committed to the store. */
  publish(runId: string, events: readonly StoredEvent[]): void;
  subscribe(runId: string, listener: EventListener): () => void;
  close(): Promise<void>;
}
