import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers.js";

/** Idempotency-Key through the real HTTP stack of one server (the store keeps the keys). */

const agent = { systemPrompt: "You are a test agent.", modelId: "mock" };

describe("Idempotency-Key over HTTP", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  const runsTagged = async (tag: string) => (await t.request("GET", `/agent-runs?metadata=tag:${tag}`)).body.runs as Array<{ id: string }>;

  it("answers a retry with the first reply: the same run id, and one run only", async () => {
    const body = { ...agent, prompt: "once", metadata: { tag: "retry" } };
    const first = await t.request("POST", "/agent-runs", body, { "idempotency-key": "http-retry" });
    const again = await t.request("POST", "/agent-runs", body, { "idempotency-key": "http-retry" });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect((await runsTagged("retry")).map((run) => run.id)).toEqual([first.body.runId]);
  });

  it("coalesces concurrent duplicates arriving at one process into one run", async () => {
    const body = { ...agent, prompt: "burst", metadata: { tag: "burst" } };
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => t.request("POST", "/agent-runs", body, { "idempotency-key": "http-burst" })),
    );
    expect(new Set(replies.map((reply) => reply.body.runId)).size).toBe(1);
    expect(replies.every((reply) => reply.status === 202)).toBe(true);
    expect(await runsTagged("burst")).toHaveLength(1);
  });

  it("refuses the key reused with another body: 422 idempotency_key_reused, naming the header", async () => {
    const first = await t.request("POST", "/agent-runs", { ...agent, prompt: "one" }, { "idempotency-key": "http-reuse" });
    expect(first.status).toBe(202);
    const reused = await t.request("POST", "/agent-runs", { ...agent, prompt: "two" }, { "idempotency-key": "http-reuse" });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe("idempotency_key_reused");
    expect(reused.body.error).toContain("Idempotency-Key");
    expect(reused.body.issues).toEqual([{ path: "Idempotency-Key", message: expect.any(String) }]);
  });

  it("keeps the same key on another path apart", async () => {
    const run = await t.request("POST", "/agent-runs", { ...agent, prompt: "a run" }, { "idempotency-key": "http-paths" });
    const session = await t.request("POST", "/agent-sessions", { systemPrompt: "x", modelId: "mock" }, { "idempotency-key": "http-paths" });
    expect(run.status).toBe(202);
    expect(session.status).toBe(201);
  });

  it("does not remember a failed request: a retry runs, with the corrected body", async () => {
    const bad = await t.request("POST", "/agent-runs", { ...agent, prompt: 42 }, { "idempotency-key": "http-fail" });
    expect(bad.status).toBe(400);
    const good = await t.request("POST", "/agent-runs", { ...agent, prompt: "fixed" }, { "idempotency-key": "http-fail" });
    expect(good.status).toBe(202);
    const again = await t.request("POST", "/agent-runs", { ...agent, prompt: "fixed" }, { "idempotency-key": "http-fail" });
    expect(again.body).toEqual(good.body);
  });

  it("still reads the body for the route: a large body and a refused oversized one", async () => {
    const prompt = "x".repeat(200_000);
    const created = await t.request("POST", "/agent-runs", { ...agent, prompt }, { "idempotency-key": "http-large" });
    expect(created.status).toBe(202);
    const huge = await t.request(
      "POST",
      "/agent-runs",
      { ...agent, prompt: "y".repeat(5 * 1024 * 1024) },
      { "idempotency-key": "http-huge" },
    );
    expect(huge.status).toBe(413);
  });
});
