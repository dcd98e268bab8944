import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { postgresEnv } from "../pg-env.js";
import { createApiKey, createLogger, createServer, openStore, type Store } from "@agentd/server";

/*
 * Issue #8, found by an attack: one workspace sending poison bodies (a value
 * nested thousands of levels deep passed validation, then failed while it
 * was stored) made other workspaces' valid run creations of the same
 * event-loop turn fail with 503 (15 of 40). Now: 0 failures for the
 * innocent workspace, a 4xx for every poison body, on SQLite and PostgreSQL.
 */

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL case of the poison-body test");

const nested = (depth: number, inner = "{}") => `${'{"a":'.repeat(depth)}${inner}${"}".repeat(depth)}`;

/** Bodies an attacker sends: each must get a 4xx and harm nobody else. */
const poison: string[] = [
  `{"systemPrompt":"x","prompt":"x","tools":[{"kind":"local","name":"t","parameters":{"type":"object","properties":${nested(5_000)}}}]}`,
  `{"systemPrompt":"x","prompt":"x","dependencies":${nested(5_000)}}`,
  `{"systemPrompt":"x","prompt":"x","outputSchema":${nested(5_000)}}`,
  `{"systemPrompt":"x","prompt":"x","dependencies":{"v":${"[".repeat(20_000)}${"]".repeat(20_000)}}}`,
  `{"systemPrompt":"x\\u0000y","prompt":"\\ud800\\udfff\\udc00","metadata":{"k":"\\u0000"}}`,
  `{"systemPrompt":"x","messages":[{"role":"user","content":"${"z".repeat(1_100_000)}"}]}`,
  `{"systemPrompt":"x","prompt":"x","dependencies":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}}`,
];

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

describe.each(stores)("poison bodies from one workspace (%s)", (_name, open, enabled) => {
  it.skipIf(!enabled)("fail none of another workspace's 200 concurrent valid run creations", { timeout: 60_000 }, async () => {
    const store = await open();
    const server = await createServer({ store, logger: createLogger("silent"), env: {} });
    const { url } = await server.listen(0);
    try {
      const suffix = randomBytes(3).toString("hex");
      const attacker = await createApiKey(store, { workspace: `attacker-${suffix}` });
      const victim = await createApiKey(store, { workspace: `victim-${suffix}` });
      const post = (workspace: string, key: string, body: string) =>
        fetch(`${url}/api/v1/workspaces/${workspace}/agent-runs`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body,
        }).then(async (response) => ({ status: response.status, body: await response.text() }));

      const valid = JSON.stringify({ systemPrompt: "You are a test agent.", modelId: "mock", prompt: "hello" });
      const attacks: Array<Promise<{ status: number; body: string }>> = [];
      const innocent: Array<Promise<{ status: number; body: string }>> = [];
      for (let i = 0; i < 200; i++) {
        innocent.push(post(victim.workspace, victim.key, valid));
        attacks.push(post(attacker.workspace, attacker.key, poison[i % poison.length]!));
      }
      const victims = await Promise.all(innocent);
      const attacked = await Promise.all(attacks);
      expect(victims.filter((answer) => answer.status !== 202)).toEqual([]);
      for (const answer of attacked) {
        // Some poison is harmless once bounded (NUL, surrogates, __proto__ keys): stored safely, 202.
        expect(answer.status, answer.body.slice(0, 300)).toBeLessThan(500);
      }
      expect(attacked.filter((answer) => answer.status >= 400).length).toBeGreaterThanOrEqual(100);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // The server keeps serving both.
      expect((await post(victim.workspace, victim.key, valid)).status).toBe(202);
      expect((await post(attacker.workspace, attacker.key, valid)).status).toBe(202);
    } finally {
      await server.close();
    }
  });
});
