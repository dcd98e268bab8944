import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, openStore } from "@agentd/server";
import { readStream } from "../helpers.js";

/**
 * agentd serving from PostgreSQL: the same wire as on SQLite, data surviving
 * a restart, and one executing process per database. Skipped, saying so,
 * when no PostgreSQL answers at DATABASE_URL (default: the local test database).
 */
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const reachable = await new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 })
  .connect()
  .then((client) => client.end().then(() => true))
  .catch(() => false);
if (!reachable) console.warn(`PostgreSQL server tests SKIPPED: no PostgreSQL at ${databaseUrl}. Set DATABASE_URL to run them.`);

const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
afterAll(async () => {
  if (!reachable) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

describe.skipIf(!reachable)("agentd on PostgreSQL", () => {
  const start = async () => {
    const server = await createServer({ store: await openStore({ databaseUrl, schema }), logger: createLogger("silent"), env: {} });
    return { server, ...(await server.listen(0)) };
  };

  it("runs, streams, and replays after a restart; a second executing process is refused", async () => {
    const first = await start();
    const { key } = await createApiKey(first.server.store, { workspace: "pg" });
    const api = (url: string, path: string) => `${url}/api/v1/workspaces/pg${path}`;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const created = await (
      await fetch(api(first.url, "/agent-runs"), {
        method: "POST",
        headers,
        body: JSON.stringify({ systemPrompt: "x", modelId: "mock", prompt: "hello postgres" }),
      })
    ).json();
    const live = await readStream(first.url + created.streamUrl, key);
    expect(live.frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "success" });
    expect(live.frames.at(-1)!.data.text).toContain("hello postgres");

    const other = await openStore({ databaseUrl, schema });
    await expect(createServer({ store: other, logger: createLogger("silent"), env: {} })).rejects.toMatchObject({ code: "conflict" });
    await other.close();
    await first.server.close();

    const second = await start();
    try {
      const replay = await readStream(second.url + created.streamUrl, key);
      expect(replay.raw).toBe(live.raw);
      const listed = await (await fetch(api(second.url, "/agent-runs?status=completed"), { headers })).json();
      expect(listed.runs.map((run: { id: string }) => run.id)).toContain(created.runId);
    } finally {
      await second.server.close();
    }
  });
});
