import type { CreateKeyRequest, CreateKeyResponse, KeyInfo, UpdateKeyRequest } from "@agentd/protocol";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";

/** The workspace's API keys, for a key with `keys:admin` (docs/security.md "Keys"). */
export class Keys {
  constructor(private readonly transport: Transport) {}

  /** A new key; `key` (the secret) is in this answer only. Its scopes and agents must lie within the calling key's. */
  create(body: CreateKeyRequest, options?: RequestOptions): Promise<CreateKeyResponse> {
    return this.transport.json({ ...operations.createKey(), body, ...options });
  }

  /** Every key of the workspace, newest first, revoked ones included; never a secret. */
  async list(options?: RequestOptions): Promise<KeyInfo[]> {
    return (await this.transport.json<{ keys: KeyInfo[] }>({ ...operations.listKeys(), ...options })).keys;
  }

  get(keyId: string, options?: RequestOptions): Promise<KeyInfo> {
    return this.transport.json({ ...operations.getKey(keyId), ...options });
  }

  /** Changes name, scopes or agents; every worker applies it within a second. */
  update(keyId: string, body: UpdateKeyRequest, options?: RequestOptions): Promise<KeyInfo> {
    return this.transport.json({ ...operations.updateKey(keyId), body, ...options });
  }

  /** Revokes the key (again is a no-op): every worker refuses it within a second. */
  revoke(keyId: string, options?: RequestOptions): Promise<KeyInfo> {
    return this.transport.json({ ...operations.deleteKey(keyId), ...options });
  }
}
