import {
  API_KEY_PREFIX,
  DEFAULT_KEY_SCOPES,
  type CreateKeyRequest,
  type CreateKeyResponse,
  type KeyInfo,
  type UpdateKeyRequest,
} from "@agentd/protocol";
import type { KeyHasher } from "../auth/key-hash.js";
import { newApiKey } from "../auth/key-format.js";
import { AgentdError, invalidRequest, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { ApiKeyRecord, Store, WorkspaceRecord } from "../store/types.js";

/**
 * Keys managed over the API (issue #12, docs/security.md), by a key with
 * `keys:admin`. No key can make or shape a key with more than it has
 * itself: its scopes must cover the new ones, and an admin bound to some
 * agents can only hand out those agents. Without that rule `keys:admin`
 * alone would be every scope.
 */
export class KeyService {
  constructor(
    private readonly store: Store,
    private readonly hasher: KeyHasher,
  ) {}

  async create(workspace: WorkspaceRecord, caller: ApiKeyRecord, body: CreateKeyRequest): Promise<CreateKeyResponse> {
    if (body.expiresAt !== undefined && Date.parse(body.expiresAt) <= Date.now()) {
      throw invalidRequest("expiresAt", "must lie in the future");
    }
    const scopes = body.scopes ?? [...DEFAULT_KEY_SCOPES];
    const agents = body.agents ?? [];
    withinCaller(caller, scopes, agents, body.agents !== undefined);
    const key = newApiKey();
    const record: ApiKeyRecord = {
      id: newId("key"),
      workspaceId: workspace.id,
      name: body.name,
      displayPrefix: key.slice(0, API_KEY_PREFIX.length + 4),
      hash: this.hasher.hash(key)!,
      scopes,
      // An admin bound to agents makes keys bound to (some of) them: "every agent" would be more than it has.
      agents: agents.length === 0 && caller.agents.length > 0 ? [...caller.agents] : agents,
      expiresAt: body.expiresAt === undefined ? null : new Date(body.expiresAt).toISOString(),
      limits: body.limits ?? {},
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.store.insertApiKey(record);
    return { ...info(record), key };
  }

  async list(workspace: WorkspaceRecord): Promise<KeyInfo[]> {
    return (await this.store.listApiKeys(workspace.id)).map(info);
  }

  async get(workspace: WorkspaceRecord, keyId: string): Promise<KeyInfo> {
    return info(await this.find(workspace, keyId));
  }

  async update(workspace: WorkspaceRecord, caller: ApiKeyRecord, keyId: string, body: UpdateKeyRequest): Promise<KeyInfo> {
    const current = await this.find(workspace, keyId);
    if (current.revokedAt !== null) throw new AgentdError("conflict", `key ${keyId} is revoked; make a new one`);
    // What it ends up with must lie within the caller's; so must what it has now, or an admin could edit a stronger key.
    withinCaller(caller, body.scopes ?? current.scopes, body.agents ?? current.agents, true);
    const updated = await this.store.updateApiKey(workspace.id, keyId, body);
    if (!updated) throw new AgentdError("conflict", `key ${keyId} is revoked; make a new one`);
    return info(updated);
  }

  /** Revokes; revoking again answers the key as it is. Every worker refuses it within a second (http/auth.ts). */
  async revoke(workspace: WorkspaceRecord, caller: ApiKeyRecord, keyId: string): Promise<KeyInfo> {
    const current = await this.find(workspace, keyId);
    withinCaller(caller, current.scopes, current.agents, true);
    const revoked = await this.store.revokeApiKey(current.id);
    return info(revoked ?? current);
  }

  private async find(workspace: WorkspaceRecord, keyId: string): Promise<ApiKeyRecord> {
    const key = await this.store.getApiKey(workspace.id, keyId);
    if (!key) throw notFound(`key ${keyId}`);
    return key;
  }
}

/** 403 unless `caller` holds every scope in `scopes` and, when bound to agents, every agent in `agents` (an empty list meaning all). */
function withinCaller(caller: ApiKeyRecord, scopes: readonly string[], agents: readonly string[], agentsGiven: boolean): void {
  if (!caller.scopes.includes("*")) {
    const missing = scopes.filter((scope) => scope === "*" || !caller.scopes.includes(scope));
    if (missing.length > 0) {
      throw new AgentdError("forbidden", `a key cannot grant scopes it lacks: ${missing.join(", ")}`, {
        issues: [{ path: "scopes", message: `not held by this key: ${missing.join(", ")}` }],
      });
    }
  }
  if (caller.agents.length > 0 && agentsGiven) {
    const outside = agents.length === 0 ? ["(every agent)"] : agents.filter((agent) => !caller.agents.includes(agent));
    if (outside.length > 0) {
      throw new AgentdError("forbidden", `a key bound to agents cannot grant others: ${outside.join(", ")}`, {
        issues: [{ path: "agents", message: `not allowed to this key: ${outside.join(", ")}` }],
      });
    }
  }
}

function info(key: ApiKeyRecord): KeyInfo {
  return {
    id: key.id,
    name: key.name,
    displayPrefix: key.displayPrefix,
    scopes: key.scopes as KeyInfo["scopes"],
    agents: key.agents,
    expiresAt: key.expiresAt,
    limits: key.limits,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}
