import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { IDEMPOTENCY_KEY } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import type { IdempotencyKey, Store } from "../store/types.js";
import { readBody } from "./body.js";
import { workspaceOf, type Context, type Middleware, type Reply } from "./context.js";

/** How often this process deletes expired keys (when it serves keyed requests at all), and how many per statement. */
const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 1_000;

export interface IdempotencyOptions {
  /** How long a key is remembered after its first use, in milliseconds. @default 86_400_000 (24 h) */
  ttlMs?: number;
  /**
   * How long a request in progress holds its key, in milliseconds; after
   * that its worker is presumed dead and a retry takes the key over.
   * @default 60_000
   */
  lockMs?: number;
  /** How long a retry waits for its key in progress on another worker before answering 409, in milliseconds. @default 10_000 */
  waitMs?: number;
  /** Pause between two looks at a key in progress elsewhere, in milliseconds. @default 100 */
  pollMs?: number;
  /** Largest body read for the fingerprint, in bytes: the routes' limit. @default 4_194_304 */
  maxBodyBytes?: number;
}

/**
 * Honours `Idempotency-Key` on POSTs that create things: a retry with the
 * same key (same workspace, same path) gets the first request's answer, and
 * no second run is started, whichever worker it reaches: keys live in the
 * store for 24 hours (Store.beginIdempotent). A key reused with another
 * request (method, path or body) is refused (422 idempotency_key_reused). A
 * retry arriving while the first request is in progress waits for it: in
 * this process on the first's promise, on another worker by polling the
 * store for up to `waitMs`, then 409 idempotency_in_progress. Only 2xx
 * replies are stored; a failed request forgets its key, so a retry runs again.
 * The store never sees a key as sent, only its digest (digestOf).
 */
export function idempotency(store: Store, options: IdempotencyOptions = {}): Middleware {
  const ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
  const lockMs = options.lockMs ?? 60_000;
  const waitMs = options.waitMs ?? 10_000;
  const pollMs = options.pollMs ?? 100;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  // Requests of this process holding a key: a duplicate arriving meanwhile shares the first's outcome.
  const inProgress = new Map<string, { fingerprint: string; reply: Promise<Reply | void> }>();
  let lastPurge = 0;

  const purge = (): void => {
    const now = Date.now();
    if (now - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = now;
    // Housekeeping off the request path: expired keys are already treated as
    // absent, so a failed purge (database away, store closing) only delays
    // the deletion to the next one.
    void (async () => {
      while ((await store.purgeIdempotency(PURGE_BATCH)) === PURGE_BATCH);
    })().catch(() => undefined);
  };

  /** Serves the request under its key; polls while another worker holds it. */
  const serve = async (target: IdempotencyKey, fingerprint: string, next: () => Promise<Reply | void>): Promise<Reply | void> => {
    const hold = { ...target, token: randomUUID() };
    const giveUp = Date.now() + waitMs;
    for (;;) {
      const found = await store.beginIdempotent({ ...hold, fingerprint, ttlMs, lockMs });
      if (found.state === "new") return handle(hold, next);
      if (found.state === "done") return { status: found.status, body: found.body };
      if (found.state === "mismatch") throw reused();
      if (Date.now() >= giveUp) {
        throw new AgentdError(
          "idempotency_in_progress",
          "a request with this Idempotency-Key is still in progress; retry later with the same key",
        );
      }
      await sleep(pollMs);
    }
  };

  /** Runs the route under the key this attempt holds: stores a success, frees the key otherwise. */
  const handle = async (hold: IdempotencyKey & { token: string }, next: () => Promise<Reply | void>): Promise<Reply | void> => {
    let reply: Reply | void;
    try {
      reply = await next();
    } catch (error) {
      // The original error is what the client must see; a key left pending frees itself after lockMs.
      await store.abandonIdempotent(hold).catch(() => undefined);
      throw error;
    }
    if (reply && reply.status >= 200 && reply.status < 300) {
      // The work is done (a run exists): the client gets its answer even if
      // storing it fails, rather than an error that makes it retry into a
      // second run once the key's lock lapses.
      await store.finishIdempotent(hold, reply).catch(() => undefined);
    } else {
      await store.abandonIdempotent(hold).catch(() => undefined);
    }
    return reply;
  };

  return async (ctx, next) => {
    const raw = ctx.req.headers[IDEMPOTENCY_KEY.key];
    if (raw === undefined) return next();
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (key.length === 0 || key.length > 255) {
      throw new AgentdError("invalid_request", "Idempotency-Key must be 1 to 255 characters", {
        issues: [{ path: IDEMPOTENCY_KEY.name, message: "1 to 255 characters" }],
      });
    }
    const target = { workspaceId: workspaceOf(ctx).id, scope: ctx.url.pathname, key: digestOf(key) };
    const fingerprint = await fingerprintOf(ctx, maxBodyBytes);
    const id = JSON.stringify([target.workspaceId, target.scope, target.key]);
    const first = inProgress.get(id);
    if (first !== undefined) {
      if (first.fingerprint !== fingerprint) throw reused();
      return first.reply;
    }
    purge();
    const reply = serve(target, fingerprint, next);
    inProgress.set(id, { fingerprint, reply });
    try {
      return await reply;
    } finally {
      inProgress.delete(id);
    }
  };
}

/**
 * What the store keeps of a key: its sha256, hex. Clients put tokens, order
 * numbers or worse in Idempotency-Key; a database dump or a backup must not
 * hand them out, while equal keys still meet on one row (digests are 64
 * characters, whatever the key's length, within the 255 allowed).
 */
function digestOf(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * sha256 of method, path and raw body. The body is read here, before the
 * route: the key must be checked against it before the route acts. readBody
 * keeps the text, so the route's own parseJson gets it again without a
 * second read of the stream. The raw bytes, not the parsed JSON, are
 * compared: the SDK resends the very same body on a retry.
 */
async function fingerprintOf(ctx: Context, limit: number): Promise<string> {
  const body = await readBody(ctx, limit);
  return createHash("sha256")
    .update(`${ctx.req.method ?? ""}\n${ctx.url.pathname}\n`)
    .update(body)
    .digest("hex");
}

function reused(): AgentdError {
  return new AgentdError(
    "idempotency_key_reused",
    "this Idempotency-Key was already used for another request (method, path or body); use a new key for a new request",
    { issues: [{ path: IDEMPOTENCY_KEY.name, message: "already used for another request" }] },
  );
}
