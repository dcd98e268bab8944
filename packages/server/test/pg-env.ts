import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll } from "vitest";

/**
 * What a test file that also runs on PostgreSQL needs: whether it answers at
 * DATABASE_URL (default: the local test database; the cases are skipped,
 * saying so, when not), a schema of the file's own, and its removal when
 * the file ends.
 */
export async function postgresEnv(suite: string): Promise<{ databaseUrl: string; reachable: boolean; schema: string }> {
  const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const reachable = await new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 })
    .connect()
    .then((client) => client.end().then(() => true))
    .catch(() => false);
  if (!reachable) console.warn(`${suite} SKIPPED: no PostgreSQL at ${databaseUrl}. Set DATABASE_URL to run them.`);
  const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
  afterAll(async () => {
    if (!reachable) return;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });
  return { databaseUrl, reachable, schema };
}
