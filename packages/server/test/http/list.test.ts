import { createApiKey } from "@agentd/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "../helpers.js";

const agent = { systemPrompt: "You are a test agent.", modelId: "mock" };
const clockTool = { kind: "local", name: "get_time", description: "Current time", parameters: { type: "object", properties: {} } };
const config = { agents: { support: { systemPrompt: "You help.", modelId: "mock" } }, localToolTimeoutMs: 60_000 };

/** Creates a run; the pause keeps createdAt distinct, so "newest first" has one right answer. */
async function create(t: TestServer, path: string, body: unknown): Promise<string> {
  const response = await t.request("POST", path, body);
  expect(response.status).toBe(202);
  await new Promise((resolve) => setTimeout(resolve, 3));
  return response.body.runId;
}

const ids = (body: { runs: Array<{ id: string }> }) => body.runs.map((run) => run.id);

describe("GET /agent-runs: filters", () => {
  let t: TestServer;
  const run = {} as { plain: string; support: string; paused: string; inSession: string; sessionId: string };
  beforeAll(async () => {
    t = await startTestServer({ config });
    run.plain = await create(t, "/agent-runs", { ...agent, prompt: "hello", metadata: { customer: "acme", env: "prod" } });
    run.support = await create(t, "/agent-runs", { agentId: "support", prompt: "help", metadata: { customer: "acme", env: "dev" } });
    run.paused = await create(t, "/agent-runs", { ...agent, tools: [clockTool], prompt: "call get_time", metadata: { env: "prod" } });
    const session = await t.request("POST", "/agent-sessions", { ...agent });
    run.sessionId = session.body.sessionId;
    run.inSession = await create(t, `/agent-sessions/${run.sessionId}/messages`, { prompt: "hi" });
    await eventually(async () => {
      const listed = await t.request("GET", "/agent-runs?status=completed,paused");
      return listed.body.runs.length === 4 ? true : undefined;
    });
  });
  afterAll(() => t.close());

  it("lists every run newest first as the same snapshots GET /agent-runs/{id} returns", async () => {
    const response = await t.request("GET", "/agent-runs");
    expect(response.status).toBe(200);
    expect(ids(response.body)).toEqual([run.inSession, run.paused, run.support, run.plain]);
    expect(response.body.nextCursor).toBeNull();
    for (const listed of response.body.runs) expect(listed).toEqual((await t.request("GET", `/agent-runs/${listed.id}`)).body);
  });

  it("finds a paused run by ?status=paused, with the tool call it waits on", async () => {
    const response = await t.request("GET", "/agent-runs?status=paused");
    expect(ids(response.body)).toEqual([run.paused]);
    expect(response.body.runs[0]).toMatchObject({ status: "paused", pendingToolCalls: [{ name: "get_time" }] });
    const several = [run.inSession, run.paused, run.support, run.plain];
    expect(ids((await t.request("GET", "/agent-runs?status=completed,paused")).body)).toEqual(several);
    expect(ids((await t.request("GET", "/agent-runs?status=completed&status=paused")).body)).toEqual(several);
    expect(ids((await t.request("GET", "/agent-runs?status=failed,cancelled")).body)).toEqual([]);
  });

  it("filters by agent, session, and metadata (repeated pairs AND-combined)", async () => {
    const list = async (query: string) => ids((await t.request("GET", `/agent-runs?${query}`)).body);
    expect(await list("agentId=support")).toEqual([run.support]);
    expect(await list(`sessionId=${run.sessionId}`)).toEqual([run.inSession]);
    expect(await list("metadata=customer:acme")).toEqual([run.support, run.plain]);
    expect(await list("metadata=customer:acme&metadata=env:prod")).toEqual([run.plain]);
    expect(await list("metadata=env:prod")).toEqual([run.paused, run.plain]);
    expect(await list("metadata=env:prod&status=paused")).toEqual([run.paused]);
    expect(await list("metadata=customer:acme&agentId=support&metadata=env:prod")).toEqual([]);
  });

  it("filters by creation time, exclusive bounds, in any ISO 8601 zone", async () => {
    const snapshot = async (id: string) => (await t.request("GET", `/agent-runs/${id}`)).body;
    const support = await snapshot(run.support);
    const list = async (query: Record<string, string>) => ids((await t.request("GET", `/agent-runs?${new URLSearchParams(query)}`)).body);
    expect(await list({ createdAfter: support.createdAt })).toEqual([run.inSession, run.paused]);
    expect(await list({ createdBefore: support.createdAt })).toEqual([run.plain]);
    // The same instant written two hours east of UTC.
    const shifted = new Date(Date.parse(support.createdAt) + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
    expect(await list({ createdAfter: shifted })).toEqual([run.inSession, run.paused]);
    expect(await list({ createdAfter: "2000-01-01", createdBefore: (await snapshot(run.paused)).createdAt })).toEqual([run.support, run.plain]);
  });
});

describe("GET /agent-runs: paging and tenancy", () => {
  let t: TestServer;
  const created: string[] = [];
  beforeAll(async () => {
    t = await startTestServer({ config, workspace: "paging" });
    for (let index = 0; index < 25; index++) created.push(await create(t, "/agent-runs", { ...agent, prompt: `run ${index}`, metadata: { parity: index % 2 ? "odd" : "even" } }));
  });
  afterAll(() => t.close());

  async function follow(query: string): Promise<{ pages: string[][]; requests: number }> {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const response = await t.request("GET", `/agent-runs?${query}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(response.status).toBe(200);
      pages.push(ids(response.body));
      cursor = response.body.nextCursor;
    } while (cursor !== null);
    return { pages, requests: pages.length };
  }

  it("pages through 25 runs with limit=10: each exactly once, newest first, null cursor on the last page", async () => {
    const { pages } = await follow("limit=10");
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual([...created].reverse());
    expect((await t.request("GET", "/agent-runs")).body.runs).toHaveLength(20);
    // Exactly a page's worth left: the page before it already says there is no next one.
    expect((await follow("limit=5")).pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 5]);
  });

  it("keeps filters across pages when the client sends them with the cursor", async () => {
    const { pages } = await follow("metadata=parity:even&limit=4");
    expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 1]);
    expect(pages.flat()).toEqual(created.filter((_, index) => index % 2 === 0).reverse());
  });

  it("shows a workspace only its own runs", async () => {
    const { key } = await createApiKey(t.server.store, { workspace: "globex" });
    const other = await fetch(`${t.url}/api/v1/workspaces/globex/agent-runs`, { headers: { authorization: `Bearer ${key}` } });
    expect(await other.json()).toEqual({ runs: [], nextCursor: null });
    const foreign = await fetch(`${t.url}/api/v1/workspaces/globex/agent-runs`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(foreign.status).toBe(404);
  });

  const bad: Array<[string, string, string]> = [
    ["status=nope", "status", "status: invalid value 'nope'"],
    ["status=paused,nope", "status", "status: invalid value 'nope'"],
    ["limit=0", "limit", "limit: must be an integer from 1 to 100"],
    ["limit=101", "limit", "limit: must be an integer from 1 to 100"],
    ["limit=ten", "limit", "limit: must be an integer from 1 to 100"],
    ["limit=5&limit=6", "limit", "limit: given more than once"],
    ["cursor=not*base64", "cursor", "cursor: malformed"],
    [`cursor=${Buffer.from("garbage").toString("base64url")}`, "cursor", "cursor: malformed"],
    [`cursor=${Buffer.from("yesterday|run_1").toString("base64url")}`, "cursor", "cursor: malformed"],
    ["metadata=no-colon", "metadata", "metadata: expected key:value"],
    ["metadata=bad key:v", "metadata", "metadata: key 'bad key'"],
    ["metadata=a:1&metadata=a:2", "metadata", "metadata: key 'a' is given twice"],
    ["createdAfter=yesterday", "createdAfter", "createdAfter: expected an ISO 8601 date-time"],
    ["createdBefore=2026-01-01T10:00:00", "createdBefore", "createdBefore: expected an ISO 8601 date-time with a zone"],
    ["agentId=", "agentId", "agentId:"],
    ["stauts=paused", "stauts", "stauts: unknown parameter"],
  ];
  for (const [query, path, mentions] of bad) {
    it(`?${query} → 400 naming ${path}`, async () => {
      const response = await t.request("GET", `/agent-runs?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe("invalid_request");
      expect(response.body.error).toContain(mentions);
      expect(response.body.issues[0].path).toBe(path);
    });
  }
});
