import { describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, newApiKey, openStore, type Store } from "@agentd/server";
import { clusterEnv } from "./cluster-env.js";
import { startTestServer } from "../helpers.js";

/**
 * Revoking an API key (issue #8): every process refuses it within about a
 * second (http/auth.ts caches lookups for 1 s), while a busy key still costs
 * one store read per second, not one per request.
 */

const { databaseUrl, redisUrl, ready, schema, prefix } = await clusterEnv("key revocation across processes");

/** GET /models with `key` until it is refused; resolves with the time that took, from `since`. */
async function refusedAfter(url: string, workspace: string, key: string, since: number): Promise<number> {
  for (;;) {
    const response = await fetch(`${url}/api/v1/workspaces/${workspace}/models`, { headers: { authorization: `Bearer ${key}` } });
    await response.arrayBuffer();
    if (response.status === 401) return Date.now() - since;
    expect(response.status).toBe(200);
    if (Date.now() - since > 5_000) throw new Error("the revoked key still works after 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const status = async (url: string, workspace: string, key: string) =>
  (await fetch(`${url}/api/v1/workspaces/${workspace}/models`, { headers: { authorization: `Bearer ${key}` } })).status;

/** A view of the store that counts key lookups. */
function countingLookups(store: Store): { store: Store; lookups: () => number } {
  let lookups = 0;
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === "findApiKeyByHash") {
        return (hash: string) => {
          lookups++;
          return target.findApiKeyByHash(hash);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, lookups: () => lookups };
}

describe("API key revocation", () => {
  it("refuses a revoked key within 1.1 s of the revocation, even right after a cached lookup; other keys go on", async () => {
    const t = await startTestServer();
    try {
      const { key: other } = await createApiKey(t.server.store, { workspace: t.workspace, name: "other" });
      const [listed] = (await t.server.store.listApiKeys()).filter((key) => key.name === "default");
      expect(await status(t.url, t.workspace, t.key)).toBe(200); // the lookup is cached now
      const revokedAt = Date.now();
      expect(await t.server.store.revokeApiKey(listed!.id)).toMatchObject({ id: listed!.id, revokedAt: expect.any(String) });
      expect(await refusedAfter(t.url, t.workspace, t.key, revokedAt)).toBeLessThanOrEqual(1_100);
      const refused = await t.request("GET", "/models");
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe("unauthorized");
      expect(await status(t.url, t.workspace, other)).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("reads the store once per key per second, however many requests arrive at once", async () => {
    const { store, lookups } = countingLookups(await openStore({ memory: true }));
    const { key } = await createApiKey(store, { workspace: "acme" });
    const server = await createServer({ store, logger: createLogger("silent"), env: {} });
    const { url } = await server.listen(0);
    try {
      const statuses = await Promise.all(Array.from({ length: 25 }, () => status(url, "acme", key)));
      expect(statuses.every((code) => code === 200)).toBe(true);
      expect(await status(url, "acme", key)).toBe(200);
      expect(lookups()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await status(url, "acme", key)).toBe(200);
      expect(lookups()).toBe(2);
      // An unknown key is not cached: each try asks the store (and gets 401).
      const unknown = newApiKey();
      expect(await status(url, "acme", unknown)).toBe(401);
      expect(await status(url, "acme", unknown)).toBe(401);
      expect(lookups()).toBe(4);
      // A malformed one (no key's shape, or a wrong checksum) never reaches the store.
      expect(await status(url, "acme", "agd_nope")).toBe(401);
      expect(await status(url, "acme", `${unknown.slice(0, -1)}${unknown.endsWith("A") ? "B" : "A"}`)).toBe(401);
      expect(lookups()).toBe(4);
    } finally {
      await server.close();
    }
  });

  describe.skipIf(!ready)("two workers on one PostgreSQL schema", () => {
    it("both refuse a key revoked by a third process within 1.1 s", async () => {
      const env = (workerId: string) => ({
        DATABASE_URL: databaseUrl,
        AGENTD_DB_SCHEMA: schema,
        REDIS_URL: redisUrl,
        AGENTD_REDIS_PREFIX: prefix,
        AGENTD_WORKER_ID: workerId,
      });
      const start = async (workerId: string) => {
        const server = await createServer({ env: env(workerId), logger: createLogger("silent") });
        return { server, ...(await server.listen(0)) };
      };
      const a = await start("revoke-a");
      const b = await start("revoke-b");
      // What `agentd keys revoke` does: a store of its own on the same schema.
      const admin = await openStore({ databaseUrl, schema });
      try {
        const created = await createApiKey(a.server.store, { workspace: "pg" });
        expect(await status(a.url, "pg", created.key)).toBe(200);
        expect(await status(b.url, "pg", created.key)).toBe(200);
        const revokedAt = Date.now();
        expect((await admin.revokeApiKey(created.id))?.revokedAt).toEqual(expect.any(String));
        const [onA, onB] = await Promise.all([
          refusedAfter(a.url, "pg", created.key, revokedAt),
          refusedAfter(b.url, "pg", created.key, revokedAt),
        ]);
        expect(onA).toBeLessThanOrEqual(1_100);
        expect(onB).toBeLessThanOrEqual(1_100);
      } finally {
        await admin.close();
        await Promise.all([a.server.close(), b.server.close()]);
      }
    });
  });
});
