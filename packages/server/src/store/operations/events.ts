import { one, type Operation } from "../sql/operation.js";
import type { StoredEvent } from "../types.js";

/* Reading a run's event log (writing it is each dialect's group commit). */

export function* readEvents(runId: string, afterSeq: number, limit: number): Operation<StoredEvent[]> {
  return (yield one("readEvents", [runId, afterSeq, limit]))[0]!.rows as unknown as StoredEvent[];
}
