import { randomBase62 } from "../../ids.js";
import { apiKeyFromRow, API_KEYS, type ApiKeyRow } from "../schema/tables.js";
import { first, one, query, type Operation } from "../sql/operation.js";
import type { ApiKeyPatch, ApiKeyRecord, WorkspaceRecord } from "../types.js";

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
  return answer.rows.map((row) => ({ ...API_KEYS.fromRow(row), workspaceSlug: (row as { workspaceSlug: string }).workspaceSlug }));
}

export function* revokeApiKey(id: string): Operation<ApiKeyRecord | undefined> {
  return keyOf((yield one("revokeApiKey", [new Date().toISOString(), id]))[0]!.rows[0]);
}

export function* apiKeyById(workspaceId: string, id: string): Operation<ApiKeyRecord | undefined> {
  return keyOf((yield first("apiKeyById", [workspaceId, id]))[0]!.rows[0]);
}

export function* updateApiKey(workspaceId: string, id: string, patch: ApiKeyPatch): Operation<ApiKeyRecord | undefined> {
  const json = (value: object | undefined) => (value === undefined ? null : JSON.stringify(value));
  const values = [patch.name ?? null, json(patch.scopes), json(patch.agents), json(patch.limits), workspaceId, id];
  return keyOf((yield one("updateApiKey", values))[0]!.rows[0]);
}

export function* touchApiKey(id: string, at: string): Operation<void> {
  yield one("touchApiKey", [at, id]);
}

const keyOf = (row: object | undefined): ApiKeyRecord | undefined => (row === undefined ? undefined : API_KEYS.fromRow(row));
