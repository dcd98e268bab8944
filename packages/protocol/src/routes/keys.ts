import { CreateKeyRequest, CreateKeyResponse, KeyInfo, ListKeysResponse, UpdateKeyRequest } from "../keys.js";
import { API_PREFIX } from "../wire.js";
import { IDEMPOTENCY_KEY } from "./headers.js";
import { defineRoute } from "./route.js";

/* API keys of a workspace, for keys with `keys:admin` (issue #12): docs/security.md. */

const KEYS = `${API_PREFIX}/{workspace}/keys`;
const KEY = `${KEYS}/{keyId}`;

export const keyRoutes = {
  createKey: defineRoute({
    operationId: "createKey",
    method: "POST",
    path: KEYS,
    summary: "Create an API key (shown in this response only); its scopes and agents lie within the caller's",
    tag: "keys",
    auth: "key",
    scope: "keys:admin",
    headers: [IDEMPOTENCY_KEY],
    body: { schema: CreateKeyRequest, required: true },
    responses: { 201: { description: "Created: `key` is the secret, shown once", schema: CreateKeyResponse } },
  }),
  listKeys: defineRoute({
    operationId: "listKeys",
    method: "GET",
    path: KEYS,
    summary: "List the workspace's keys, newest first, revoked ones included (never a secret)",
    tag: "keys",
    auth: "key",
    scope: "keys:admin",
    responses: { 200: { description: "Every key of the workspace", schema: ListKeysResponse } },
  }),
  getKey: defineRoute({
    operationId: "getKey",
    method: "GET",
    path: KEY,
    summary: "One key (never its secret)",
    tag: "keys",
    auth: "key",
    scope: "keys:admin",
    responses: { 200: { description: "The key", schema: KeyInfo } },
    errors: [404],
  }),
  updateKey: defineRoute({
    operationId: "updateKey",
    method: "PATCH",
    path: KEY,
    summary: "Change a key's name, scopes or agents (within the caller's); in effect on every worker within a second",
    tag: "keys",
    auth: "key",
    scope: "keys:admin",
    body: { schema: UpdateKeyRequest, required: true },
    responses: { 200: { description: "The key as it is now", schema: KeyInfo } },
    // 409: the key is revoked.
    errors: [404, 409],
  }),
  deleteKey: defineRoute({
    operationId: "deleteKey",
    method: "DELETE",
    path: KEY,
    summary: "Revoke a key: every worker refuses it within a second; revoking again is a no-op",
    tag: "keys",
    auth: "key",
    scope: "keys:admin",
    responses: { 200: { description: "The key as it is now, revoked", schema: KeyInfo } },
    errors: [404],
  }),
};
