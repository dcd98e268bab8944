import type { StoredEvent } from "../store/types.js";
import type { EventBus, EventListener, SignalListener } from "./types.js";

/** One process: delivery is synchronous and never lost, so onReconnect never fires. */
export class MemoryEventBus implements EventBus {
  /** In-process: a publication is lost only with the process that made it, and its readers. */
  readonly lossy = false;
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly signals = new Map<string, Set<SignalListener>>();

  publish(runId: string, events: readonly StoredEvent[]): void {
    const set = this.listeners.get(runId);
    if (!set) return;
    for (const listener of set) listener(events);
  }

  subscribe(runId: string, listener: EventListener): () => void {
    return add(this.listeners, runId, listener);
  }

  signal(topic: string, message: string): void {
    const set = this.signals.get(topic);
    if (!set) return;
    for (const listener of set) listener(message);
  }

  onSignal(topic: string, listener: SignalListener): () => void {
    return add(this.signals, topic, listener);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  onReconnect(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.signals.clear();
  }
}

function add<T>(map: Map<string, Set<T>>, key: string, listener: T): () => void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}
