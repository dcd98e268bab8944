import { expect, it } from "vitest";
import { rejectsWith } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import type { AgentRecord } from "../../../src/store/types.js";

const T0 = "2026-01-01T00:00:00.000Z";

function agent(workspaceId: string, id: string, createdAt = T0): AgentRecord {
  return { workspaceId, id, name: `Agent ${id}`, description: null, latestRevision: 1, createdAt, updatedAt: createdAt, deletedAt: null };
}

const prompt = (text: string) => ({ systemPrompt: text });

/** The agents registry (issue #11): gapless revisions, atomic tags, soft deletes, one workspace never seeing another's. */
export function agentCases(ctx: ContractContext): void {
  it("creates an agent with revision 1 and refuses a taken id", async () => {
    const { store, ws } = ctx;
    await store.createAgent(agent(ws.id, "support"), prompt("v1"));
    expect(await store.getAgent(ws.id, "support")).toEqual(agent(ws.id, "support"));
    expect(await store.getAgentRevision(ws.id, "support", 1)).toEqual({
      workspaceId: ws.id,
      agentId: "support",
      revision: 1,
      definition: prompt("v1"),
      createdAt: T0,
    });
    await rejectsWith(store.createAgent(agent(ws.id, "support"), prompt("again")), "conflict");
    expect((await store.getAgentRevision(ws.id, "support", 1))?.definition).toEqual(prompt("v1"));
    await rejectsWith(store.createAgent(agent("ws_missing", "x"), prompt("x")), "not_found");
  });

  it("numbers 20 racing revisions 2..21 with no gap or duplicate", async () => {
    const { store, ws } = ctx;
    await store.createAgent(agent(ws.id, "racer"), prompt("v1"));
    const added = await Promise.all(
      Array.from({ length: 20 }, (_, index) => store.addAgentRevision(ws.id, "racer", prompt(`v${index + 2}`), T0)),
    );
    expect(added.map((revision) => revision.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 2));
    expect((await store.getAgent(ws.id, "racer"))?.latestRevision).toBe(21);
    const listed = await store.listAgentRevisions(ws.id, "racer", { limit: 100 });
    expect(listed.map((revision) => revision.revision)).toEqual(Array.from({ length: 21 }, (_, index) => 21 - index));
    const page = await store.listAgentRevisions(ws.id, "racer", { limit: 5, before: 10 });
    expect(page.map((revision) => revision.revision)).toEqual([9, 8, 7, 6, 5]);
    await rejectsWith(store.addAgentRevision(ws.id, "nobody", prompt("x"), T0), "not_found");
  });

  it("lists agents newest first with keyset pages", async () => {
    const { store, ws } = ctx;
    await store.createAgent(agent(ws.id, "a", "2026-01-01T00:00:01.000Z"), prompt("a"));
    await store.createAgent(agent(ws.id, "b", "2026-01-01T00:00:02.000Z"), prompt("b"));
    await store.createAgent(agent(ws.id, "c", "2026-01-01T00:00:02.000Z"), prompt("c"));
    const all = await store.listAgents(ws.id, { limit: 10 });
    expect(all.map((row) => row.id)).toEqual(["c", "b", "a"]);
    await store.addAgentRevision(ws.id, "a", prompt("a2"), T0);
    const withLatest = await store.listAgents(ws.id, { limit: 10 });
    expect(withLatest.map((row) => [row.id, row.latestRevision, row.definition])).toEqual([
      ["c", 1, prompt("c")],
      ["b", 1, prompt("b")],
      ["a", 2, prompt("a2")],
    ]);
    const second = await store.listAgents(ws.id, { limit: 10, after: { createdAt: all[0]!.createdAt, id: "c" } });
    expect(second.map((row) => row.id)).toEqual(["b", "a"]);
    expect(await store.listAgents(ws.id, { limit: 0 })).toEqual([]);
  });

  it("moves a tag atomically and resolves tags, latest and pinned revisions", async () => {
    const { store, ws } = ctx;
    await store.createAgent(agent(ws.id, "support"), prompt("v1"));
    await store.addAgentRevision(ws.id, "support", prompt("v2"), T0);
    const tag = { workspaceId: ws.id, tag: "production", agentId: "support", revision: 1, updatedAt: T0 };
    expect(await store.putAgentTag(tag)).toEqual(tag);
    expect(await store.resolveAgent(ws.id, { tag: "production" })).toEqual({
      agentId: "support",
      revision: 1,
      tag: "production",
      definition: prompt("v1"),
    });
    await store.putAgentTag({ ...tag, revision: 2 });
    expect((await store.resolveAgent(ws.id, { tag: "production" }))?.definition).toEqual(prompt("v2"));
    expect(await store.resolveAgent(ws.id, { agentId: "support" })).toEqual({
      agentId: "support",
      revision: 2,
      tag: null,
      definition: prompt("v2"),
    });
    expect((await store.resolveAgent(ws.id, { agentId: "support", revision: 1 }))?.definition).toEqual(prompt("v1"));
    expect(await store.resolveAgent(ws.id, { agentId: "support", revision: 3 })).toBeUndefined();
    expect(await store.resolveAgent(ws.id, { tag: "staging" })).toBeUndefined();

    await rejectsWith(store.putAgentTag({ ...tag, revision: 9 }), "not_found");
    await rejectsWith(store.putAgentTag({ ...tag, agentId: "nobody" }), "not_found");
    expect((await store.getAgentTag(ws.id, "production"))?.revision).toBe(2);
    await store.putAgentTag({ ...tag, tag: "canary" });
    expect((await store.listAgentTags(ws.id)).map((row) => row.tag)).toEqual(["canary", "production"]);
    expect((await store.listAgentTags(ws.id, "support")).length).toBe(2);
    expect(await store.deleteAgentTag(ws.id, "canary")).toBe(true);
    expect(await store.deleteAgentTag(ws.id, "canary")).toBe(false);
    expect(await store.getAgentTag(ws.id, "canary")).toBeUndefined();
  });

  it("deletes an agent with its tags; its id stays taken and it resolves no more", async () => {
    const { store, ws } = ctx;
    await store.createAgent(agent(ws.id, "old"), prompt("v1"));
    await store.putAgentTag({ workspaceId: ws.id, tag: "production", agentId: "old", revision: 1, updatedAt: T0 });
    expect(await store.deleteAgent(ws.id, "old", T0)).toBe(true);
    expect(await store.deleteAgent(ws.id, "old", T0)).toBe(false);
    expect(await store.getAgent(ws.id, "old")).toBeUndefined();
    expect(await store.listAgents(ws.id, { limit: 10 })).toEqual([]);
    expect(await store.listAgentTags(ws.id)).toEqual([]);
    expect(await store.resolveAgent(ws.id, { agentId: "old" })).toBeUndefined();
    expect(await store.resolveAgent(ws.id, { agentId: "old", revision: 1 })).toBeUndefined();
    await rejectsWith(store.addAgentRevision(ws.id, "old", prompt("v2"), T0), "not_found");
    await rejectsWith(
      store.putAgentTag({ workspaceId: ws.id, tag: "production", agentId: "old", revision: 1, updatedAt: T0 }),
      "not_found",
    );
    await rejectsWith(store.createAgent(agent(ws.id, "old"), prompt("again")), "conflict");
  });

  it("keeps each workspace's agents and tags to itself", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    await store.createAgent(agent(ws.id, "support"), prompt("acme"));
    await store.putAgentTag({ workspaceId: ws.id, tag: "production", agentId: "support", revision: 1, updatedAt: T0 });
    expect(await store.getAgent(other.id, "support")).toBeUndefined();
    expect(await store.listAgents(other.id, { limit: 10 })).toEqual([]);
    expect(await store.listAgentTags(other.id)).toEqual([]);
    expect(await store.resolveAgent(other.id, { tag: "production" })).toBeUndefined();
    expect(await store.resolveAgent(other.id, { agentId: "support" })).toBeUndefined();
    await rejectsWith(store.addAgentRevision(other.id, "support", prompt("x"), T0), "not_found");
    await rejectsWith(
      store.putAgentTag({ workspaceId: other.id, tag: "production", agentId: "support", revision: 1, updatedAt: T0 }),
      "not_found",
    );
    // The same id in another workspace is another agent.
    await store.createAgent(agent(other.id, "support"), prompt("globex"));
    expect((await store.resolveAgent(other.id, { agentId: "support" }))?.definition).toEqual(prompt("globex"));
    expect((await store.resolveAgent(ws.id, { agentId: "support" }))?.definition).toEqual(prompt("acme"));
  });
}
