import { headers, type KeyScope } from "@agentd/protocol";
import { KeyHasher } from "../auth/key-hash.js";
import { AgentdError } from "../errors.js";
import type { ApiKeyRecord, Store, WorkspaceRecord } from "../store/types.js";
import type { Middleware } from "./context.js";

/**
 * How long a key lookup is trusted. A revoked key keeps working on a process
 * for at most this long (plus one store read): short enough for revocation,
 * long enough that a busy key costs one store read a second, not one a request.
 */
const CACHE_TTL_MS = 1_000;
const CACHE_MAX = 10_000;

/** A use of a key is written at most this often per process (lastUsedAt), off the request path. */
const TOUCH_EVERY_MS = 60_000;

interface Found {
  key: ApiKeyRecord;
  workspace: WorkspaceRecord;
}

interface CacheEntry {
  /** The key and its workspace, or undefined when no live key has this hash. */
  lookup: Promise<Found | undefined>;
  expires: number;
}

/**
 * API-key auth for `/api/v1/workspaces/{workspace}/...` (seed 004 §2): the key
 * from `Authorization: Bearer` or `X-API-Key`; unknown, revoked or expired →
 * 401 (a malformed one without a store read); a key of another workspace →
 * 404, so a key cannot probe which workspaces exist. Lookups are cached for
 * 1 s (CACHE_TTL_MS), and concurrent requests with one key share a single
 * lookup; unknown keys are not cached. Sets ctx.workspace and ctx.key; the
 * route's scope is checked next (requireScope).
 */
export function auth(store: Store, hasher: KeyHasher): Middleware {
  const cache = new Map<string, CacheEntry>();
  const touched = new Map<string, number>();
  // Keyed by the key as presented, so a cached key costs no HMAC (8 us of a run's CPU, two requests a run);
  // it is held in memory for a second, as the request's own headers are.
  const lookUp = (presented: string, now: number): CacheEntry | undefined => {
    const hash = hasher.hash(presented);
    if (hash === undefined) return undefined;
    const entry: CacheEntry = {
      lookup: store.findApiKeyByHash(hash).then((found) => (found && KeyHasher.same(found.key.hash, hash) ? found : undefined)),
      expires: now + CACHE_TTL_MS,
    };
    // A failed or negative lookup is forgotten, so the next request asks the store again.
    const forget = () => {
      if (cache.get(presented) === entry) cache.delete(presented);
    };
    entry.lookup.then((found) => found ?? forget(), forget);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(presented, entry);
    return entry;
  };
  const touch = (key: ApiKeyRecord, now: number) => {
    const last = touched.get(key.id) ?? (key.lastUsedAt ? Date.parse(key.lastUsedAt) : 0);
    if (now - last < TOUCH_EVERY_MS) return;
    if (touched.size >= CACHE_MAX) touched.clear();
    touched.set(key.id, now);
    // Bookkeeping, not a guarantee: a failed write is tried again a minute later.
    store.touchApiKey(key.id, new Date(now).toISOString()).catch(() => touched.delete(key.id));
  };
  return async (ctx, next) => {
    const presented = presentedKey(ctx.req.headers);
    if (!presented) throw new AgentdError("unauthorized", "missing API key: send Authorization: Bearer <key> or X-API-Key");
    const now = Date.now();
    const cached = cache.get(presented);
    const entry = cached !== undefined && cached.expires > now ? cached : lookUp(presented, now);
    const found = entry && (await entry.lookup);
    if (!found) throw new AgentdError("unauthorized", "invalid API key");
    const { key, workspace } = found;
    if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) throw new AgentdError("unauthorized", "this API key has expired");
    if (workspace.slug !== ctx.params.workspace) {
      throw new AgentdError("not_found", `workspace ${ctx.params.workspace ?? ""} not found`);
    }
    ctx.workspace = workspace;
    ctx.key = key;
    touch(key, now);
    return next();
  };
}

/** Whether a key has a scope (`*` has every one). */
export function hasScope(key: ApiKeyRecord, scope: KeyScope): boolean {
  return key.scopes.includes("*") || key.scopes.includes(scope);
}

/** After auth: a key without the route's scope is a 403 naming it. */
export function requireScope(scope: KeyScope): Middleware {
  return (ctx, next) => {
    if (!ctx.key || !hasScope(ctx.key, scope)) {
      throw new AgentdError("forbidden", `this API key lacks the scope ${scope}`, {
        hint: "An admin key (keys:admin) can add it: PATCH /keys/{keyId} with the key's scopes.",
      });
    }
    return next();
  };
}

function presentedKey(requestHeaders: Record<string, string | string[] | undefined>): string | undefined {
  const apiKey = requestHeaders[headers.apiKey];
  if (typeof apiKey === "string" && apiKey.length > 0) return apiKey.trim();
  const authorization = requestHeaders[headers.authorization];
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  return undefined;
}
