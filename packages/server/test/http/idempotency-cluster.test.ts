import { describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer } from "@agentd/server";
import { clusterEnv } from "./cluster-env.js";

/**
 * Idempotency-Key across two workers of a cluster (PostgreSQL + Redis): a
 * retry that reaches the other worker gets the first reply and starts no
 * second run. Skipped, saying so, without PostgreSQL or Redis.
 */
const { databaseUrl, redisUrl, ready, schema, prefix } = await clusterEnv("idempotency cluster tests");

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
