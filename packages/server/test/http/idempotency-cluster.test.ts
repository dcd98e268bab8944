import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer } from "@agentd/server";

/**
 * Idempotency-Key across two workers of a cluster (PostgreSQL + Redis): a
 * retry that reaches the other worker gets the first reply and starts no
 * second run. Skipped, saying so, without PostgreSQL or Redis.
 */
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const pgUp = await new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 })
  .connect()
  .then((client) => client.end().then(() => true))
  .catch(() => false);
const redisUp = await new Promise<boolean>((resolve) => {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.connect().then(
    () => redis.quit().then(() => resolve(true)),
    () => resolve(false),
  );
});
const ready = pgUp && redisUp;
if (!ready) console.warn(`idempotency cluster tests SKIPPED: PostgreSQL ${pgUp ? "up" : "down"}, Redis ${redisUp ? "up" : "down"}`);

const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
const prefix = `agentd-test-${randomBytes(4).toString("hex")}:`;
afterAll(async () => {
  if (!ready) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe.skipIf(!ready)("Idempotency-Key on two workers", () => {
  it("answers a retry reaching the other worker with the first reply, and refuses the key for another body", async () => {
    const start = async (workerId: string) => {
      const env = {
        DATABASE_URL: databaseUrl,
        AGENTD_DB_SCHEMA: schema,
        REDIS_URL: redisUrl,
        AGENTD_REDIS_PREFIX: prefix,
        AGENTD_WORKER_ID: workerId,
      };
      const server = await createServer({ env, logger: createLogger("silent") });
      return { server, ...(await server.listen(0)) };
    };
    const a = await start("worker-a");
    const b = await start("worker-b");
    try {
      const { key } = await createApiKey(a.server.store, { workspace: "idem" });
      const call = async (url: string, path: string, body: unknown, idempotencyKey?: string) => {
        const response = await fetch(`${url}/api/v1/workspaces/idem${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: {
            authorization: `Bearer ${key}`,
            "content-type": "application/json",
            ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: response.status, body: await response.json() };
      };
      const body = { systemPrompt: "x", modelId: "mock", prompt: "only once", metadata: { tag: "cluster-idem" } };
      const first = await call(a.url, "/agent-runs", body, "cluster-key");
      const retried = await call(b.url, "/agent-runs", body, "cluster-key");
      expect(first.status).toBe(202);
      expect(retried).toEqual(first);
      const listed = await call(b.url, "/agent-runs?metadata=tag:cluster-idem", undefined);
      expect(listed.body.runs.map((run: { id: string }) => run.id)).toEqual([first.body.runId]);

      const reused = await call(b.url, "/agent-runs", { ...body, prompt: "something else" }, "cluster-key");
      expect(reused.status).toBe(422);
      expect(reused.body).toMatchObject({ code: "idempotency_key_reused" });
      expect(reused.body.error).toContain("Idempotency-Key");
    } finally {
      await a.server.close();
      await b.server.close();
    }
  }, 30_000);
});
