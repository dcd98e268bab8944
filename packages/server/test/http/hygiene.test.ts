import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@agentd/server";
import { startTestServer, type TestServer } from "../helpers.js";

/*
 * Issue #12: what agentd says back and writes down. No key made here (the
 * server's own, one made over the API, a revoked one) shows in any log line
 * at debug level or in any error body, wherever a caller puts it; and a
 * body cannot set what the server owns (workspace, status, usage, seq, ids,
 * a key's secret or revocation), whatever route it is sent to.
 */

describe("key hygiene and mass assignment", () => {
  let t: TestServer;
  const written: string[] = [];
  const made: string[] = [];
  beforeAll(async () => {
    t = await startTestServer({ logger: createLogger("debug", (line) => written.push(line)) });
    for (const name of ["one", "two"]) {
      const created = await t.request("POST", "/keys", { name });
      expect(created.status).toBe(201);
      made.push(created.body.key);
    }
    const revoked = (await t.request("GET", "/keys")).body.keys.find((key: { name: string }) => key.name === "two");
    expect((await t.request("DELETE", `/keys/${revoked.id}`)).status).toBe(200);
  });
  afterAll(() => t?.close());

  it("never echoes a key in an error body, nor writes one in a log line, wherever a request puts it", async () => {
    const keys = [t.key, ...made];
    const bodies: string[] = [];
    const send = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(path.startsWith("http") ? path : t.api(path), init);
      const text = await response.text();
      bodies.push(text);
      return response.status;
    };
    const json = (body: unknown, key = t.key) => ({
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const get = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    for (const key of keys) {
      // As an id, a query value, a field's value, a header of its own: each refused, none echoed.
      expect(await send(`/keys/${key}`, get(t.key))).toBe(404);
      expect(await send(`/agent-runs/${key}`, get(t.key))).toBe(404);
      expect(await send(`/agent-runs?cursor=${key}`, get(t.key))).toBe(400);
      expect(await send(`/agent-runs?agentId=${key}&${key}=1`, get(t.key))).toBe(400);
      expect(await send("/agent-runs", json({ agentId: key, prompt: "hi" }))).toBe(404);
      expect(await send("/agent-runs", json({ systemPrompt: "s", prompt: "hi", modelId: key }))).toBe(400);
      expect(await send("/agent-runs", json({ systemPrompt: "s", prompt: "hi", [key]: true }))).toBe(400);
      expect(await send(`/agent-tags/${key}`, { ...json({ agentId: key, revision: 1 }), method: "PUT" })).toBe(400);
      // As a credential, in the wrong workspace, with a typo, in a malformed header.
      expect(await send(`${t.url}/api/v1/workspaces/elsewhere/agent-runs`, get(key))).toBeGreaterThanOrEqual(401);
      expect(await send("/agent-runs", get(`${key.slice(0, -1)}${key.endsWith("x") ? "y" : "x"}`))).toBe(401);
      expect(await send("/agent-runs", { headers: { authorization: `Token ${key}` } })).toBe(401);
    }
    expect(bodies.length).toBeGreaterThan(30);
    for (const body of bodies) for (const key of keys) expect(body).not.toContain(key);
    // Up to the prefix and four characters, as `displayPrefix` shows it: what an operator needs to tell keys apart.
    expect(bodies.some((body) => body.includes(`${t.key.slice(0, 8)}…`))).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 50));
    const log = written.join("\n");
    expect(log.length).toBeGreaterThan(0);
    for (const key of keys) expect(log.split("\n").filter((line) => line.includes(key))).toEqual([]);
  });

  it("refuses, naming the field, a body that tries to set what the server owns", async () => {
    const spec = { systemPrompt: "s", prompt: "hi" };
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ["POST", "/agent-runs", { ...spec, workspace: "other" }, "workspace"],
      ["POST", "/agent-runs", { ...spec, workspaceId: "ws_other" }, "workspaceId"],
      ["POST", "/agent-runs", { ...spec, status: "completed" }, "status"],
      ["POST", "/agent-runs", { ...spec, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } }, "usage"],
      ["POST", "/agent-runs", { ...spec, runId: "run_chosen" }, "runId"],
      ["POST", "/agent-runs", { ...spec, id: "run_chosen" }, "id"],
      ["POST", "/agent-runs", { ...spec, seq: 7 }, "seq"],
      ["POST", "/agent-runs", { ...spec, keyId: "key_other" }, "keyId"],
      ["POST", "/agent-runs", { ...spec, endUserId: "someone-else" }, "endUserId"],
      ["POST", "/agent-runs", { ...spec, agentRevision: 3 }, "agentRevision"],
      ["POST", "/agent-sessions", { systemPrompt: "s", id: "ses_chosen" }, "id"],
      ["POST", "/agent-sessions", { systemPrompt: "s", workspaceId: "ws_other" }, "workspaceId"],
      ["POST", "/agents", { id: "mass", systemPrompt: "s", latestRevision: 9 }, "latestRevision"],
      ["POST", "/agents", { id: "mass", systemPrompt: "s", source: "config" }, "source"],
      ["POST", "/keys", { name: "k", key: "agd_chosen" }, "key"],
      ["POST", "/keys", { name: "k", revokedAt: null }, "revokedAt"],
      ["POST", "/keys", { name: "k", lastUsedAt: "2026-01-01T00:00:00Z" }, "lastUsedAt"],
      ["PATCH", `/keys/${"key_x"}`, { name: "k", expiresAt: "2030-01-01T00:00:00Z" }, "expiresAt"],
      ["PUT", "/settings", { retention: { days: 1 }, updatedAt: "2026-01-01T00:00:00Z" }, "updatedAt"],
    ];
    for (const [method, path, body, field] of cases) {
      const refused = await t.request(method, path, body);
      expect(refused.status, `${method} ${path} ${field}`).toBe(400);
      expect(JSON.stringify(refused.body.issues ?? refused.body), `${method} ${path} ${field}`).toContain(field);
    }
    // Nothing was made by any of them.
    expect((await t.request("GET", "/agents/mass")).status).toBe(404);
    expect((await t.request("GET", "/agent-runs")).body.runs).toEqual([]);
  });
});
