import { API_KEY_PREFIX, type KeyLimits } from "@agentd/protocol";
import { newId } from "../ids.js";
import type { ApiKeyRecord, Store } from "../store/types.js";
import { newApiKey } from "./key-format.js";
import { keyHasher } from "./key-hash.js";

export const WORKSPACE_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface CreatedApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  id: string;
  workspace: string;
  record: ApiKeyRecord;
}

export interface CreateApiKeyOptions {
  workspace: string;
  name?: string;
  /** @default ["*"]: the operator's first key administers the rest (`POST /keys` defaults to less: DEFAULT_KEY_SCOPES). */
  scopes?: string[];
  /** Agent ids it may run. @default [] (every agent) */
  agents?: string[];
  expiresAt?: string | null;
  /** Its own limits (KeyLimits). @default {} (the config's defaults) */
  limits?: KeyLimits;
  /** Where AGENTD_KEY_PEPPER is read. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Creates the workspace if needed and a new key for it (docs/security.md: format, storage). */
export async function createApiKey(store: Store, options: CreateApiKeyOptions): Promise<CreatedApiKey> {
  if (!WORKSPACE_SLUG_PATTERN.test(options.workspace)) {
    throw new Error(`workspace slug '${options.workspace}' must match ${WORKSPACE_SLUG_PATTERN} (lowercase letters, digits, dashes)`);
  }
  const hasher = await keyHasher(store, options.env);
  const workspace = await store.ensureWorkspace(options.workspace);
  const key = newApiKey();
  const record: ApiKeyRecord = {
    id: newId("key"),
    workspaceId: workspace.id,
    name: options.name ?? "default",
    displayPrefix: key.slice(0, API_KEY_PREFIX.length + 4),
    hash: hasher.hash(key)!,
    scopes: options.scopes ?? ["*"],
    agents: options.agents ?? [],
    expiresAt: options.expiresAt ?? null,
    limits: options.limits ?? {},
    createdAt: new Date().toISOString(),
    lastUsedAt: null,
    revokedAt: null,
  };
  await store.insertApiKey(record);
  return { key, id: record.id, workspace: workspace.slug, record };
}
