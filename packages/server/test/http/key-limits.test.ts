import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, openStore, type AgentdServer, type Store } from "@agentd/server";
import { registryOf, scriptedModel } from "@agentd/server/testing";
import { clusterEnv } from "./cluster-env.js";
import { postgresEnv } from "../pg-env.js";
import { eventually, startTestServer, tempDir, type TestServer } from "../helpers.js";

/*
 * Issue #12, a key's other limits: concurrentRuns (queued + running runs,
 * paused ones not counted), tokensPerDay (input + output tokens of the
 * key's runs of the UTC day, checked before a run starts) and openStreams
 * (event streams open at once). Past one: 429 rate_limited naming it, with
 * Retry-After and RateLimit headers; a key without limits, and another
 * key, are not affected; a cluster's workers enforce one key's limits
 * together; the day's budget survives a restart and deleting runs.
 */

const { ready, workerEnv } = await clusterEnv("cluster cases of the key limits test");
const pg = await postgresEnv("PostgreSQL cases of the key limits test");

/** By prompt: `hang` never answers (the run stays running), `ask` calls the local tool `ask` (it pauses), anything else answers using 100 tokens. */
const models = () => {
  const model = scriptedModel((request) => {
    const last = request.messages.at(-1);
    const prompt = last?.role === "user" ? last.content : "";
    if (prompt === "hang") return { hang: true };
    if (prompt === "ask" && last?.role === "user") return { toolCalls: [{ name: "ask" }] };
    return { text: "done", usage: { inputTokens: 40, outputTokens: 60 } };
  });
  return { catalog: () => registryOf(model).catalog(), resolve: () => model };
};
const agent = { systemPrompt: "You are a test agent." };
const hang = { ...agent, prompt: "hang" };
const ask = { ...agent, prompt: "ask", tools: [{ kind: "local", name: "ask" }] };
const answer = { ...agent, prompt: "answer" };

async function call(url: string, key: string, method: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

const status = async (base: string, key: string, runId: string): Promise<string> =>
  (await call(`${base}/agent-runs/${runId}`, key, "GET")).body.status;
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_100));

function expectRefused(refused: { status: number; body: any; headers: Headers }, limit: string): void {
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ code: "rate_limited", error: expect.any(String) });
  expect(refused.body.message).toContain(`limit: ${limit}`);
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl: pg.databaseUrl, schema: pg.schema }), pg.reachable],
];

for (const [name, makeStore, available] of stores) {
  describe.skipIf(!available)(`concurrentRuns and tokensPerDay (${name})`, () => {
    let t: TestServer | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it("concurrentRuns: queued + running runs of the key past its limit get 429; paused runs and other keys do not count; an ended run frees its slot", async () => {
      t = await startTestServer({ models: models(), store: await makeStore(), workspace: `conc-${name.toLowerCase()}` });
      const made = await t.request("POST", "/keys", { name: "two at once", limits: { concurrentRuns: 2 } });
      expect(made.status).toBe(201);
      expect(made.body.limits).toEqual({ concurrentRuns: 2 });
      const key: string = made.body.key;
      const base = t.api("");

      const first = await call(t.api("/agent-runs"), key, "POST", hang);
      expect(first.status).toBe(202);
      expect(first.headers.get("ratelimit-policy")).toBe('"runs";q=2;qu="concurrent-requests"');
      expect(first.headers.get("ratelimit")).toBe('"runs";r=1');
      // A paused run holds no execution slot.
      const paused = await call(t.api("/agent-runs"), key, "POST", ask);
      expect(paused.status).toBe(202);
      await eventually(async () => ((await status(base, key, paused.body.runId)) === "paused" ? true : undefined));
      const second = await call(t.api("/agent-runs"), key, "POST", hang);
      expect(second.status).toBe(202);

      const refused = await call(t.api("/agent-runs"), key, "POST", hang);
      expectRefused(refused, "concurrentRuns");
      expect(refused.headers.get("ratelimit")).toBe('"runs";r=0;t=1');
      // A session message is a run of the key too.
      const session = await call(t.api("/agent-sessions"), key, "POST", agent);
      expect(session.status).toBe(201);
      expectRefused(
        await call(t.api(`/agent-sessions/${session.body.sessionId ?? session.body.id}/messages`), key, "POST", { prompt: "hang" }),
        "concurrentRuns",
      );

      // The server's own key has no limits: neither counted nor slowed, and no RateLimit headers.
      const own = await t.request("POST", "/agent-runs", hang);
      expect(own.status).toBe(202);
      expect(own.headers.get("ratelimit-policy")).toBeNull();

      // Cancelling one frees its slot, at once.
      expect((await call(`${base}/agent-runs/${first.body.runId}/cancel`, key, "POST", {})).status).toBe(200);
      await eventually(async () => ((await status(base, key, first.body.runId)) === "cancelled" ? true : undefined));
      expect((await call(t.api("/agent-runs"), key, "POST", hang)).status).toBe(202);
      expectRefused(await call(t.api("/agent-runs"), key, "POST", hang), "concurrentRuns");
    });

    it("concurrentRuns: many creations at once admit exactly the limit", async () => {
      t = await startTestServer({ models: models(), store: await makeStore(), workspace: `burst-${name.toLowerCase()}` });
      const made = await t.request("POST", "/keys", { name: "three", limits: { concurrentRuns: 3 } });
      const answers = await Promise.all(Array.from({ length: 12 }, () => call(t!.api("/agent-runs"), made.body.key, "POST", hang)));
      expect(answers.filter((a) => a.status === 202)).toHaveLength(3);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(9);
    });

    it("tokensPerDay: a run that starts under the budget may end over it; then 429 until midnight UTC, after deleting runs and after a restart too", async () => {
      const dataDir = tempDir();
      const open = async () =>
        name === "SQLite"
          ? startTestServer({ models: models(), dataDir, workspace: "tokens-sqlite" })
          : startTestServer({ models: models(), store: await makeStore(), workspace: "tokens-postgresql" });
      t = await open();
      const made = await t.request("POST", "/keys", { name: "budget", limits: { tokensPerDay: 150 } });
      expect(made.body.limits).toEqual({ tokensPerDay: 150 });
      const key: string = made.body.key;
      const base = t.api("");
      const ran: string[] = [];
      const runOnce = async () => {
        const created = await call(t!.api("/agent-runs"), key, "POST", answer);
        expect(created.status).toBe(202);
        ran.push(created.body.runId);
        await eventually(async () => ((await status(base, key, created.body.runId)) === "completed" ? true : undefined));
        return created;
      };

      const first = await runOnce();
      expect(first.headers.get("ratelimit-policy")).toBe('"tokens";q=150;w=86400');
      expect(first.headers.get("ratelimit")).toMatch(/^"tokens";r=150;t=\d+$/);
      await settle();
      // 100 of 150 used: under the budget, so this one starts, and ends at 200.
      const second = await runOnce();
      expect(second.headers.get("ratelimit")).toMatch(/^"tokens";r=50;t=\d+$/);
      await settle();

      const refused = await call(t.api("/agent-runs"), key, "POST", answer);
      expectRefused(refused, "tokensPerDay");
      expect(refused.body.message).toContain("200");
      const now = new Date();
      const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
      const untilMidnight = (midnight - now.getTime()) / 1000;
      expect(Math.abs(Number(refused.headers.get("retry-after")) - untilMidnight)).toBeLessThan(5);
      expect(refused.headers.get("ratelimit")).toMatch(/^"tokens";r=0;t=\d+$/);

      // Another key of the workspace has its own day.
      expect((await t.request("POST", "/agent-runs", answer)).status).toBe(202);

      // Deleting the runs does not give their tokens back.
      for (const runId of ran) expect((await call(`${base}/agent-runs/${runId}`, key, "DELETE")).status).toBe(200);
      await settle();
      expectRefused(await call(t.api("/agent-runs"), key, "POST", answer), "tokensPerDay");

      // Nor does a restart: the budget is read from the store.
      await t.close();
      t = await open();
      expectRefused(await call(t.api("/agent-runs"), key, "POST", answer), "tokensPerDay");

      // Raising the budget lets the key run again (once its cached lookup lapses).
      const admin = await t.request("PATCH", `/keys/${made.body.id}`, { limits: { tokensPerDay: 1_000 } });
      expect(admin.status).toBe(200);
      await settle();
      expect((await call(t.api("/agent-runs"), key, "POST", answer)).status).toBe(202);
    });
  });
}

describe("openStreams and the config's defaults (embedded)", () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** Opens a stream and waits for its head; abort() closes it from the client's side. */
  async function openStreamOf(url: string, key: string): Promise<{ status: number; headers: Headers; body: any; abort: () => void }> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    const body = response.status === 200 ? undefined : await response.json();
    return { status: response.status, headers: response.headers, body, abort: () => controller.abort() };
  }

  it("openStreams: past the limit 429 before the stream starts; aborting a stream frees its slot, and so does one that ends", async () => {
    t = await startTestServer({ models: models() });
    const made = await t.request("POST", "/keys", { name: "two streams", limits: { openStreams: 2 } });
    const key: string = made.body.key;
    const run = (await t.request("POST", "/agent-runs", hang)).body.runId as string;
    const url = t.api(`/agent-runs/${run}/stream`);

    const a = await openStreamOf(url, key);
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(a.headers.get("ratelimit-policy")).toBe('"streams";q=2;qu="concurrent-requests"');
    expect(a.headers.get("ratelimit")).toBe('"streams";r=1');
    const b = await openStreamOf(url, key);
    expect(b.status).toBe(200);
    const refused = await openStreamOf(url, key);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "rate_limited" });
    expect(refused.body.message).toContain("limit: openStreams");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit")).toBe('"streams";r=0;t=1');

    // Another key (the server's, without limits) streams as it likes.
    const other = await openStreamOf(url, t.key);
    expect(other.status).toBe(200);
    expect(other.headers.get("ratelimit-policy")).toBeNull();

    a.abort();
    const c = await eventually(async () => {
      const opened = await openStreamOf(url, key);
      return opened.status === 200 ? opened : undefined;
    });
    b.abort();
    c.abort();
    other.abort();

    // Streams of an ended run end by themselves: each frees its slot.
    const ended = (await t.request("POST", "/agent-runs", answer)).body.runId as string;
    await eventually(async () => ((await status(t!.api(""), t!.key, ended)) === "completed" ? true : undefined));
    await eventually(async () => ((await openStreamOf(url, key)).status === 429 ? undefined : true)); // the aborted ones are gone
    for (let i = 0; i < 5; i++) {
      const response = await fetch(t.api(`/agent-runs/${ended}/stream`), { headers: { authorization: `Bearer ${key}` } });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("result");
    }
  });

  it("the config's defaults apply to a key without its own limits; a key's own limit wins", async () => {
    t = await startTestServer({
      models: models(),
      config: { limits: { keyConcurrentRuns: 1, keyOpenStreams: 1, keyTokensPerDay: 1_000_000 } },
    });
    const first = await t.request("POST", "/agent-runs", hang);
    expect(first.status).toBe(202);
    expect(first.headers.get("ratelimit-policy")).toBe('"tokens";q=1000000;w=86400, "runs";q=1;qu="concurrent-requests"');
    expectRefused(await t.request("POST", "/agent-runs", hang), "concurrentRuns");
    const stream = await openStreamOf(t.api(`/agent-runs/${first.body.runId}/stream`), t.key);
    expect(stream.status).toBe(200);
    expect((await openStreamOf(t.api(`/agent-runs/${first.body.runId}/stream`), t.key)).status).toBe(429);
    stream.abort();

    const made = await t.request("POST", "/keys", { name: "more", limits: { concurrentRuns: 3 } });
    for (let i = 0; i < 3; i++) expect((await call(t.api("/agent-runs"), made.body.key, "POST", hang)).status).toBe(202);
    expectRefused(await call(t.api("/agent-runs"), made.body.key, "POST", hang), "concurrentRuns");
  });

  it("refuses a bad limit, naming it; GET and PATCH show and replace a key's limits", async () => {
    t = await startTestServer({ models: models() });
    for (const limits of [{ concurrentRuns: 0 }, { tokensPerDay: 1.5 }, { openStreams: "2" }, { concurrentRuns: -1 }]) {
      const refused = await t.request("POST", "/keys", { name: "bad", limits });
      expect(refused.status, JSON.stringify(limits)).toBe(400);
      expect(JSON.stringify(refused.body)).toContain(`limits.${Object.keys(limits)[0]}`);
    }
    const made = await t.request("POST", "/keys", {
      name: "all",
      limits: { requestsPerMinute: 60, concurrentRuns: 2, tokensPerDay: 5000, openStreams: 3 },
    });
    expect(made.status).toBe(201);
    expect((await t.request("GET", `/keys/${made.body.id}`)).body.limits).toEqual({
      requestsPerMinute: 60,
      concurrentRuns: 2,
      tokensPerDay: 5000,
      openStreams: 3,
    });
    const patched = await t.request("PATCH", `/keys/${made.body.id}`, { limits: { openStreams: 1 } });
    expect(patched.status).toBe(200);
    expect(patched.body.limits).toEqual({ openStreams: 1 });
  });
});

describe.skipIf(!ready)("concurrentRuns and openStreams of one key on two workers (PostgreSQL + Redis)", () => {
  const servers: AgentdServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it("both workers count the same runs and the same streams", async () => {
    const urls: string[] = [];
    for (const workerId of ["keylimit-a", "keylimit-b"]) {
      const server = await createServer({ env: workerEnv(workerId), logger: createLogger("silent"), models: models() });
      servers.push(server);
      urls.push(`${(await server.listen(0)).url}/api/v1/workspaces/shared`);
    }
    const { key } = await createApiKey(servers[0]!.store, { workspace: "shared", limits: { concurrentRuns: 2, openStreams: 2 } });
    const [a, b] = urls as [string, string];

    const one = await call(`${a}/agent-runs`, key, "POST", hang);
    const two = await call(`${b}/agent-runs`, key, "POST", hang);
    expect([one.status, two.status]).toEqual([202, 202]);
    expectRefused(await call(`${a}/agent-runs`, key, "POST", hang), "concurrentRuns");
    expectRefused(await call(`${b}/agent-runs`, key, "POST", hang), "concurrentRuns");
    // Cancelled (through both workers, as cluster.test.ts does: the one executing it ends it): the slot is free on both.
    await eventually(async () => ((await status(b, key, one.body.runId)) === "running" ? true : undefined), 10_000);
    for (const base of [a, b]) expect((await call(`${base}/agent-runs/${one.body.runId}/cancel`, key, "POST", {})).status).toBe(200);
    await eventually(async () => ((await status(b, key, one.body.runId)) === "cancelled" ? true : undefined), 10_000);
    expect((await call(`${a}/agent-runs`, key, "POST", hang)).status).toBe(202);
    expectRefused(await call(`${b}/agent-runs`, key, "POST", hang), "concurrentRuns");

    const open = async (base: string) => {
      const controller = new AbortController();
      const response = await fetch(`${base}/agent-runs/${two.body.runId}/stream`, {
        headers: { authorization: `Bearer ${key}` },
        signal: controller.signal,
      });
      if (response.status !== 200) await response.text();
      return { status: response.status, abort: () => controller.abort() };
    };
    const s1 = await open(a);
    const s2 = await open(b);
    expect([s1.status, s2.status]).toEqual([200, 200]);
    expect((await open(a)).status).toBe(429);
    expect((await open(b)).status).toBe(429);
    // Closing the stream on worker a frees a slot for worker b.
    s1.abort();
    const s3 = await eventually(async () => {
      const opened = await open(b);
      return opened.status === 200 ? opened : undefined;
    });
    expect((await open(a)).status).toBe(429);
    s2.abort();
    s3.abort();
  }, 30_000);
});
