import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "@agentd/server";
import { registryOf, scriptedModel } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { eventually, readStream, startTestServer, type TestServer } from "../helpers.js";
import { postgresEnv } from "../pg-env.js";
import { parseExposition } from "./prometheus-text.js";

// Issue #11: GET /metrics is valid exposition text, and its run counters
// agree with the runs made. A prompt containing "fail" makes the model
// refuse (HTTP 400, not retried), so that run fails with `error_model`.
const scripted = scriptedModel((request: ModelStepRequest) => {
  const prompt = JSON.stringify(request.messages.at(-1));
  if (request.tools.some((tool) => tool.name === "clock") && request.messages.at(-1)?.role === "user")
    return { toolCalls: [{ name: "clock" }] };
  return prompt.includes("fail")
    ? { error: { status: 400, message: "refused" } }
    : { text: "done here", usage: { inputTokens: 1200, outputTokens: 7 } };
});
// Priced, so the cost counter has something to add up.
const model = { ...scripted, info: { ...scripted.info, pricing: { inputPer1MUsd: 3, outputPer1MUsd: 15, cacheReadPer1MUsd: 0.3 } } };

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL case of the /metrics test");
const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

describe.each(stores)("GET /metrics (%s)", (_name, open, enabled) => {
  let t: TestServer;
  const runIds: string[] = [];

  beforeAll(async () => {
    if (!enabled) return;
    t = await startTestServer({
      store: await open(),
      config: { agents: { support: { systemPrompt: "Help." } } },
      models: registryOf(model),
    });
    const bodies = [
      { agentId: "support", prompt: "one" },
      { agentId: "support", prompt: "two" },
      { systemPrompt: "Inline.", prompt: "three" },
      { systemPrompt: "Inline.", prompt: "please fail" },
    ];
    for (const body of bodies) {
      const created = await t.request("POST", "/agent-runs", body);
      expect(created.status).toBe(202);
      await readStream(t.url + created.body.streamUrl, t.key);
      runIds.push(created.body.runId);
    }
  });
  afterAll(() => t?.close());

  it.skipIf(!enabled)("parses as Prometheus text, and its run counters match the runs made", async () => {
    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    parseExposition(await response.text());
    // The active-run count is the engine's, recounted at most every 50 ms.
    const metrics = await eventually(async () => {
      const scraped = parseExposition(await (await fetch(`${t.url}/metrics`)).text());
      return scraped.value("agentd_active_runs") === 0 ? scraped : undefined;
    });
    const runs = await Promise.all(runIds.map(async (runId) => (await t.request("GET", `/agent-runs/${runId}`)).body));
    expect(runs.map((run) => run.status)).toEqual(["completed", "completed", "completed", "failed"]);

    expect(metrics.types.get("agentd_runs_ended_total")).toBe("counter");
    expect(metrics.value("agentd_runs_ended_total", { agent: "support", status: "completed" })).toBe(2);
    expect(metrics.value("agentd_runs_ended_total", { agent: "", status: "completed" })).toBe(1);
    expect(metrics.value("agentd_runs_ended_total", { agent: "", status: "failed" })).toBe(1);
    expect(metrics.sum("agentd_runs_ended_total", { status: "completed" })).toBe(3);
    expect(metrics.sum("agentd_runs_ended_total", { status: "cancelled" })).toBe(0);
    expect(metrics.sum("agentd_runs_started_total")).toBe(4);
    expect(metrics.value("agentd_runs_started_total", { agent: "support" })).toBe(2);
    expect(metrics.sum("agentd_run_duration_seconds_count")).toBe(4);

    const usage = (field: "inputTokens" | "outputTokens") => runs.reduce((sum, run) => sum + run.usage[field], 0);
    expect(usage("inputTokens")).toBe(3600);
    expect(metrics.sum("agentd_tokens_total", { kind: "input" })).toBe(usage("inputTokens"));
    expect(metrics.sum("agentd_tokens_total", { kind: "output" })).toBe(usage("outputTokens"));
    expect(metrics.sum("agentd_tokens_total", { kind: "cached" })).toBe(0);
    const cost = runs.reduce((sum, run) => sum + (run.usage.costUsd ?? 0), 0);
    expect(cost).toBeGreaterThan(0);
    expect(metrics.sum("agentd_cost_usd_total")).toBeCloseTo(cost, 9);

    // Three calls answered (the refused one is an error, not timed).
    const models = { provider: "scripted", model: model.id };
    expect(metrics.value("agentd_model_call_duration_seconds_count", models)).toBe(3);
    expect(metrics.value("agentd_model_time_to_first_token_seconds_count", models)).toBe(3);
    expect(metrics.value("agentd_model_calls_total", { provider: "scripted", outcome: "error" })).toBe(1);
    expect(metrics.value("agentd_store_commit_seconds_count")).toBeGreaterThan(0);
    expect(metrics.value("agentd_lease_takeovers_total")).toBe(0);
    // Everything has ended: nothing active, streamed or queued.
    expect(metrics.value("agentd_active_runs")).toBe(0);
    expect(metrics.value("agentd_open_streams")).toBe(0);
    expect(metrics.value("agentd_queue_depth")).toBe(0);
  });

  it.skipIf(!enabled)("shows an open stream while it is open, and not after", async () => {
    const created = await t.request("POST", "/agent-runs", {
      systemPrompt: "Wait.",
      prompt: "x",
      tools: [{ kind: "local", name: "clock" }],
    });
    expect(created.status).toBe(202);
    const abort = new AbortController();
    const stream = await fetch(t.url + created.body.streamUrl, { headers: { authorization: `Bearer ${t.key}` }, signal: abort.signal });
    expect(stream.status).toBe(200);
    const gauge = async () => parseExposition(await (await fetch(`${t.url}/metrics`)).text()).value("agentd_open_streams");
    expect(await gauge()).toBe(1);
    abort.abort();
    await eventually(async () => ((await gauge()) === 0 ? true : undefined));
    await t.request("POST", `/agent-runs/${created.body.runId}/cancel`, {});
  });
});
