import { describe, expect, it } from "vitest";
import { Agentd } from "../src/index.js";
import { fakeFetch, json } from "./helpers/fake-server.js";

/** The registry resource is thin: each method is one request of its route, path parameters encoded. */
describe("registry", () => {
  it("sends each registry call as its route, and pages listings by cursor", async () => {
    const fetch = fakeFetch((request) => {
      if (request.path === "/agents" && request.method === "GET") {
        const cursor = request.query.get("cursor");
        return json(cursor === null ? { agents: [{ id: "b" }], nextCursor: "c1" } : { agents: [{ id: "a" }], nextCursor: null });
      }
      return json({ ok: true, tags: [] });
    });
    const client = new Agentd({ apiKey: "k", fetch });
    await client.registry.create({ id: "support", systemPrompt: "v1" });
    await client.registry.get("support");
    await client.registry.addRevision("support", { systemPrompt: "v2" });
    await client.registry.getRevision("support", 2);
    await client.registry.putTag("production", { agentId: "support", revision: 2 });
    await client.registry.listTags();
    await client.registry.deleteTag("production");
    await client.registry.delete("support");
    const ids: string[] = [];
    for await (const agent of client.registry.list({ limit: 1 })) ids.push(agent.id);
    expect(ids).toEqual(["b", "a"]);
    expect(fetch.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      "POST /agents",
      "GET /agents/support",
      "POST /agents/support/revisions",
      "GET /agents/support/revisions/2",
      "PUT /agent-tags/production",
      "GET /agent-tags",
      "DELETE /agent-tags/production",
      "DELETE /agents/support",
      "GET /agents",
      "GET /agents",
    ]);
    expect(fetch.requests[4]!.body).toEqual({ agentId: "support", revision: 2 });
    expect(fetch.requests[0]!.headers.get("idempotency-key")).toBeTruthy();
  });
});
