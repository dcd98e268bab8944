import { AgentdError } from "../errors.js";
import type { Middleware, Reply } from "./context.js";

const HEADER = "idempotency-key";
const TTL_MS = 60 * 60 * 1000;
const MAX_ENTRIES = 50_000;

/**
 * Honours `Idempotency-Key` on POSTs that create things: a retry with the
 * same key (same workspace, same path) gets the first request's answer, and
 * no second run is started. A duplicate that arrives while the first is in
 * progress waits for it. Only successes are remembered, for an hour, in this
 * process (the SDK makes one key per logical call and reuses it on retries).
 */
export function idempotency(): Middleware {
  const entries = new Map<string, { reply: Promise<Reply | void>; expires: number }>();
  return async (ctx, next) => {
    const raw = ctx.req.headers[HEADER];
    if (raw === undefined) return next();
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (key.length === 0 || key.length > 255) {
      throw new AgentdError("invalid_request", "Idempotency-Key must be 1 to 255 characters", { issues: [{ path: "Idempotency-Key", message: "1 to 255 characters" }] });
    }
    const id = `${ctx.workspace?.id ?? ""} ${ctx.url.pathname} ${key}`;
    const now = Date.now();
    const seen = entries.get(id);
    if (seen && seen.expires > now) return seen.reply;
    if (entries.size >= MAX_ENTRIES) evictExpired(entries, now);
    const reply = next();
    entries.set(id, { reply, expires: now + TTL_MS });
    try {
      return await reply;
    } catch (error) {
      entries.delete(id);
      throw error;
    }
  };
}

function evictExpired(entries: Map<string, { expires: number }>, now: number): void {
  for (const [id, entry] of entries) if (entry.expires <= now) entries.delete(id);
  // Still full: drop the oldest half (Map keeps insertion order).
  if (entries.size >= MAX_ENTRIES) {
    let drop = entries.size / 2;
    for (const id of entries.keys()) {
      if (drop-- <= 0) break;
      entries.delete(id);
    }
  }
}
