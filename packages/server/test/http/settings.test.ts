import { Agentd } from "@agentd/client";
import { createApiKey, createLogger, createServer, openStore, type AgentdConfig, type AgentdServer } from "@agentd/server";
import { afterEach, describe, expect, it } from "vitest";
import { makeRun } from "../store/contract/contract-fixtures.js";
import { postgresEnv } from "../pg-env.js";
import { clusterEnv } from "./cluster-env.js";
import { eventually, startTestServer, type TestServer } from "../helpers.js";
import type { Store } from "../../src/store/types.js";

/*
 * `GET` / `PUT /settings` (issue #11: retention) through the real HTTP stack,
 * on SQLite and PostgreSQL, and the sweep a server runs: runs aged by the
 * server's injected retention clock, then gone from every read.
 */

const DAY = 24 * 3600 * 1000;
const pg = await postgresEnv("settings on PostgreSQL");
const cluster = await clusterEnv("retention in a cluster");

/** Workspace slugs of their own per server: on PostgreSQL the file's servers share one schema. */
let serial = 0;
const backends = [
  { name: "sqlite", skip: false, store: () => openStore({ memory: true }) },
  { name: "postgres", skip: !pg.reachable, store: () => openStore({ databaseUrl: pg.databaseUrl, schema: `${pg.schema}`, poolSize: 4 }) },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`settings: ${backend.name}`, () => {
    const servers: TestServer[] = [];
    const start = async (config: AgentdConfig = {}, extra: { retentionClock?: () => number; workspace?: string } = {}) => {
      const store = await backend.store();
      const workspace = extra.workspace ?? `acme-${++serial}`;
      const t = await startTestServer({
        store,
        config,
        workspace,
        ...(extra.retentionClock ? { retentionClock: extra.retentionClock } : {}),
      });
      servers.push(t);
      return t;
    };
    afterEach(async () => {
      for (const t of servers.splice(0)) {
        await t.close();
        await t.server.store.close();
      }
    });

    it("answers the default, then round-trips what PUT sets; another workspace is untouched", async () => {
      const t = await start();
      expect(await t.request("GET", "/settings")).toMatchObject({
        status: 200,
        body: { retention: { days: null, source: "default" }, updatedAt: null },
      });

      const put = await t.request("PUT", "/settings", { retention: { days: 30 } });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ retention: { days: 30, source: "settings" }, updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expect((await t.request("GET", "/settings")).body).toEqual(put.body);

      // Another workspace on the same store: its own (none), and its key cannot reach this one's.
      const other = `globex-${++serial}`;
      const { key } = await createApiKey(t.server.store, { workspace: other });
      const theirs = await fetch(`${t.url}/api/v1/workspaces/${other}/settings`, { headers: { authorization: `Bearer ${key}` } });
      expect(await theirs.json()).toEqual({ retention: { days: null, source: "default" }, updatedAt: null });
      const across = await fetch(t.api("/settings"), {
        method: "PUT",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ retention: { days: 1 } }),
      });
      expect(across.status).toBe(404);
      expect((await t.request("GET", "/settings")).body.retention).toEqual({ days: 30, source: "settings" });

      // Keep forever: `days: null`, or `days` left out; both the workspace's own choice.
      expect((await t.request("PUT", "/settings", { retention: { days: null } })).body.retention).toEqual({
        days: null,
        source: "settings",
      });
      expect((await t.request("PUT", "/settings", { retention: { days: 7 } })).body.retention).toEqual({ days: 7, source: "settings" });
      expect((await t.request("PUT", "/settings", { retention: {} })).body.retention).toEqual({ days: null, source: "settings" });
      // `retention: null` drops the workspace's own setting.
      expect((await t.request("PUT", "/settings", { retention: null })).body).toEqual({
        retention: { days: null, source: "default" },
        updatedAt: null,
      });

      // The SDK speaks it too.
      const client = new Agentd({ apiKey: t.key, baseUrl: t.url, workspace: t.workspace, maxRetries: 0 });
      expect(await client.settings.put({ retention: { days: 90 } })).toMatchObject({ retention: { days: 90, source: "settings" } });
      expect(await client.settings.get()).toMatchObject({ retention: { days: 90, source: "settings" } });
    });

    it("refuses bad settings with a 400 naming the field, and keeps what was set", async () => {
      const t = await start();
      await t.request("PUT", "/settings", { retention: { days: 30 } });
      const cases: Array<[unknown, string]> = [
        [{ retention: { days: 0 } }, "retention.days"],
        [{ retention: { days: 3651 } }, "retention.days"],
        [{ retention: { days: 1.5 } }, "retention.days"],
        [{ retention: { days: "30" } }, "retention.days"],
        [{ retention: { days: 30, hours: 1 } }, "retention.hours"],
        [{ retention: 30 }, "retention"],
        [{}, "retention"],
        [{ retention: { days: 30 }, extra: true }, "extra"],
      ];
      for (const [body, path] of cases) {
        const response = await t.request("PUT", "/settings", body);
        expect({ body, status: response.status, code: response.body.code }).toEqual({ body, status: 400, code: "invalid_request" });
        expect(
          response.body.issues.map((issue: { path: string }) => issue.path),
          JSON.stringify(body),
        ).toContain(path);
      }
      expect((await t.request("PUT", "/settings", "not json")).status).toBe(400);
      expect((await t.request("GET", "/settings")).body.retention).toEqual({ days: 30, source: "settings" });
    });

    it("shows the config's retention with its source, until the workspace sets its own", async () => {
      const workspace = `acme-${++serial}`;
      const t = await start({ retention: { days: 90, workspaces: { [workspace]: { days: 7 } } } }, { workspace });
      expect((await t.request("GET", "/settings")).body.retention).toEqual({ days: 7, source: "config" });
      expect((await t.request("PUT", "/settings", { retention: { days: null } })).body.retention).toEqual({
        days: null,
        source: "settings",
      });
      expect((await t.request("PUT", "/settings", { retention: null })).body.retention).toEqual({ days: 7, source: "config" });
      const other = `globex-${++serial}`;
      const { key } = await createApiKey(t.server.store, { workspace: other });
      const theirs = await fetch(`${t.url}/api/v1/workspaces/${other}/settings`, { headers: { authorization: `Bearer ${key}` } });
      expect((await theirs.json()).retention).toEqual({ days: 90, source: "config" });
    });

    it("sweeps: an ended run past the retention is gone from every read, a live one stays, and the metric counts it", async () => {
      let now = Date.now();
      const t = await start({ retention: { sweepIntervalMs: 100 } }, { retentionClock: () => now });
      const agent = { systemPrompt: "s", modelId: "mock" };
      const done = await t.request("POST", "/agent-runs", { ...agent, prompt: "hello" });
      await eventually(async () =>
        (await t.request("GET", `/agent-runs/${done.body.runId}`)).body.status === "completed" ? true : undefined,
      );
      const paused = await t.request("POST", "/agent-runs", {
        ...agent,
        prompt: "call get_time {}",
        tools: [{ kind: "local", name: "get_time" }],
      });
      await eventually(async () =>
        (await t.request("GET", `/agent-runs/${paused.body.runId}`)).body.status === "paused" ? true : undefined,
      );
      // The stream of the ended run is served from this process's tail now.
      expect((await fetch(t.url + done.body.streamUrl, { headers: { authorization: `Bearer ${t.key}` } })).status).toBe(200);

      await t.request("PUT", "/settings", { retention: { days: 1 } });
      now += 2 * DAY;
      await eventually(async () => ((await t.request("GET", `/agent-runs/${done.body.runId}`)).status === 404 ? true : undefined));
      expect((await t.request("GET", `/traces/${done.body.runId}`)).status).toBe(404);
      expect((await fetch(t.url + done.body.streamUrl, { headers: { authorization: `Bearer ${t.key}` } })).status).toBe(404);
      expect((await t.request("GET", `/agent-runs/${paused.body.runId}`)).body.status).toBe("paused");
      // A round is counted when it ends, which can be just after its last batch made the run a 404.
      const metrics = await eventually(async () => {
        const text = await (await fetch(`${t.url}/metrics`)).text();
        return /^agentd_retention_sweeps_total\{outcome="swept"\} [1-9]/m.test(text) ? text : undefined;
      });
      expect(metrics).toMatch(/^agentd_retention_runs_deleted_total 1$/m);
      expect(metrics).toMatch(/^agentd_retention_sweeps_total\{outcome="swept"\} [1-9]/m);
    });
  });
}

describe.skipIf(!cluster.ready)("retention in a cluster", () => {
  const servers: AgentdServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      await server.close();
      await server.store.close();
    }
  });

  it("two workers on one database: the sweep runs on one at a time, and every expired run goes once", async () => {
    const env = { REDIS_URL: cluster.redisUrl, AGENTD_REDIS_PREFIX: cluster.prefix };
    const spans: Array<{ worker: number; from: number; to: number }> = [];
    const open = async (worker: number): Promise<Store> => {
      const store = await openStore({ databaseUrl: cluster.databaseUrl, schema: cluster.schema, poolSize: 4 });
      // Each batch is recorded, and slowed, so overlapping rounds could not go unseen.
      return new Proxy(store, {
        get(target, property) {
          if (property === "deleteExpiredRuns") {
            return async (...args: Parameters<Store["deleteExpiredRuns"]>) => {
              const from = performance.now();
              await new Promise((resolve) => setTimeout(resolve, 15));
              const result = await target.deleteExpiredRuns(...args);
              spans.push({ worker, from, to: performance.now() });
              return result;
            };
          }
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    };
    const seed = await openStore({ databaseUrl: cluster.databaseUrl, schema: cluster.schema, poolSize: 2 });
    const ws = await seed.ensureWorkspace("acme");
    const old = new Date(Date.now() - 10 * DAY).toISOString();
    for (let i = 0; i < 40; i++)
      await seed.insertRun(makeRun(ws.id, { status: "completed", createdAt: old, startedAt: old, endedAt: old }));
    await seed.close();
    const config: AgentdConfig = { retention: { days: 1, sweepIntervalMs: 100, batchRuns: 3 } };
    for (const worker of [0, 1]) {
      servers.push(
        await createServer({
          store: await open(worker),
          config,
          env: { ...env, AGENTD_WORKER_ID: `w${worker}` },
          logger: createLogger("silent"),
        }),
      );
    }
    await eventually(async () => ((await servers[0]!.store.listRuns(ws.id, {}, { limit: 10 })).length === 0 ? true : undefined), 15_000);
    // Let both sweep a few more rounds (finding nothing) before looking.
    await new Promise((resolve) => setTimeout(resolve, 400));
    // No batch of one worker overlapped a batch of the other: a round holds the lock from its first batch to its last.
    for (const a of spans)
      for (const b of spans) if (a.worker !== b.worker) expect(a.to <= b.from || b.to <= a.from, JSON.stringify([a, b])).toBe(true);
    expect(spans.length).toBeGreaterThanOrEqual(14);
    // Each run was counted by the worker that deleted it, once.
    let deleted = 0;
    for (const server of servers) {
      const { url } = await server.listen(0);
      const text = await (await fetch(`${url}/metrics`)).text();
      deleted += Number(/^agentd_retention_runs_deleted_total (\d+)$/m.exec(text)?.[1]);
      expect(text).toMatch(/^agentd_retention_sweeps_total\{outcome="swept"\} [1-9]/m);
    }
    expect(deleted).toBe(40);
  }, 30_000);
});
