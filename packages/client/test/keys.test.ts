/**
 * `client.keys` against a real agentd in-process (issue #12): create, list,
 * read, change and revoke keys; a key without keys:admin is refused with
 * the SDK's PermissionDeniedError, a revoked one with AuthenticationError.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agentd, AuthenticationError, PermissionDeniedError } from "../src/index.js";

describe("SDK keys", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentd-sdk-keys-"));
  let server: { close(): Promise<void> } | undefined;
  let admin: Agentd;
  let url: string;

  beforeAll(async () => {
    const { createServer, createApiKey } = await import("@agentd/server");
    const app = await createServer({ dataDir, env: {} });
    server = app;
    url = (await app.listen(0, "127.0.0.1")).url;
    admin = new Agentd({ apiKey: (await createApiKey(app.store, { workspace: "default" })).key, baseUrl: url });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates a key shown once, lists, reads and changes it, then revokes it", async () => {
    const created = await admin.keys.create({ name: "reader", scopes: ["runs:read"] });
    expect(created.key).toMatch(/^agd_[0-9A-Za-z]{38}$/);
    expect((await admin.keys.list()).map((key) => key.id)).toContain(created.id);
    expect(await admin.keys.get(created.id)).not.toHaveProperty("key");

    const reader = new Agentd({ apiKey: created.key, baseUrl: url, maxRetries: 0 });
    await expect(reader.runs.list()).resolves.toMatchObject({ runs: expect.any(Array) });
    await expect(reader.keys.list()).rejects.toBeInstanceOf(PermissionDeniedError);

    const changed = await admin.keys.update(created.id, { name: "renamed", scopes: ["runs:read", "agents:read"] });
    expect(changed).toMatchObject({ name: "renamed", scopes: ["runs:read", "agents:read"] });

    const revoked = await admin.keys.revoke(created.id);
    expect(revoked.revokedAt).toEqual(expect.any(String));
    // Every worker refuses it within a second (the lookup cache).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expect(reader.runs.list()).rejects.toBeInstanceOf(AuthenticationError);
  });
});
