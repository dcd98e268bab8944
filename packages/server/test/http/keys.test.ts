import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, keyShape, openStore, type Store } from "@agentd/server";
import { postgresEnv } from "../pg-env.js";
import { eventually, startTestServer, type TestServer } from "../helpers.js";

/*
 * Issue #12, keys: created, listed, changed and revoked over HTTP by a key
 * with keys:admin; scopes and the agent allowlist enforced on every route;
 * no key hands out more than it has; expiry, the key format, the HMAC
 * storage and keys made before it. On SQLite and PostgreSQL.
 */

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL cases of the keys test");

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

const config = { agents: { alpha: { systemPrompt: "Alpha." }, beta: { systemPrompt: "Beta." } } };

describe.each(stores)("keys (%s)", (_name, open, enabled) => {
  let t: TestServer;
  let store: Store;
  const workspace = `keys-${randomBytes(3).toString("hex")}`;
  beforeAll(async () => {
    if (!enabled) return;
    store = await open();
    t = await startTestServer({ store, config, workspace });
  });
  afterAll(() => t?.close());

  /** A request with another key than the test server's own. */
  const as = async (key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(t.api(path), {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const create = async (body: Record<string, unknown>) => {
    const created = await t.request("POST", "/keys", body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; key: string; scopes: string[]; agents: string[] };
  };

  it.skipIf(!enabled)(
    "creates a key shown once, in the checksummed format, stored as an HMAC; lists and reads it without the secret",
    async () => {
      const made = await create({ name: "app" });
      expect(keyShape(made.key)).toBe("current");
      expect(made).toMatchObject({
        name: "app",
        scopes: ["runs:write", "runs:read", "agents:read", "memory:write", "memory:read"],
        agents: [],
      });
      expect((made as unknown as { displayPrefix: string }).displayPrefix).toBe(made.key.slice(0, 8));
      const listed = await t.request("GET", "/keys");
      expect(listed.status).toBe(200);
      const mine = listed.body.keys.find((key: { id: string }) => key.id === made.id);
      expect(mine).toMatchObject({ id: made.id, name: "app", revokedAt: null, lastUsedAt: null });
      expect(JSON.stringify(listed.body)).not.toContain(made.key);
      const one = await t.request("GET", `/keys/${made.id}`);
      expect(one.status).toBe(200);
      expect(one.body).not.toHaveProperty("key");
      // Not SHA-256 of the key: an HMAC under the pepper (a database copy alone cannot confirm a guess).
      const stored = (await store.listApiKeys()).find((key) => key.id === made.id)!;
      expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored.hash).not.toBe(createHash("sha256").update(made.key).digest("hex"));
      // It works, and its use is recorded (off the request path).
      expect((await as(made.key, "GET", "/agent-runs")).status).toBe(200);
      await eventually(async () => ((await t.request("GET", `/keys/${made.id}`)).body.lastUsedAt ? true : undefined));
    },
  );

  it.skipIf(!enabled)("enforces each route's scope: 403 naming it, 200 with it", async () => {
    const reader = await create({ name: "reader", scopes: ["runs:read"] });
    expect((await as(reader.key, "GET", "/agent-runs")).status).toBe(200);
    const refused = await as(reader.key, "POST", "/agent-runs", { agentId: "alpha", prompt: "hi" });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "forbidden" });
    expect(refused.body.message).toContain("runs:write");
    expect((await as(reader.key, "GET", "/agents")).status).toBe(403);
    expect((await as(reader.key, "GET", "/keys")).status).toBe(403);
    // Settings are the administrator's, like keys.
    expect((await as(reader.key, "GET", "/settings")).status).toBe(403);
    expect((await as(reader.key, "PUT", "/settings", { retention: { days: 1 } })).status).toBe(403);
    const app = await create({ name: "app" });
    expect((await as(app.key, "POST", "/agents", { id: "nope", systemPrompt: "x" })).status).toBe(403);
    expect((await as(app.key, "POST", "/keys", { name: "escalate" })).status).toBe(403);
  });

  it.skipIf(!enabled)("a key bound to agents runs only those: another agent, or an inline one, is a 403", async () => {
    const bound = await create({ name: "alpha only", agents: ["alpha"] });
    expect((await as(bound.key, "POST", "/agent-runs", { agentId: "alpha", prompt: "hi" })).status).toBe(202);
    const other = await as(bound.key, "POST", "/agent-runs", { agentId: "beta", prompt: "hi" });
    expect(other.status).toBe(403);
    expect(other.body.message).toContain("alpha");
    expect((await as(bound.key, "POST", "/agent-runs", { systemPrompt: "anything", prompt: "hi" })).status).toBe(403);
    expect((await as(bound.key, "POST", "/agent-sessions", { agentId: "beta" })).status).toBe(403);
    const session = await as(bound.key, "POST", "/agent-sessions", { agentId: "alpha" });
    expect(session.status).toBe(201);
    // A session of another agent, made by an unbound key, takes no message from the bound one.
    const foreign = await t.request("POST", "/agent-sessions", { agentId: "beta" });
    expect((await as(bound.key, "POST", `/agent-sessions/${foreign.body.sessionId}/messages`, { prompt: "hi" })).status).toBe(403);
  });

  it.skipIf(!enabled)("no key grants more than it has: scopes, agents, and keys stronger than itself", async () => {
    const admin = await create({ name: "key admin", scopes: ["keys:admin", "runs:read"] });
    const ok = await as(admin.key, "POST", "/keys", { name: "sub", scopes: ["runs:read"] });
    expect(ok.status).toBe(201);
    const escalate = await as(admin.key, "POST", "/keys", { name: "more", scopes: ["runs:write"] });
    expect(escalate.status).toBe(403);
    expect(JSON.stringify(escalate.body)).toContain("scopes");
    expect((await as(admin.key, "POST", "/keys", { name: "all" })).status).toBe(403); // the default scopes include runs:write
    expect((await as(admin.key, "POST", "/keys", { name: "star", scopes: ["*"] })).status).toBe(403);
    const strong = await create({ name: "strong", scopes: ["*"] });
    expect((await as(admin.key, "PATCH", `/keys/${strong.id}`, { name: "renamed" })).status).toBe(403);
    expect((await as(admin.key, "DELETE", `/keys/${strong.id}`)).status).toBe(403);
    expect((await as(admin.key, "PATCH", `/keys/${ok.body.id}`, { scopes: ["runs:write"] })).status).toBe(403);

    const boundAdmin = await create({ name: "bound admin", scopes: ["keys:admin", "runs:write"], agents: ["alpha"] });
    const inherits = await as(boundAdmin.key, "POST", "/keys", { name: "child", scopes: ["runs:write"] });
    expect(inherits.status).toBe(201);
    expect(inherits.body.agents).toEqual(["alpha"]);
    expect((await as(boundAdmin.key, "POST", "/keys", { name: "wider", scopes: ["runs:write"], agents: ["beta"] })).status).toBe(403);
  });

  it.skipIf(!enabled)(
    "PATCH changes scopes on every request within a second; DELETE revokes (401 within a second), a revoked key stays so",
    async () => {
      const made = await create({ name: "changing", scopes: ["runs:read"] });
      expect((await as(made.key, "GET", "/agents")).status).toBe(403);
      const patched = await t.request("PATCH", `/keys/${made.id}`, { scopes: ["runs:read", "agents:read"], name: "changed" });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: "changed", scopes: ["runs:read", "agents:read"] });
      await eventually(async () => ((await as(made.key, "GET", "/agents")).status === 200 ? true : undefined), 2_000);

      const revoked = await t.request("DELETE", `/keys/${made.id}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body.revokedAt).toEqual(expect.any(String));
      await eventually(async () => ((await as(made.key, "GET", "/agent-runs")).status === 401 ? true : undefined), 2_000);
      expect((await t.request("DELETE", `/keys/${made.id}`)).body.revokedAt).toBe(revoked.body.revokedAt);
      expect((await t.request("PATCH", `/keys/${made.id}`, { name: "back" })).status).toBe(409);
      expect((await t.request("GET", `/keys/key_missing`)).status).toBe(404);
    },
  );

  it.skipIf(!enabled)("an expired key is a 401 saying so", async () => {
    const soon = new Date(Date.now() + 300).toISOString();
    const made = await create({ name: "short", expiresAt: soon });
    expect((await as(made.key, "GET", "/agent-runs")).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const expired = await as(made.key, "GET", "/agent-runs");
    expect(expired.status).toBe(401);
    expect(expired.body.message).toContain("expired");
  });

  it.skipIf(!enabled)("refuses bad bodies with a 400 naming the field, and fields a key may not set", async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: "" }, "name"],
      [{ name: "x", scopes: ["runs:everything"] }, "scopes"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["runs:read", "runs:read"] }, "scopes"],
      [{ name: "x", agents: "alpha" }, "agents"],
      [{ name: "x", expiresAt: "tomorrow" }, "expiresAt"],
      [{ name: "x", expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
      [{ name: "x", workspace: "other" }, "workspace"],
      [{ name: "x", hash: "0".repeat(64) }, "hash"],
      [{ name: "x", revokedAt: null }, "revokedAt"],
    ];
    for (const [body, field] of cases) {
      const refused = await t.request("POST", "/keys", body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(refused.body), JSON.stringify(body)).toContain(field);
    }
    const made = await create({ name: "target" });
    expect((await t.request("PATCH", `/keys/${made.id}`, {})).status).toBe(400);
    const patchRefused = await t.request("PATCH", `/keys/${made.id}`, { workspaceId: "ws_x" });
    expect(patchRefused.status).toBe(400);
    expect(JSON.stringify(patchRefused.body)).toContain("workspaceId");
  });

  it.skipIf(!enabled)("another workspace's admin key sees and changes none of these keys", async () => {
    const made = await create({ name: "mine" });
    const { key: foreign } = await createApiKey(store, { workspace: `${workspace}-other` });
    expect((await as(foreign, "GET", "/keys")).status).toBe(404);
    const otherApi = (path: string) => `${t.url}/api/v1/workspaces/${workspace}-other${path}`;
    const read = await fetch(otherApi(`/keys/${made.id}`), { headers: { authorization: `Bearer ${foreign}` } });
    expect(read.status).toBe(404);
    const revoke = await fetch(otherApi(`/keys/${made.id}`), { method: "DELETE", headers: { authorization: `Bearer ${foreign}` } });
    expect(revoke.status).toBe(404);
    expect((await t.request("GET", `/keys/${made.id}`)).body.revokedAt).toBeNull();
  });

  it.skipIf(!enabled)("a key made before the checksum and the HMAC (stored as SHA-256) keeps working", async () => {
    const legacy = `agd_${randomBytes(24).toString("base64url").replace(/[-_]/g, "x").slice(0, 32)}`;
    expect(keyShape(legacy)).toBe("legacy");
    const ws = await store.ensureWorkspace(workspace);
    await store.insertApiKey({
      id: `key_legacy${randomBytes(3).toString("hex")}`,
      workspaceId: ws.id,
      name: "old",
      displayPrefix: legacy.slice(0, 8),
      hash: createHash("sha256").update(legacy).digest("hex"),
      scopes: ["*"],
      agents: [],
      expiresAt: null,
      limits: {},
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect((await as(legacy, "GET", "/agent-runs")).status).toBe(200);
  });
});

describe("the key pepper", () => {
  it("AGENTD_KEY_PEPPER decides the hash: a key made under one pepper is refused under another; a short pepper is refused at start", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dataDir = mkdtempSync(join(tmpdir(), "agentd-pepper-"));
    const setup = await openStore({ dataDir });
    const pepperA = { AGENTD_KEY_PEPPER: "a".repeat(40) };
    const { key } = await createApiKey(setup, { workspace: "pep", env: pepperA });
    await setup.close();
    const get = async (env: Record<string, string>) => {
      // A server closes the store it is given: each one gets its own, on the same data.
      const server = await createServer({ store: await openStore({ dataDir }), env, logger: createLogger("silent") });
      const { url } = await server.listen(0);
      try {
        return (await fetch(`${url}/api/v1/workspaces/pep/agent-runs`, { headers: { authorization: `Bearer ${key}` } })).status;
      } finally {
        await server.close();
      }
    };
    expect(await get(pepperA)).toBe(200);
    expect(await get({ AGENTD_KEY_PEPPER: "b".repeat(40) })).toBe(401);
    // Without the variable: the store's own pepper, which is not A.
    expect(await get({})).toBe(401);
    const store = await openStore({ dataDir });
    await expect(createServer({ store, env: { AGENTD_KEY_PEPPER: "short" }, logger: createLogger("silent") })).rejects.toThrow(
      /AGENTD_KEY_PEPPER/,
    );
    await store.close();
  });

  it("the embedded store keeps its pepper in the data directory (mode 0600): a reopened store, or the CLI's, hashes alike", async () => {
    const { mkdtempSync, statSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dataDir = mkdtempSync(join(tmpdir(), "agentd-pepper-"));
    const first = await openStore({ dataDir });
    const pepper = await first.keyPepper();
    expect(pepper.length).toBe(32);
    await first.close();
    expect(statSync(join(dataDir, "key-pepper")).mode & 0o777).toBe(0o600);
    const again = await openStore({ dataDir });
    expect((await again.keyPepper()).equals(pepper)).toBe(true);
    await again.close();
  });
});
