import { headers } from "@agentd/protocol";
import { hashApiKey } from "../auth/keys.js";
import { AgentdError } from "../errors.js";
import type { Store, WorkspaceRecord } from "../store/types.js";
import type { Middleware } from "./context.js";

/**
 * How long a key lookup is trusted. A revoked key keeps working on a process
 * for at most this long (plus one store read): short enough for revocation,
 * long enough that a busy key costs one store read a second, not one a request.
 */
const CACHE_TTL_MS = 1_000;
const CACHE_MAX = 10_000;

interface CacheEntry {
  /** The key's id and workspace, or undefined when no live key has this hash. */
  lookup: Promise<{ keyId: string; workspace: WorkspaceRecord } | undefined>;
  expires: number;
}

/**
 * API-key auth for `/api/v1/workspaces/{workspace}/...` (seed 004 §2): the key
 * from `Authorization: Bearer` or `X-API-Key`; unknown or revoked → 401; a key
 * of another workspace → 404, so a key cannot probe which workspaces exist.
 * Lookups are cached for 1 s (CACHE_TTL_MS), and concurrent requests with one
 * key share a single lookup; unknown keys are not cached.
 */
export function auth(store: Store): Middleware {
  const cache = new Map<string, CacheEntry>();
  const lookUp = (hash: string, now: number): CacheEntry => {
    const entry: CacheEntry = {
      lookup: store.findApiKeyByHash(hash).then((found) => found && { keyId: found.key.id, workspace: found.workspace }),
      expires: now + CACHE_TTL_MS,
    };
    // A failed or negative lookup is forgotten, so the next request asks the store again.
    const forget = () => {
      if (cache.get(hash) === entry) cache.delete(hash);
    };
    entry.lookup.then((found) => found ?? forget(), forget);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(hash, entry);
    return entry;
  };
  return async (ctx, next) => {
    const key = presentedKey(ctx.req.headers);
    if (!key) throw new AgentdError("unauthorized", "missing API key: send Authorization: Bearer <key> or X-API-Key");
    const hash = hashApiKey(key);
    const now = Date.now();
    const cached = cache.get(hash);
    const found = await (cached !== undefined && cached.expires > now ? cached : lookUp(hash, now)).lookup;
    if (!found) throw new AgentdError("unauthorized", "invalid API key");
    if (found.workspace.slug !== ctx.params.workspace) {
      throw new AgentdError("not_found", `workspace ${ctx.params.workspace ?? ""} not found`);
    }
    ctx.workspace = found.workspace;
    ctx.keyId = found.keyId;
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
