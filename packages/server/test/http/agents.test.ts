import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, openStore, type Store } from "@agentd/server";
import { postgresEnv } from "../pg-env.js";
import { readStream, startTestServer, type TestServer } from "../helpers.js";

/** The agents registry over HTTP (issue #11), on SQLite and on PostgreSQL. */
const pg = await postgresEnv("agents registry on PostgreSQL");

const stores: Array<[string, boolean, () => Promise<Store>]> = [
  ["sqlite", false, () => openStore({ memory: true })],
  ["postgres", !pg.reachable, () => openStore({ databaseUrl: pg.databaseUrl, schema: pg.schema })],
];

describe.each(stores)("agents registry (%s)", (_name, skip, makeStore) => {
  let t: TestServer;
  /** A second workspace's key on the same server. */
  let otherKey: string;
  const asOther = (method: string, path: string, body?: unknown) =>
    fetch(`${t.url}/api/v1/workspaces/globex${path}`, {
      method,
      headers: { authorization: `Bearer ${otherKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer({
      store: await makeStore(),
      config: { agents: { "config-agent": { systemPrompt: "From the file.", description: "read-only" } } },
    });
    otherKey = (await createApiKey(t.server.store, { workspace: "globex" })).key;
  });
  afterAll(async () => {
    if (!skip) await t.close();
  });

  it.skipIf(skip)("creates an agent at revision 1, refuses a taken id, adds revisions and reads them back", async () => {
    const created = await t.request("POST", "/agents", { id: "support", name: "Support", systemPrompt: "v1", modelId: "mock" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: "support",
      source: "registry",
      name: "Support",
      revision: 1,
      latestRevision: 1,
      definition: { systemPrompt: "v1", modelId: "mock" },
      tags: [],
    });
    const taken = await t.request("POST", "/agents", { id: "support", systemPrompt: "again" });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe("conflict");

    const second = await t.request("POST", "/agents/support/revisions", { systemPrompt: "v2", modelId: "mock" });
    expect(second.status).toBe(201);
    expect(second.body).toEqual({ agentId: "support", revision: 2 });

    const agent = await t.request("GET", "/agents/support");
    expect(agent.body).toMatchObject({ latestRevision: 2, definition: { systemPrompt: "v2" } });
    const one = await t.request("GET", "/agents/support/revisions/1");
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ agentId: "support", revision: 1, definition: { systemPrompt: "v1" } });
    const listed = await t.request("GET", "/agents/support/revisions?limit=1");
    expect(listed.body.revisions.map((revision: any) => revision.revision)).toEqual([2]);
    const next = await t.request("GET", `/agents/support/revisions?limit=1&cursor=${listed.body.nextCursor}`);
    expect(next.body).toMatchObject({ revisions: [{ revision: 1 }], nextCursor: null });
    expect((await t.request("GET", "/agents/support/revisions/3")).status).toBe(404);
  });

  it.skipIf(skip)("numbers 20 concurrent revisions 2..21 with no gap or duplicate", async () => {
    expect((await t.request("POST", "/agents", { id: "racer", systemPrompt: "v1" })).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => t.request("POST", "/agents/racer/revisions", { systemPrompt: `v${index + 2}` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
    expect(answers.map((answer) => answer.body.revision).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, index) => index + 2),
    );
  });

  it.skipIf(skip)("answers a retried POST /revisions with its first reply, adding no second revision", async () => {
    await t.request("POST", "/agents", { id: "retried", systemPrompt: "v1" });
    const headers = { "idempotency-key": "revision-once" };
    const first = await t.request("POST", "/agents/retried/revisions", { systemPrompt: "v2" }, headers);
    const again = await t.request("POST", "/agents/retried/revisions", { systemPrompt: "v2" }, headers);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    expect((await t.request("GET", "/agents/retried")).body.latestRevision).toBe(2);
  });

  it.skipIf(skip)("points, moves, lists and deletes tags; the agent shows the tags naming it", async () => {
    await t.request("POST", "/agents", { id: "tagged", systemPrompt: "v1" });
    await t.request("POST", "/agents/tagged/revisions", { systemPrompt: "v2" });
    const put = await t.request("PUT", "/agent-tags/production", { agentId: "tagged", revision: 1 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ tag: "production", agentId: "tagged", revision: 1 });
    const moved = await t.request("PUT", "/agent-tags/production", { agentId: "tagged", revision: 2 });
    expect(moved.body.revision).toBe(2);
    expect((await t.request("GET", "/agents/tagged")).body.tags).toEqual([{ tag: "production", revision: 2 }]);
    const tags = await t.request("GET", "/agent-tags");
    expect(tags.body.tags).toContainEqual(expect.objectContaining({ tag: "production", agentId: "tagged", revision: 2 }));
    expect((await t.request("PUT", "/agent-tags/production", { agentId: "tagged", revision: 9 })).status).toBe(404);
    expect((await t.request("DELETE", "/agent-tags/production")).status).toBe(200);
    expect((await t.request("DELETE", "/agent-tags/production")).status).toBe(404);
  });

  it.skipIf(skip)("lists config agents as read-only beside the registry's, newest first, by cursor", async () => {
    await t.request("POST", "/agents", { id: "list-a", systemPrompt: "a" });
    await t.request("POST", "/agents", { id: "list-b", systemPrompt: "b" });
    const first = await t.request("GET", "/agents?limit=1");
    expect(first.status).toBe(200);
    expect(first.body.agents[0]).toMatchObject({
      id: "config-agent",
      source: "config",
      latestRevision: null,
      definition: { systemPrompt: "From the file." },
    });
    expect(first.body.agents[1]).toMatchObject({ id: "list-b", source: "registry" });
    const second = await t.request("GET", `/agents?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.agents.map((agent: any) => agent.id)).toEqual(["list-a"]);
    expect((await t.request("GET", "/agents/config-agent")).body).toMatchObject({ source: "config" });

    for (const [method, path, body] of [
      ["POST", "/agents", { id: "config-agent", systemPrompt: "x" }],
      ["POST", "/agents/config-agent/revisions", { systemPrompt: "x" }],
      ["DELETE", "/agents/config-agent", undefined],
      ["PUT", "/agent-tags/file", { agentId: "config-agent", revision: 1 }],
    ] as const) {
      const refused = await t.request(method, path, body);
      expect(refused.status, `${method} ${path}`).toBe(409);
      expect(refused.body.error).toMatch(/read-only/);
    }
  });

  it.skipIf(skip)("refuses bad ids, tags, revisions and definitions with a 400 naming the field", async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ["POST", "/agents", { id: "Upper", systemPrompt: "x" }, "id"],
      ["POST", "/agents", { id: "-lead", systemPrompt: "x" }, "id"],
      ["POST", "/agents", { id: "a".repeat(65), systemPrompt: "x" }, "id"],
      ["POST", "/agents", { id: "ok" }, "systemPrompt"],
      ["POST", "/agents", { id: "ok", systemPrompt: "x", modelParams: { temperature: 3 } }, "modelParams.temperature"],
      ["POST", "/agents", { id: "ok", systemPrompt: "x", modelId: "no-such-model" }, "no-such-model"],
      ["POST", "/agents/Bad!/revisions", { systemPrompt: "x" }, "agentId"],
      ["GET", "/agents/support/revisions/0", undefined, "revision"],
      ["GET", "/agents/support/revisions/abc", undefined, "revision"],
      ["PUT", "/agent-tags/Prod", { agentId: "support", revision: 1 }, "tag"],
      ["PUT", "/agent-tags/ok", { agentId: "support", revision: 0 }, "revision"],
      ["PUT", "/agent-tags/ok", { agentId: "support", revision: "1" }, "revision"],
      ["GET", "/agents?limit=0", undefined, "limit"],
      ["GET", "/agents?cursor=zzz", undefined, "cursor"],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await t.request(method, path, body);
      expect([answer.status, answer.body.code], `${method} ${path}`).toEqual([
        400,
        field === "no-such-model" ? "invalid_model" : "invalid_request",
      ]);
      const named = [answer.body.error, ...(answer.body.issues ?? []).map((issue: any) => issue.path)].join(" ");
      expect(named, `${method} ${path}`).toContain(field);
    }
  });

  it.skipIf(skip)("keeps workspace B away from A's agents and tags", async () => {
    await t.request("POST", "/agents", { id: "secret", systemPrompt: "acme only" });
    await t.request("PUT", "/agent-tags/acme-prod", { agentId: "secret", revision: 1 });
    expect((await asOther("GET", "/agents/secret")).status).toBe(404);
    expect((await asOther("GET", "/agents/secret/revisions/1")).status).toBe(404);
    expect((await asOther("POST", "/agents/secret/revisions", { systemPrompt: "x" })).status).toBe(404);
    expect((await asOther("PUT", "/agent-tags/acme-prod", { agentId: "secret", revision: 1 })).status).toBe(404);
    expect((await asOther("GET", "/agents")).body.agents.map((agent: any) => agent.id)).not.toContain("secret");
    expect((await asOther("GET", "/agent-tags")).body.tags).toEqual([]);
    expect((await asOther("DELETE", "/agents/secret")).status).toBe(404);
    expect((await t.request("GET", "/agents/secret")).status).toBe(200);
  });

  it.skipIf(skip)("deletes an agent and its tags; its id stays taken", async () => {
    await t.request("POST", "/agents", { id: "gone", systemPrompt: "v1" });
    await t.request("PUT", "/agent-tags/gone-prod", { agentId: "gone", revision: 1 });
    expect((await t.request("DELETE", "/agents/gone")).status).toBe(200);
    expect((await t.request("GET", "/agents/gone")).status).toBe(404);
    expect((await t.request("DELETE", "/agents/gone")).status).toBe(404);
    expect((await t.request("GET", "/agent-tags")).body.tags.map((tag: any) => tag.tag)).not.toContain("gone-prod");
    expect((await t.request("POST", "/agents", { id: "gone", systemPrompt: "again" })).status).toBe(409);
  });

  /** Starts a run, reads its stream to the end, and returns its snapshot and its events' types. */
  const runToEnd = async (body: Record<string, unknown>) => {
    const created = await t.request("POST", "/agent-runs", { prompt: "hello", ...body });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const { frames } = await readStream(t.url + created.body.streamUrl, t.key);
    const snapshot = await t.request("GET", `/agent-runs/${created.body.runId}`);
    return { snapshot: snapshot.body, frames };
  };

  it.skipIf(skip)("runs what a tag names now, while a run pinned to revision 1 keeps revision 1", async () => {
    await t.request("POST", "/agents", { id: "prod-agent", systemPrompt: "You are revision one.", modelId: "mock" });
    await t.request("POST", "/agents/prod-agent/revisions", { systemPrompt: "You are revision two.", modelId: "mock" });
    await t.request("PUT", "/agent-tags/production", { agentId: "prod-agent", revision: 1 });

    const before = await runToEnd({ tag: "production" });
    expect(before.snapshot).toMatchObject({ agentId: "prod-agent", agentRevision: 1, agentTag: "production", status: "completed" });
    expect(before.snapshot.agentSpec.systemPrompt).toBe("You are revision one.");
    expect(before.frames[0]).toMatchObject({
      event: "agent_resolved",
      data: { agentId: "prod-agent", agentRevision: 1, agentTag: "production" },
    });
    expect(before.frames[1]!.event).toBe("started");

    await t.request("PUT", "/agent-tags/production", { agentId: "prod-agent", revision: 2 });
    const after = await runToEnd({ tag: "production" });
    expect(after.snapshot).toMatchObject({ agentRevision: 2, agentTag: "production" });
    expect(after.snapshot.agentSpec.systemPrompt).toBe("You are revision two.");

    const pinned = await runToEnd({ agentId: "prod-agent", revision: 1 });
    expect(pinned.snapshot).toMatchObject({ agentRevision: 1, agentTag: null });
    expect(pinned.snapshot.agentSpec.systemPrompt).toBe("You are revision one.");
    const latest = await runToEnd({ agentId: "prod-agent" });
    expect(latest.snapshot).toMatchObject({ agentRevision: 2, agentTag: null });

    // Inline runs are as they were: no registry fields, no agent_resolved event.
    const inline = await runToEnd({ systemPrompt: "inline", modelId: "mock" });
    expect(inline.snapshot).toMatchObject({ agentId: null, agentRevision: null, agentTag: null });
    expect(inline.frames[0]!.event).toBe("started");
  });

  it.skipIf(skip)("keeps a session created from a tag on the revision it resolved", async () => {
    await t.request("POST", "/agents", { id: "chat-agent", systemPrompt: "Session one.", modelId: "mock" });
    await t.request("PUT", "/agent-tags/chat", { agentId: "chat-agent", revision: 1 });
    const session = await t.request("POST", "/agent-sessions", { tag: "chat" });
    expect(session.status).toBe(201);
    await t.request("POST", "/agents/chat-agent/revisions", { systemPrompt: "Session two.", modelId: "mock" });
    await t.request("PUT", "/agent-tags/chat", { agentId: "chat-agent", revision: 2 });
    const message = await t.request("POST", `/agent-sessions/${session.body.sessionId}/messages`, { prompt: "hi" });
    expect(message.status).toBe(202);
    const { frames } = await readStream(t.url + message.body.streamUrl, t.key);
    expect(frames[0]).toMatchObject({
      event: "agent_resolved",
      data: { agentId: "chat-agent", agentRevision: 1, agentTag: "chat", sessionId: session.body.sessionId },
    });
    const run = await t.request("GET", `/agent-runs/${message.body.runId}`);
    expect(run.body).toMatchObject({ agentRevision: 1, agentTag: "chat", sessionId: session.body.sessionId });
    expect(run.body.agentSpec.systemPrompt).toBe("Session one.");
  });

  it.skipIf(skip)("refuses a run naming its agent two ways or none, naming the fields", async () => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ tag: "production", agentId: "prod-agent" }, ["tag", "agentId"]],
      [{ tag: "production", systemPrompt: "x" }, ["tag", "systemPrompt"]],
      [{ agentId: "prod-agent", systemPrompt: "x" }, ["agentId", "systemPrompt"]],
      [{ modelId: "mock" }, ["systemPrompt"]],
      [{ tag: "production", revision: 1 }, ["revision"]],
      [{ systemPrompt: "x", revision: 1 }, ["revision"]],
      [{ tag: "Bad Tag" }, ["tag"]],
      [{ agentId: "prod-agent", revision: 0 }, ["revision"]],
      [{ agentId: "config-agent", revision: 1 }, ["revision"]],
    ];
    for (const [body, fields] of cases) {
      const answer = await t.request("POST", "/agent-runs", { prompt: "x", ...body });
      expect([answer.status, answer.body.code], JSON.stringify(body)).toEqual([400, "invalid_request"]);
      for (const field of fields) expect(answer.body.error, JSON.stringify(body)).toContain(field);
    }
    const missing = await t.request("POST", "/agent-runs", { prompt: "x", tag: "no-such-tag" });
    expect([missing.status, missing.body.code]).toEqual([404, "not_found"]);
    expect(missing.body.error).toContain("no-such-tag");
    expect((await t.request("POST", "/agent-runs", { prompt: "x", agentId: "prod-agent", revision: 99 })).status).toBe(404);
  });

  it.skipIf(skip)("lets workspace B run none of A's agents or tags", async () => {
    await t.request("POST", "/agents", { id: "acme-only", systemPrompt: "acme", modelId: "mock" });
    await t.request("PUT", "/agent-tags/acme-tag", { agentId: "acme-only", revision: 1 });
    expect((await asOther("POST", "/agent-runs", { prompt: "x", tag: "acme-tag" })).status).toBe(404);
    expect((await asOther("POST", "/agent-runs", { prompt: "x", agentId: "acme-only" })).status).toBe(404);
    expect((await asOther("POST", "/agent-sessions", { tag: "acme-tag" })).status).toBe(404);
  });

  it.skipIf(skip)("refuses later runs of a deleted agent; its finished runs stay readable", async () => {
    await t.request("POST", "/agents", { id: "retired", systemPrompt: "old", modelId: "mock" });
    await t.request("PUT", "/agent-tags/retired-tag", { agentId: "retired", revision: 1 });
    const finished = await runToEnd({ tag: "retired-tag" });
    await t.request("DELETE", "/agents/retired");
    expect((await t.request("POST", "/agent-runs", { prompt: "x", agentId: "retired" })).status).toBe(404);
    expect((await t.request("POST", "/agent-runs", { prompt: "x", tag: "retired-tag" })).status).toBe(404);
    const read = await t.request("GET", `/agent-runs/${finished.snapshot.runId}`);
    expect(read.body).toMatchObject({ status: "completed", agentId: "retired", agentRevision: 1, agentSpec: { systemPrompt: "old" } });
  });
});
