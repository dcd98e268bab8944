import { describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer } from "@agentd/server";
import { startFakeProvider } from "@agentd/server/testing";
import { clusterEnv } from "./cluster-env.js";
import { readStream } from "../helpers.js";
import { parseExposition } from "../metrics/prometheus-text.js";

/**
 * Issue #11, DELETE /agent-runs/{runId} in a cluster: the worker that
 * executed a run keeps its log cached for the readers that come right
 * after, so a delete made through another worker must reach it, or its
 * cache would go on streaming a run that is gone. Skipped, saying so,
 * without PostgreSQL or Redis.
 */
const { ready, workerEnv } = await clusterEnv("cluster delete test");

describe.skipIf(!ready)("deleting a run on a cluster", () => {
  it("a run deleted through one worker streams as 404 from the worker that executed it (and cached its log)", async () => {
    const fake = await startFakeProvider({ record: false });
    const config = {
      providers: [{ name: "fake", type: "openai-compatible" as const, baseUrl: fake.openaiBaseUrl, apiKey: "k", models: [{ id: "f" }] }],
    };
    const start = async (workerId: string) => {
      const server = await createServer({ config, env: workerEnv(workerId), logger: createLogger("silent") });
      return { server, ...(await server.listen(0)) };
    };
    const workers = [await start("worker-a"), await start("worker-b")];
    try {
      const { key } = await createApiKey(workers[0]!.server.store, { workspace: "d" });
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
      const ended = async (url: string) =>
        parseExposition(await (await fetch(`${url}/metrics`)).text()).sum("agentd_runs_ended_total", { status: "completed" });

      fake.script({ text: "to be deleted" });
      const created = await fetch(`${workers[0]!.url}/api/v1/workspaces/d/agent-runs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ systemPrompt: "x", modelId: "f", prompt: "hi" }),
      });
      const { runId, streamUrl } = (await created.json()) as { runId: string; streamUrl: string };
      expect((await readStream(workers[1]!.url + streamUrl, key)).frames.at(-1)!.data).toMatchObject({ type: "result" });

      // The worker whose metrics counted the run's end executed it, and holds its log in its tail cache.
      const executor = (await ended(workers[0]!.url)) === 1 ? 0 : 1;
      expect(await ended(workers[executor]!.url)).toBe(1);
      const executorUrl = workers[executor]!.url;
      const otherUrl = workers[1 - executor]!.url;
      expect((await readStream(executorUrl + streamUrl, key)).frames).not.toHaveLength(0);

      const deleted = await fetch(`${otherUrl}/api/v1/workspaces/d/agent-runs/${runId}`, { method: "DELETE", headers });
      expect(deleted.status).toBe(200);
      // The signal travels through Redis: give it a moment, then neither worker streams the run.
      const deadline = Date.now() + 2_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await readStream(executorUrl + streamUrl, key)).status;
        if (status === 404) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe(404);
      expect((await readStream(otherUrl + streamUrl, key)).status).toBe(404);
    } finally {
      for (const worker of workers) await worker.server.close();
      await fake.close();
    }
  }, 30_000);
});
