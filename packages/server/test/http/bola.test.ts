import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_SCOPES, ROUTES, pathParameters, type RouteDeclaration } from "@agentd/protocol";
import { createApiKey, newApiKey, openStore, type Store } from "@agentd/server";
import { postgresEnv } from "../pg-env.js";
import { eventually, startTestServer, type TestServer } from "../helpers.js";

/*
 * Issue #12, the authorization matrix: every route of the table that takes
 * a key (enumerated from the table, so a new route is in it, and one whose
 * path has an id this file cannot fill fails it) against each way a caller
 * may be the wrong one: no key, a malformed, unknown, revoked or expired
 * one, another workspace's key on this workspace's path, another
 * workspace's key on its own path naming this workspace's resources
 * (BOLA), a key without the route's scope, and a key whose agent allowlist
 * excludes the agent. Each gets its documented 401, 403 or 404, and no
 * answer to another tenant carries this workspace's ids. On SQLite and
 * PostgreSQL. End users bound to keys come with the rest of issue #12.
 */

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL cases of the authorization matrix");

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

const keyRoutes = ROUTES.filter((route) => route.auth === "key") as RouteDeclaration[];

/** A body the route's schema takes, so a cross-tenant request fails on what it names, not on its shape. */
function bodyOf(route: RouteDeclaration, ids: Record<string, string>): unknown {
  switch (route.operationId) {
    case "createRun":
      return { agentId: ids.agentId, prompt: "hi" };
    case "createSession":
      return { agentId: ids.agentId };
    case "sendSessionMessage":
      return { prompt: "hi" };
    case "submitToolResult":
      return { toolUseId: ids.toolUseId, result: "r" };
    case "continueRun":
      return { approvals: [{ toolUseId: ids.toolUseId, approved: true }] };
    case "cancelRun":
      return {};
    case "createAgent":
      return { id: `x-${randomBytes(3).toString("hex")}`, systemPrompt: "x" };
    case "createAgentRevision":
      return { systemPrompt: "x" };
    case "putAgentTag":
      return { agentId: ids.agentId, revision: 1 };
    case "createKey":
      return { name: "x" };
    case "updateKey":
      return { name: "x" };
    case "putWorkspaceSettings":
      return { retention: { days: 30 } };
    default:
      return route.body ? {} : undefined;
  }
}

describe.each(stores)("the authorization matrix (%s)", (_name, open, enabled) => {
  let t: TestServer;
  let store: Store;
  const suffix = randomBytes(3).toString("hex");
  const a = `bola-a-${suffix}`;
  const b = `bola-b-${suffix}`;
  /** Workspace A's resources, by path parameter. */
  const ids: Record<string, string> = {};
  const keys: Record<string, string> = {};
  const secrets: string[] = [];

  beforeAll(async () => {
    if (!enabled) return;
    store = await open();
    t = await startTestServer({ store, workspace: a, config: { agents: { alpha: { systemPrompt: "Alpha." } } } });
    const made = async (body: Record<string, unknown>) => {
      const response = await t.request("POST", "/keys", body);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      secrets.push(response.body.key);
      return response.body as { id: string; key: string };
    };
    ids.agentId = `secret-agent-${suffix}`;
    expect((await t.request("POST", "/agents", { id: ids.agentId, systemPrompt: "Secret." })).status).toBe(201);
    ids.revision = "1";
    ids.tag = `prod-${suffix}`;
    expect((await t.request("PUT", `/agent-tags/${ids.tag}`, { agentId: ids.agentId, revision: 1 })).status).toBe(200);
    const paused = await t.request("POST", "/agent-runs", {
      systemPrompt: "s",
      prompt: "call get_time {}",
      tools: [{ kind: "local", name: "get_time" }],
    });
    ids.runId = paused.body.runId;
    ids.toolUseId = await eventually(
      async () => (await t.request("GET", `/agent-runs/${ids.runId}`)).body.pendingToolCalls?.[0]?.toolUseId,
    );
    ids.sessionId = (await t.request("POST", "/agent-sessions", { agentId: ids.agentId })).body.sessionId;
    const bystander = await made({ name: "bystander", scopes: ["runs:read"] });
    ids.keyId = bystander.id;

    const revoked = await made({ name: "revoked" });
    expect((await t.request("DELETE", `/keys/${revoked.id}`)).status).toBe(200);
    keys.revoked = revoked.key;
    keys.expired = (await made({ name: "expired", expiresAt: new Date(Date.now() + 300).toISOString() })).key;
    for (const scope of KEY_SCOPES)
      keys[`without ${scope}`] = (await made({ name: `no ${scope}`, scopes: KEY_SCOPES.filter((s) => s !== scope) })).key;
    keys.alphaOnly = (await made({ name: "alpha only", scopes: ["*"], agents: ["alpha"] })).key;
    keys.otherWorkspace = (await createApiKey(store, { workspace: b })).key;
    await new Promise((resolve) => setTimeout(resolve, 350)); // the expired key's time has come
  });
  afterAll(() => t?.close());

  const pathOf = (route: RouteDeclaration, workspace: string) =>
    route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = name === "workspace" ? workspace : ids[name];
      if (value === undefined) throw new Error(`the matrix has no ${name} for ${route.operationId}: add one to its setup`);
      return encodeURIComponent(value);
    });
  const send = async (route: RouteDeclaration, workspace: string, authorization: string | undefined) => {
    const body = bodyOf(route, ids);
    const response = await fetch(`${t.url}${pathOf(route, workspace)}`, {
      method: route.method,
      headers: {
        ...(authorization !== undefined ? { authorization } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const sent = `${pathOf(route, workspace)} ${JSON.stringify(body ?? null)}`;
    return { status: response.status, text, sent, code: text.startsWith("{") ? (JSON.parse(text) as { code?: string }).code : undefined };
  };
  /** Nothing of workspace A in an answer to someone else, but what the request itself named (an error may echo it). */
  const leaksNothing = (answer: { text: string; sent: string }, where: string) => {
    for (const value of [ids.runId!, ids.sessionId!, ids.keyId!, ids.agentId!, ids.tag!, ids.toolUseId!, ...secrets]) {
      if (answer.sent.includes(value)) continue;
      expect(answer.text, `${where} names ${value}`).not.toContain(value);
    }
  };

  it.skipIf(!enabled)("covers every key route of the table", () => {
    expect(keyRoutes.length).toBeGreaterThanOrEqual(30);
    for (const route of keyRoutes) expect(() => pathOf(route, a), route.operationId).not.toThrow();
  });

  it.skipIf(!enabled)("401 for no key, a malformed, an unknown, a revoked and an expired key, on every route", async () => {
    const callers: Array<[string, string | undefined]> = [
      ["no key", undefined],
      ["malformed", "Bearer agd_nope"],
      ["not a bearer", "Basic dXNlcjpwYXNz"],
      ["unknown", `Bearer ${newApiKey()}`],
      ["revoked", `Bearer ${keys.revoked}`],
      ["expired", `Bearer ${keys.expired}`],
    ];
    for (const route of keyRoutes) {
      for (const [who, authorization] of callers) {
        const answer = await send(route, a, authorization);
        expect([answer.status, answer.code], `${route.operationId} with ${who}`).toEqual([401, "unauthorized"]);
        leaksNothing(answer, `${route.operationId} with ${who}`);
      }
    }
  });

  it.skipIf(!enabled)("404 for another workspace's key on this workspace's paths, on every route", async () => {
    for (const route of keyRoutes) {
      const answer = await send(route, a, `Bearer ${keys.otherWorkspace}`);
      expect([answer.status, answer.code], route.operationId).toEqual([404, "not_found"]);
      leaksNothing(answer, route.operationId);
    }
  });

  it.skipIf(!enabled)(
    "another workspace's key on its own paths finds none of this workspace's resources (BOLA), and lists none",
    async () => {
      for (const route of keyRoutes) {
        const answer = await send(route, b, `Bearer ${keys.otherWorkspace}`);
        const named = pathParameters(route.path).filter((name) => name !== "workspace");
        if (named.length > 0) expect([answer.status, answer.code], `${route.operationId} ${answer.text}`).toEqual([404, "not_found"]);
        else expect(answer.status, `${route.operationId} ${answer.text}`).toBeLessThan(500);
        leaksNothing(answer, route.operationId);
      }
      // And nothing of A changed: its run still waits, its session, agent, tag and key are there.
      expect((await t.request("GET", `/agent-runs/${ids.runId}`)).body.status).toBe("paused");
      expect((await t.request("GET", `/agent-sessions/${ids.sessionId}`)).status).toBe(200);
      expect((await t.request("GET", `/agents/${ids.agentId}`)).body.tags).toEqual([{ tag: ids.tag, revision: 1 }]);
      expect((await t.request("GET", `/keys/${ids.keyId}`)).body.revokedAt).toBeNull();
    },
  );

  it.skipIf(!enabled)("403 naming the scope for a key without the route's scope, on every route", async () => {
    for (const route of keyRoutes) {
      const answer = await send(route, a, `Bearer ${keys[`without ${route.scope}`]}`);
      expect([answer.status, answer.code], route.operationId).toEqual([403, "forbidden"]);
      expect(answer.text, route.operationId).toContain(route.scope);
    }
  });

  it.skipIf(!enabled)("403 for a key whose allowlist excludes the agent: runs, sessions and session messages", async () => {
    for (const operationId of ["createRun", "createSession", "sendSessionMessage"]) {
      const route = keyRoutes.find((candidate) => candidate.operationId === operationId)!;
      const answer = await send(route, a, `Bearer ${keys.alphaOnly}`);
      expect([answer.status, answer.code], operationId).toEqual([403, "forbidden"]);
    }
    // By tag too: the tag resolves to the excluded agent.
    const byTag = await fetch(t.api("/agent-runs"), {
      method: "POST",
      headers: { authorization: `Bearer ${keys.alphaOnly}`, "content-type": "application/json" },
      body: JSON.stringify({ tag: ids.tag, prompt: "hi" }),
    });
    expect(byTag.status).toBe(403);
  });
});
