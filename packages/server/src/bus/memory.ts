import type { StoredEvent } from "../store/types.js";
import type { EventBus, EventListener } from "./types.js";

export class MemoryEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<EventListener>>();

  publish(runId: string, events: readonly StoredEvent[]): void {
    const set = this.listeners.get(runId);
    if (!set) return;
    for (const listener of set) listener(events);
  }

  subscribe(runId: string, listener: EventListener): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
