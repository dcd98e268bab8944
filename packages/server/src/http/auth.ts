import { headers } from "@agentd/protocol";
import { hashApiKey } from "../auth/keys.js";
import { AgentdError } from "../errors.js";
import type { Store, WorkspaceRecord } from "../store/types.js";
import type { Middleware } from "./context.js";

const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

/**
 * API-key auth for `/api/v1/workspaces/{workspace}/...` (seed 004 §2): the key
 * from `Authorization: Bearer` or `X-API-Key`; unknown → 401; a key of
 * another workspace → 404, so a key cannot probe which workspaces exist.
 * Lookups are cached for 10 s: a revoked key may work that long.
 */
export function auth(store: Store): Middleware {
  const cache = new Map<string, { workspace: WorkspaceRecord; expires: number }>();
  return async (ctx, next) => {
    const key = presentedKey(ctx.req.headers);
    if (!key) throw new AgentdError("unauthorized", "missing API key: send Authorization: Bearer <key> or X-API-Key");
    const hash = hashApiKey(key);
    const now = Date.now();
    let entry = cache.get(hash);
    if (!entry || entry.expires < now) {
      const found = await store.findApiKeyByHash(hash);
      if (!found) {
        cache.delete(hash);
        throw new AgentdError("unauthorized", "invalid API key");
      }
      if (cache.size >= CACHE_MAX) cache.clear();
      entry = { workspace: found.workspace, expires: now + CACHE_TTL_MS };
      cache.set(hash, entry);
    }
    if (entry.workspace.slug !== ctx.params.workspace) {
      throw new AgentdError("not_found", `workspace ${ctx.params.workspace ?? ""} not found`);
    }
    ctx.workspace = entry.workspace;
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
