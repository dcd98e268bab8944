import { randomBase62 } from "../../ids.js";
import { apiKeyFromRow, API_KEYS, type ApiKeyRow } from "../schema/tables.js";
import { first, one, query, type Operation } from "../sql/operation.js";
import type { ApiKeyRecord, WorkspaceRecord } from "../types.js";

/* Workspaces and API keys (Store's tenancy methods), once for both stores. */

export function* ensureWorkspace(slug: string): Operation<WorkspaceRecord> {
  // Two statements, two snapshots: if another process inserts the slug at
  // the same moment, ON CONFLICT waits for it and the SELECT then sees it.
  const [, found] = yield {
    queries: [query("insertWorkspace", [`ws_${randomBase62(16)}`, slug, new Date().toISOString()]), query("workspaceBySlug", [slug])],
  };
  return found!.rows[0] as unknown as WorkspaceRecord;
}

export function* workspaceBySlug(slug: string): Operation<WorkspaceRecord | undefined> {
  return (yield first("workspaceBySlug", [slug]))[0]!.rows[0] as WorkspaceRecord | undefined;
}

export function* insertApiKey(key: ApiKeyRecord): Operation<void> {
  yield one("insertApiKey", API_KEYS.values(key), {
    duplicate: `api key ${key.id} already exists`,
    missingParent: `workspace ${key.workspaceId} not found`,
  });
}

export function* findApiKeyByHash(hash: string): Operation<{ key: ApiKeyRecord; workspace: WorkspaceRecord } | undefined> {
  const row = (yield first("activeApiKeyByHash", [hash]))[0]!.rows[0] as ApiKeyRow | undefined;
  return row === undefined ? undefined : apiKeyFromRow(row);
}

export function* countApiKeys(): Operation<number> {
  return (yield one("countApiKeys", []))[0]!.rows[0]!.count as number;
}

export function* listApiKeys(workspaceId?: string): Operation<Array<ApiKeyRecord & { workspaceSlug: string }>> {
  const answer = (yield workspaceId === undefined ? one("allApiKeys", []) : one("workspaceApiKeys", [workspaceId]))[0]!;
  return answer.rows as unknown as Array<ApiKeyRecord & { workspaceSlug: string }>;
}

export function* revokeApiKey(id: string): Operation<ApiKeyRecord | undefined> {
  return (yield one("revokeApiKey", [new Date().toISOString(), id]))[0]!.rows[0] as ApiKeyRecord | undefined;
}
