import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, defineTool, openStore, type Store } from "@agentd/server";
import { registryOf, scriptedModel } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { postgresEnv } from "../pg-env.js";
import { eventually, startTestServer, type TestServer } from "../helpers.js";

/*
 * Issue #11, GET /usage: a workspace's token, call and cost totals over a
 * window of run creation times, whole or by agent, model, UTC day or API
 * key; on SQLite and PostgreSQL. Runs answer on scripted models with known
 * prices (and one without a price), so every cost is tokens × price.
 */

const { databaseUrl, reachable: pgReachable, schema } = await postgresEnv("PostgreSQL cases of the usage test");

/** USD per million tokens. */
const PRICE = { inputPer1MUsd: 3, outputPer1MUsd: 15, cacheReadPer1MUsd: 0.3 };
const DAY_MS = 86_400_000;

/**
 * A prompt `use <input> <output>` answers with that usage; `tool <input>
 * <output>` first calls `lookup` with it, then answers with no tokens.
 */
function model(vendorModelId: string, pricing: typeof PRICE | null) {
  const scripted = scriptedModel(
    (request: ModelStepRequest) => {
      const prompt = request.messages.filter((message) => message.role === "user").at(-1)!.content as string;
      const [verb, input, output] = prompt.split(" ");
      const usage = { inputTokens: Number(input), outputTokens: Number(output) };
      if (verb === "tool") {
        return request.messages.some((message) => message.role === "tool")
          ? { text: "done", usage: { inputTokens: 0, outputTokens: 0 } }
          : { toolCalls: [{ name: "lookup" }], usage };
      }
      return { text: "ok", usage };
    },
    { vendorModelId },
  );
  Object.assign(scripted.info, { pricing });
  return scripted;
}

const priced = model("priced", PRICE);
const unpriced = model("unpriced", null);
/** tokens × price in nano-dollars (USD per million tokens × 1000 per token): exact integers. */
const nanos = (input: number, output: number) => input * PRICE.inputPer1MUsd * 1_000 + output * PRICE.outputPer1MUsd * 1_000;
/** The USD of one or more runs' nano-dollars, as the report divides their exact sum. */
const usd = (...runs: number[]) => runs.reduce((sum, value) => sum + value, 0) / 1e9;

const stores: Array<[string, () => Promise<Store>, boolean]> = [
  ["SQLite", () => openStore({ memory: true }), true],
  ["PostgreSQL", () => openStore({ databaseUrl, schema }), pgReachable],
];

const config = {
  agents: { support: { systemPrompt: "You help." }, triage: { systemPrompt: "You sort." } },
  tools: [defineTool({ name: "lookup", execute: async () => "found" })],
};

interface Created {
  runId: string;
  createdAt: string;
}

describe.each(stores)("GET /usage (%s)", (_name, open, enabled) => {
  let t: TestServer;
  const tag = randomBytes(3).toString("hex");
  /** Two keys of the workspace (the runs record which one started them), and a key of another workspace. */
  let first: { id: string; key: string };
  let second: { id: string; key: string };
  let other: { workspace: string; key: string };
  const runs: Created[] = [];

  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  async function ended(runId: string, key: string): Promise<Created> {
    return eventually(async () => {
      const { body } = await t.request("GET", `/agent-runs/${runId}`, undefined, as(key));
      return ["completed", "failed", "cancelled"].includes(body.status) ? { runId, createdAt: body.createdAt as string } : undefined;
    });
  }
  async function start(key: string, body: Record<string, unknown>): Promise<Created> {
    const response = await t.request("POST", "/agent-runs", body, as(key));
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const run = await ended(response.body.runId, key);
    // Distinct creation instants, so a window edge falls between two runs.
    await new Promise((resolve) => setTimeout(resolve, 3));
    return run;
  }
  const usage = async (query: string, key = first.key) => {
    const response = await t.request("GET", `/usage${query}`, undefined, as(key));
    return response as { status: number; body: any };
  };

  beforeAll(async () => {
    if (!enabled) return;
    t = await startTestServer({
      store: await open(),
      config,
      models: registryOf(priced, unpriced),
      workspace: `usage-${tag}`,
    });
    const store = t.server.store;
    first = await createApiKey(store, { workspace: t.workspace, name: "first" });
    second = await createApiKey(store, { workspace: t.workspace, name: "second" });
    other = await createApiKey(store, { workspace: `usage-other-${tag}` });

    // 0: support, priced, one call.
    runs.push(await start(first.key, { agentId: "support", modelId: priced.id, prompt: "use 2000 100" }));
    // 1: triage, priced, a tool call then an answer: two model calls, one tool call.
    runs.push(
      await start(first.key, { agentId: "triage", modelId: priced.id, prompt: "tool 1000 500", tools: [{ kind: "code", name: "lookup" }] }),
    );
    // 2: inline, a model without a price: its cost is unknown.
    runs.push(await start(second.key, { systemPrompt: "s", modelId: unpriced.id, prompt: "use 400 40" }));
    // 3: a session's message, sent with the second key (the session was created with the first).
    const session = await t.request("POST", "/agent-sessions", { systemPrompt: "s", modelId: priced.id }, as(first.key));
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    const message = await t.request("POST", `/agent-sessions/${session.body.sessionId}/messages`, { prompt: "use 100 10" }, as(second.key));
    expect(message.status, JSON.stringify(message.body)).toBe(202);
    runs.push(await ended(message.body.runId, second.key));
    // Another workspace's run, in the same window: never counted here.
    const foreign = await t.request(
      "POST",
      `${t.url}/api/v1/workspaces/${other.workspace}/agent-runs`,
      { systemPrompt: "s", modelId: priced.id, prompt: "use 9999 9999" },
      as(other.key),
    );
    expect(foreign.status).toBe(202);
    await eventually(async () => {
      const { body } = await t.request(
        "GET",
        `${t.url}/api/v1/workspaces/${other.workspace}/agent-runs/${foreign.body.runId}`,
        undefined,
        as(other.key),
      );
      return body.status === "completed" ? true : undefined;
    });
  });
  afterAll(() => t?.close());

  /** A window holding every run of the suite: from the first's creation to just after the last's. */
  const window = () => {
    const from = runs[0]!.createdAt;
    const to = new Date(Date.parse(runs.at(-1)!.createdAt) + 1).toISOString();
    return { from, to, query: `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}` };
  };
  const group = (key: string | null, fields: Record<string, unknown>) => ({
    key,
    runs: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    modelCalls: 0,
    toolCalls: 0,
    costUsd: 0,
    costUnknownRuns: 0,
    ...fields,
  });
  const TOTALS = {
    runs: 4,
    inputTokens: 3_500,
    outputTokens: 650,
    cachedInputTokens: 0,
    modelCalls: 5,
    toolCalls: 1,
    costUsd: usd(nanos(2_000, 100), nanos(1_000, 500), nanos(100, 10)),
    costUnknownRuns: 1,
  };

  it.skipIf(!enabled)(
    "totals of the window: tokens and calls of every run, the cost of the priced ones, the unpriced counted apart",
    async () => {
      const { from, to, query } = window();
      const { status, body } = await usage(`?${query}`);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toEqual({ from, to, groupBy: null, groups: [], totals: TOTALS });
      // tokens × price, summed exactly (in nano-dollars), not within float noise of it.
      expect(body.totals.costUsd).toBe(0.01845);
    },
  );

  it.skipIf(!enabled)("groupBy=agent: each named agent, then the runs without one (null)", async () => {
    const { body } = await usage(`?${window().query}&groupBy=agent`);
    expect(body.groupBy).toBe("agent");
    expect(body.groups).toEqual([
      group("support", { runs: 1, inputTokens: 2_000, outputTokens: 100, modelCalls: 1, costUsd: usd(nanos(2_000, 100)) }),
      group("triage", { runs: 1, inputTokens: 1_000, outputTokens: 500, modelCalls: 2, toolCalls: 1, costUsd: usd(nanos(1_000, 500)) }),
      group(null, { runs: 2, inputTokens: 500, outputTokens: 50, modelCalls: 2, costUsd: usd(nanos(100, 10)), costUnknownRuns: 1 }),
    ]);
    expect(body.totals).toEqual(TOTALS);
  });

  it.skipIf(!enabled)("groupBy=model: a model without a price has costUsd null, not 0", async () => {
    const { body } = await usage(`?${window().query}&groupBy=model`);
    expect(body.groups).toEqual([
      group(priced.id, {
        runs: 3,
        inputTokens: 3_100,
        outputTokens: 610,
        modelCalls: 4,
        toolCalls: 1,
        costUsd: usd(nanos(2_000, 100), nanos(1_000, 500), nanos(100, 10)),
      }),
      group(unpriced.id, { runs: 1, inputTokens: 400, outputTokens: 40, modelCalls: 1, costUsd: null, costUnknownRuns: 1 }),
    ]);
  });

  it.skipIf(!enabled)("groupBy=key: the key that started each run; a session's run is its message's key", async () => {
    const { body } = await usage(`?${window().query}&groupBy=key`);
    expect(body.groups).toEqual(
      [
        group(first.id, {
          runs: 2,
          inputTokens: 3_000,
          outputTokens: 600,
          modelCalls: 3,
          toolCalls: 1,
          costUsd: usd(nanos(2_000, 100), nanos(1_000, 500)),
        }),
        group(second.id, { runs: 2, inputTokens: 500, outputTokens: 50, modelCalls: 2, costUsd: usd(nanos(100, 10)), costUnknownRuns: 1 }),
      ].sort((a, b) => (a.key! < b.key! ? -1 : 1)),
    );
  });

  it.skipIf(!enabled)("groupBy=day: by the UTC day of creation", async () => {
    const { body } = await usage(`?${window().query}&groupBy=day`);
    const days = [...new Set(runs.map((run) => run.createdAt.slice(0, 10)))].sort();
    expect(body.groups.map((entry: { key: string }) => entry.key)).toEqual(days);
    expect(body.groups.reduce((sum: number, entry: { runs: number }) => sum + entry.runs, 0)).toBe(4);
    for (const entry of body.groups) expect(entry.key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it.skipIf(!enabled)("the window is [from, to): a run created at `from` is in, one created at `to` is out", async () => {
    const at = (index: number) => encodeURIComponent(runs[index]!.createdAt);
    // From the second run's instant to the last one's: runs 1 and 2.
    const { status, body } = await usage(`?from=${at(1)}&to=${at(3)}&groupBy=agent`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.totals).toMatchObject({
      runs: 2,
      inputTokens: 1_400,
      outputTokens: 540,
      costUsd: usd(nanos(1_000, 500)),
      costUnknownRuns: 1,
    });
    expect(body.groups.map((entry: { key: string | null }) => entry.key)).toEqual(["triage", null]);
    // Just the unpriced run: no run's cost is known, so costUsd is null.
    const only = await usage(`?from=${at(2)}&to=${at(3)}`);
    expect(only.body.totals).toMatchObject({ runs: 1, costUsd: null, costUnknownRuns: 1 });
    // A window before every run: zeros, cost 0 (nothing was spent), no group.
    const before = new Date(Date.parse(runs[0]!.createdAt) - DAY_MS).toISOString();
    const empty = await usage(`?from=${encodeURIComponent(before)}&to=${at(0)}&groupBy=model`);
    expect(empty.body).toMatchObject({ groups: [], totals: { runs: 0, inputTokens: 0, costUsd: 0, costUnknownRuns: 0 } });
  });

  it.skipIf(!enabled)("defaults to the last 30 days up to now; a date is midnight UTC", async () => {
    const before = Date.now();
    const { status, body } = await usage("");
    expect(status).toBe(200);
    expect(Date.parse(body.to)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * DAY_MS);
    expect(body.totals).toEqual(TOTALS);
    const dates = await usage("?from=2030-01-01&to=2030-02-01T00:00:00%2B02:00");
    expect(dates.body).toMatchObject({ from: "2030-01-01T00:00:00.000Z", to: "2030-01-31T22:00:00.000Z", totals: { runs: 0 } });
  });

  it.skipIf(!enabled)("another workspace's runs are never counted, and its key sees only its own", async () => {
    const { body } = await usage(`?${window().query}&groupBy=key`);
    expect(body.totals.runs).toBe(4);
    const theirs = await t.request("GET", `${t.url}/api/v1/workspaces/${other.workspace}/usage?groupBy=model`, undefined, as(other.key));
    expect(theirs.status).toBe(200);
    expect(theirs.body.totals).toMatchObject({
      runs: 1,
      inputTokens: 9_999,
      outputTokens: 9_999,
      costUsd: usd(nanos(9_999, 9_999)),
      costUnknownRuns: 0,
    });
    // A key of one workspace on another's usage: 404, as on every workspace route.
    expect((await t.request("GET", `/usage`, undefined, as(other.key))).status).toBe(404);
  });

  it.skipIf(!enabled)("bad input is a 400 naming the parameter", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["?from=2030-02-01&to=2030-01-01", "to", /must be after from/],
      ["?from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z", "to", /must be after from/],
      ["?groupBy=week", "groupBy", /agent|model|day|key/],
      ["?groupBy=agent&groupBy=model", "groupBy", /given more than once/],
      ["?from=yesterday", "from", /ISO 8601/],
      ["?to=2030-13-45", "to", /ISO 8601/],
      ["?from=2030-01-01T00:00:00", "from", /ISO 8601/],
      ["?from=2030-01-01&to=2030-04-04", "from", /at most 92 days/],
      ["?from=2020-01-01", "from", /at most 92 days/],
      ["?form=2030-01-01", "form", /unknown parameter/],
    ];
    for (const [query, path, message] of cases) {
      const { status, body } = await usage(query);
      expect(status, query).toBe(400);
      expect(body.code, query).toBe("invalid_request");
      expect(body.issues, query).toEqual([{ path, message: expect.stringMatching(message) }]);
    }
    // The widest window allowed: exactly 92 days (one millisecond more is too wide).
    expect((await usage("?from=2030-01-01&to=2030-04-03T00:00:00Z")).status).toBe(200);
    expect((await usage("?from=2030-01-01&to=2030-04-03T00:00:00.001Z")).status).toBe(400);
    expect((await t.request("GET", "/usage", undefined, { authorization: "Bearer agd_nope" })).status).toBe(401);
  });
});
