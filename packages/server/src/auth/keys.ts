import { API_KEY_PREFIX } from "@agentd/protocol";
import { sha256Hex } from "../digest.js";
import { newId, randomBase62 } from "../ids.js";
import type { Store } from "../store/types.js";

export const WORKSPACE_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Keys are stored only as this hash; 32 random base62 chars (~190 bits) make a salt unnecessary. */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

export interface CreatedApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  id: string;
  workspace: string;
}

/** Creates the workspace if needed and a new key for it. */
export async function createApiKey(store: Store, options: { workspace: string; name?: string }): Promise<CreatedApiKey> {
  if (!WORKSPACE_SLUG_PATTERN.test(options.workspace)) {
    throw new Error(`workspace slug '${options.workspace}' must match ${WORKSPACE_SLUG_PATTERN} (lowercase letters, digits, dashes)`);
  }
  const workspace = await store.ensureWorkspace(options.workspace);
  const key = `${API_KEY_PREFIX}${randomBase62(32)}`;
  const id = newId("key");
  await store.insertApiKey({
    id,
    workspaceId: workspace.id,
    name: options.name ?? "default",
    displayPrefix: key.slice(0, API_KEY_PREFIX.length + 4),
    hash: hashApiKey(key),
    createdAt: new Date().toISOString(),
    revokedAt: null,
  });
  return { key, id, workspace: workspace.slug };
}
