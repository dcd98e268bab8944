import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

/**
 * What the in-process cluster tests share: whether PostgreSQL and Redis
 * answer (the suite is skipped, saying so, when not), a schema and a Redis
 * key prefix of the file's own, and their removal when the file ends.
 */
export async function clusterEnv(suite: string) {
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
  if (!ready)
    console.warn(`${suite} SKIPPED: PostgreSQL at ${databaseUrl} ${pgUp ? "up" : "down"}, Redis at ${redisUrl} ${redisUp ? "up" : "down"}`);
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
  /** A worker's environment on this file's schema and prefix. */
  const workerEnv = (workerId: string) => ({
    DATABASE_URL: databaseUrl,
    AGENTD_DB_SCHEMA: schema,
    REDIS_URL: redisUrl,
    AGENTD_REDIS_PREFIX: prefix,
    AGENTD_WORKER_ID: workerId,
  });
  return { databaseUrl, redisUrl, ready, schema, prefix, workerEnv };
}
