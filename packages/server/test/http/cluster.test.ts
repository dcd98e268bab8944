import pg from "pg";
import { describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, openStore, type AgentdServer } from "@agentd/server";
import { clusterEnv } from "./cluster-env.js";
import { startFakeProvider } from "@agentd/server/testing";
import { eventually, readStream } from "../helpers.js";
import { parseExposition } from "../metrics/prometheus-text.js";

/**
 * Two workers in one process sharing PostgreSQL and Redis (issue #4): a run
 * created on one is executed by whichever claims it, streamed from either,
 * answered and cancelled through either; a worker that leaves hands its runs
 * over. Skipped, saying so, without PostgreSQL or Redis.
 */
const { databaseUrl, redisUrl, ready, schema, prefix } = await clusterEnv("cluster tests");

describe.skipIf(!ready)("two workers on PostgreSQL + Redis", () => {
  it("execute, stream, answer and cancel runs across workers; a leaving worker's run is resumed by the other", async () => {
    const fake = await startFakeProvider({ record: false });
    const config = {
      providers: [{ name: "fake", type: "openai-compatible" as const, baseUrl: fake.openaiBaseUrl, apiKey: "k", models: [{ id: "f" }] }],
    };
    const env = (workerId: string) => ({
      DATABASE_URL: databaseUrl,
      AGENTD_DB_SCHEMA: schema,
      REDIS_URL: redisUrl,
      AGENTD_REDIS_PREFIX: prefix,
      AGENTD_WORKER_ID: workerId,
      AGENTD_LEASE_MS: "600",
    });
    const start = async (workerId: string) => {
      const server = await createServer({ config, env: env(workerId), logger: createLogger("silent") });
      return { server, ...(await server.listen(0)) };
    };
    const a = await start("worker-a");
    const b = await start("worker-b");
    const servers: AgentdServer[] = [a.server, b.server];
    try {
      const { key } = await createApiKey(a.server.store, { workspace: "c" });
      const call = async (url: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${url}/api/v1/workspaces/c${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: response.status, body: await response.json() };
      };
      /** The worker holding a run's lease, from the store. */
      const ownerOf = async (runId: string): Promise<string> => {
        const db = new pg.Client({ connectionString: databaseUrl });
        await db.connect();
        const { rows } = await db.query(`SELECT owner_id FROM ${schema}.runs WHERE id = $1`, [runId]);
        await db.end();
        return rows[0].owner_id;
      };

      // 1. created on A, streamed from B
      fake.script({ text: "hello from the cluster", chunkDelayMs: 5 });
      const first = await call(a.url, "POST", "/agent-runs", { systemPrompt: "x", modelId: "f", prompt: "hi" });
      const streamed = await readStream(b.url + first.body.streamUrl, key);
      expect(streamed.frames.map((frame) => frame.data.seq)).toEqual(streamed.frames.map((_, index) => index + 1));
      expect(streamed.frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "success", text: "hello from the cluster" });

      // 2. a local tool answered through the other worker
      fake.script([{ toolCalls: [{ name: "lookup", args: { q: "x" } }] }, { text: "done" }]);
      const tooled = await call(b.url, "POST", "/agent-runs", {
        systemPrompt: "x",
        modelId: "f",
        prompt: "go",
        tools: [{ kind: "local", name: "lookup" }],
      });
      const pending = await eventually(async () => (await call(a.url, "GET", `/agent-runs/${tooled.body.runId}`)).body.pendingToolCalls[0]);
      for (const url of [a.url, b.url]) {
        const answer = await call(url, "POST", `/agent-runs/${tooled.body.runId}/tool-results`, {
          toolUseId: pending.toolUseId,
          result: "42",
        });
        // the duplicate is refused: unknown call (404) or, if the run finished meanwhile, run_terminal (409)
        if (url === a.url) expect(answer.status).toBe(200);
        else expect([404, 409]).toContain(answer.status);
      }
      const tooledLog = await readStream(a.url + tooled.body.streamUrl, key);
      expect(tooledLog.frames.at(-1)!.data).toMatchObject({ subtype: "success", text: "done" });

      // 3. cancel through either worker reaches the run wherever it executes
      fake.script({ hang: true });
      const hanging = await call(a.url, "POST", "/agent-runs", { systemPrompt: "x", modelId: "f", prompt: "hang" });
      await eventually(async () =>
        (await call(b.url, "GET", `/agent-runs/${hanging.body.runId}`)).body.status === "running" ? true : undefined,
      );
      // Through the worker that does not execute it: recorded in the store and signalled to the holder (it used to answer 200 and do nothing).
      const [holder, other] = (await ownerOf(hanging.body.runId)) === "worker-a" ? [a, b] : [b, a];
      expect((await call(other.url, "POST", `/agent-runs/${hanging.body.runId}/cancel`, { reason: "stop" })).status).toBe(200);
      const cancelled = await readStream(other.url + hanging.body.streamUrl, key);
      expect(cancelled.frames.at(-1)!.data).toMatchObject({ type: "cancelled", reason: "stop" });
      expect((await call(holder.url, "POST", `/agent-runs/${hanging.body.runId}/cancel`, { reason: "again" })).status).toBe(200);

      // A paused run, cancelled through either worker: taken over and ended.
      fake.script({ toolCalls: [{ name: "lookup", args: { q: "x" } }] });
      const parked = await call(a.url, "POST", "/agent-runs", {
        systemPrompt: "x",
        modelId: "f",
        prompt: "go",
        tools: [{ kind: "local", name: "lookup" }],
      });
      await eventually(async () =>
        (await call(a.url, "GET", `/agent-runs/${parked.body.runId}`)).body.status === "paused" ? true : undefined,
      );
      const pausedOther = (await ownerOf(parked.body.runId)) === "worker-a" ? b : a;
      expect((await call(pausedOther.url, "POST", `/agent-runs/${parked.body.runId}/cancel`, { reason: "no answer" })).status).toBe(200);
      const parkedLog = await readStream(a.url + parked.body.streamUrl, key);
      expect(parkedLog.frames.at(-1)!.data).toMatchObject({ type: "cancelled", reason: "no answer" });

      // 4. a worker that leaves mid-run: the other resumes the run
      fake.script({ hang: true });
      const moving = await call(b.url, "POST", "/agent-runs", { systemPrompt: "x", modelId: "f", prompt: "move" });
      await eventually(async () =>
        (await call(a.url, "GET", `/agent-runs/${moving.body.runId}`)).body.status === "running" ? true : undefined,
      );
      fake.script({ text: "finished elsewhere" });
      // the worker holding it leaves; the other one must finish it
      const [leaving, staying] = (await ownerOf(moving.body.runId)) === "worker-a" ? [a, b] : [b, a];
      await leaving.server.close();
      servers.splice(servers.indexOf(leaving.server), 1);
      const resumed = await readStream(staying.url + moving.body.streamUrl, key);
      expect(resumed.frames.map((frame) => frame.data.seq)).toEqual(resumed.frames.map((_, index) => index + 1));
      expect(resumed.frames.filter((frame) => ["result", "cancelled"].includes(frame.data.type))).toHaveLength(1);
      expect(resumed.frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "success", text: "finished elsewhere" });
      expect(resumed.frames.find((frame) => frame.data.type === "run_resumed")!.data).toMatchObject({ attempt: 2 });
      // Issue #11: the worker that took the run over counts it, and ends it.
      const metrics = parseExposition(await (await fetch(`${staying.url}/metrics`)).text());
      expect(metrics.value("agentd_lease_takeovers_total")).toBeGreaterThanOrEqual(1);
      expect(metrics.sum("agentd_runs_ended_total", { status: "completed" })).toBeGreaterThanOrEqual(1);
    } finally {
      for (const server of servers) await server.close();
      await fake.close();
    }
  }, 60_000);

  it("a paused run's deadline is applied by another worker once the one that paused it is gone; a cancel whose signal was lost still lands", async () => {
    const fake = await startFakeProvider({ record: false });
    const config = {
      providers: [{ name: "fake", type: "openai-compatible" as const, baseUrl: fake.openaiBaseUrl, apiKey: "k", models: [{ id: "f" }] }],
    };
    const start = async (workerId: string) => {
      const server = await createServer({
        config,
        env: {
          DATABASE_URL: databaseUrl,
          AGENTD_DB_SCHEMA: schema,
          REDIS_URL: redisUrl,
          AGENTD_REDIS_PREFIX: prefix,
          AGENTD_WORKER_ID: workerId,
          AGENTD_LEASE_MS: "400",
          AGENTD_LOCAL_TOOL_TIMEOUT_MS: "1500",
        },
        logger: createLogger("silent"),
      });
      return { server, ...(await server.listen(0)) };
    };
    const servers: AgentdServer[] = [];
    try {
      const a = await start("worker-p");
      servers.push(a.server);
      const { key } = await createApiKey(a.server.store, { workspace: "d" });
      const call = async (url: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${url}/api/v1/workspaces/d${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: response.status, body: await response.json() };
      };

      // 1. paused on A (alone), A leaves before the deadline: B, started after, applies it.
      fake.script({ toolCalls: [{ name: "lookup", args: { q: "x" } }] });
      const paused = await call(a.url, "POST", "/agent-runs", {
        systemPrompt: "x",
        modelId: "f",
        prompt: "go",
        tools: [{ kind: "local", name: "lookup" }],
      });
      await eventually(async () =>
        (await call(a.url, "GET", `/agent-runs/${paused.body.runId}`)).body.status === "paused" ? true : undefined,
      );
      await a.server.close();
      servers.splice(0, 1);
      const b = await start("worker-q");
      servers.push(b.server);
      const timedOut = await readStream(b.url + paused.body.streamUrl, key);
      expect(timedOut.frames.at(-1)!.data).toMatchObject({ type: "result", subtype: "error_local_tool_timeout" });

      // 2. a cancel recorded in the store whose Redis signal never went out: the holder's sweep finds it.
      fake.script({ hang: true });
      const hanging = await call(b.url, "POST", "/agent-runs", { systemPrompt: "x", modelId: "f", prompt: "hang" });
      await eventually(async () =>
        (await call(b.url, "GET", `/agent-runs/${hanging.body.runId}`)).body.status === "running" ? true : undefined,
      );
      expect(await b.server.store.requestCancel(hanging.body.runId, "asked while the bus was down")).toBe(true);
      const cancelled = await readStream(b.url + hanging.body.streamUrl, key);
      expect(cancelled.frames.at(-1)!.data).toMatchObject({ type: "cancelled", reason: "asked while the bus was down" });
    } finally {
      for (const server of servers) await server.close();
      await fake.close();
    }
  }, 60_000);
});
