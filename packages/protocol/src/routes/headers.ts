import { headers } from "../wire.js";

/**
 * A request header a route reads. `name` is how documents and people write
 * it; `key` how node:http and fetch's Headers hand it over (lower case).
 */
export interface RequestHeader {
  name: string;
  key: string;
  description: string;
  /** JSON Schema of its value. */
  schema: Record<string, unknown>;
}

/** Honoured by the POSTs that create something (server: http/idempotency.ts). */
export const IDEMPOTENCY_KEY: RequestHeader = {
  name: "Idempotency-Key",
  key: headers.idempotencyKey,
  description: "A retry with the same key and body gets the first answer and starts nothing new (24 h)",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};

/** The SSE replay cursor a reconnecting EventSource sends by itself. */
export const LAST_EVENT_ID: RequestHeader = {
  name: "Last-Event-ID",
  key: headers.lastEventId,
  description: "Replay the events after this `seq` (what EventSource sends on reconnect); the later of it and `lastSeq` wins",
  schema: { type: "string" },
};
