import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, tempDir, type TestServer } from "../helpers.js";

/**
 * Idempotency keys are stored as their SHA-256 (issue #8): clients put
 * secrets, order numbers and the like in Idempotency-Key, and a copy of the
 * database must not hand them out. Retries still meet the stored reply.
 */

const RAW = "secret-value-123";
const agent = { systemPrompt: "You are a test agent.", modelId: "mock" };

describe("Idempotency-Key at rest", () => {
  const dataDir = tempDir();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ dataDir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps only the key's digest, and a retry still gets the first reply", async () => {
    const body = { ...agent, prompt: "digest me" };
    const first = await t.request("POST", "/agent-runs", body, { "idempotency-key": RAW });
    const retry = await t.request("POST", "/agent-runs", body, { "idempotency-key": RAW });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    // Another key is another request, even with the same body.
    const other = await t.request("POST", "/agent-runs", body, { "idempotency-key": `${RAW}-2` });
    expect(other.body.runId).not.toBe(first.body.runId);

    const db = new Database(join(dataDir, "agentd.db"), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT key, scope, state FROM idempotency_keys ORDER BY key").all() as Array<{ key: string; scope: string; state: string }>;
      const digest = (key: string) => createHash("sha256").update(key).digest("hex");
      expect(rows.map((row) => row.key).sort()).toEqual([digest(RAW), digest(`${RAW}-2`)].sort());
      expect(rows.every((row) => row.state === "done" && row.scope.endsWith("/agent-runs"))).toBe(true);
      const anywhere = db.prepare("SELECT count(*) AS n FROM idempotency_keys WHERE key LIKE ? OR scope LIKE ? OR body LIKE ?").get(`%${RAW}%`, `%${RAW}%`, `%${RAW}%`) as { n: number };
      expect(anywhere.n).toBe(0);
    } finally {
      db.close();
    }
    // Nor anywhere in the files on disk (the database and its WAL).
    for (const file of readdirSync(dataDir)) expect(readFileSync(join(dataDir, file)).includes(RAW), file).toBe(false);
  });

  it("answers a retry with the digest's reply after a restart of the server", async () => {
    const body = { ...agent, prompt: "after restart" };
    const first = await t.request("POST", "/agent-runs", body, { "idempotency-key": "restart-key" });
    await t.close();
    t = await startTestServer({ dataDir });
    const retry = await t.request("POST", "/agent-runs", body, { "idempotency-key": "restart-key" });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
  });
});
