import type { StoredEvent } from "../store/types.js";

export type EventListener = (events: readonly StoredEvent[]) => void;
export type SignalListener = (message: string) => void;

/**
 * Live fan-out of committed events to readers. Only a wake-up path: the
 * store is the log, and a reader that misses a publication catches up from
 * it (http/sse/). Embedded: in-process; scale-out: Redis pub/sub.
 * Events travel serialized, as stored, so fan-out never re-encodes them.
 *
 * Delivery is at most once (Redis pub/sub drops what a disconnected
 * subscriber would have received), in publish order per channel from one
 * publisher. Hence `onReconnect`: every reader that waits on the bus must
 * also re-read the store when it fires, or a lost publication (say, of a
 * terminal event) would leave it waiting forever.
 */
export interface EventBus {
  /**
   * Whether a publication can be lost without `onReconnect` telling (Redis:
   * its publisher dies between a commit and the publish). Readers of such a
   * bus also re-read the store when they have been idle a while (http/sse/).
   */
  readonly lossy: boolean;
  /** Called after the events are committed to the store. Never throws, never blocks. */
  publish(runId: string, events: readonly StoredEvent[]): void;
  subscribe(runId: string, listener: EventListener): () => void;
  /**
   * A small control message to every process, the sender included (cancel
   * requests, "a run was queued" wake-ups). As lossy as `publish`: back it
   * with state in the store and re-check that state on `onReconnect`.
   */
  signal(topic: string, message: string): void;
  onSignal(topic: string, listener: SignalListener): () => void;
  /**
   * Resolves once the subscriptions made so far are live (Redis: SUBSCRIBE
   * acknowledged), so a publication made after it reaches their listeners.
   * Waits while the backend is unreachable.
   */
  ready(): Promise<void>;
  /**
   * Fires when publications may have been lost: this process's subscription
   * came back after a disconnect (and is live again), or some process's
   * publisher did. Readers then re-read the store. Never fires in-process.
   */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}
