import { startFakeProvider, type FakeProvider, type FakeReply } from "@agentd/server/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentdConfig, ProviderConfig } from "../../src/config/types.js";
import { readStream, startTestServer, type SseFrame, type TestServer } from "../helpers.js";

/*
 * Issue #9: a model call that fails before any output, for a reason worth
 * another try, is retried (model_retry) within budgets.maxModelRetries, then
 * the next fallback model is tried (model_fallback); a failure after output
 * ends the run saying what was received; every timeout says which one fired;
 * a provider that keeps failing opens its circuit. The fake provider is
 * scripted with the failures real providers produce.
 */

let primary: FakeProvider;
let backup: FakeProvider;
beforeAll(async () => {
  primary = await startFakeProvider({ tokens: 6 });
  backup = await startFakeProvider({ tokens: 3 });
});
afterAll(async () => {
  await primary.close();
  await backup.close();
});

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  primary.script();
  backup.script();
});

const FAST = { connectMs: 2_000, firstByteMs: 300, idleMs: 300, totalMs: 5_000 };

function providers(extra: Partial<ProviderConfig> = {}): ProviderConfig[] {
  return [
    { name: "main", type: "openai", apiKey: "k", baseUrl: primary.openaiBaseUrl, models: [{ id: "m1" }], timeouts: FAST, ...extra },
    { name: "claude", type: "anthropic", apiKey: "k", baseUrl: primary.anthropicBaseUrl, models: [{ id: "c1" }], timeouts: FAST, ...extra },
    { name: "spare", type: "openai-compatible", baseUrl: backup.openaiBaseUrl, models: [{ id: "s1" }], timeouts: FAST },
  ];
}

async function start(config: AgentdConfig = { providers: providers() }): Promise<TestServer> {
  t = await startTestServer({ config });
  return t;
}

/** Runs to the end; returns the events. */
async function run(server: TestServer, body: Record<string, unknown>): Promise<SseFrame["data"][]> {
  const created = await server.request("POST", "/agent-runs", { systemPrompt: "s", prompt: "go", modelId: "provider:main:m1", ...body });
  expect(created.status).toBe(202);
  const { frames } = await readStream(`${server.url}${created.body.streamUrl}`, server.key);
  return frames.map((frame) => frame.data);
}

/** A script answering `failures` in order, then the default reply. */
function failing(...failures: FakeReply[]): (request: unknown) => FakeReply | undefined {
  let call = 0;
  return () => failures[call++];
}

const of = (events: SseFrame["data"][], type: string) => events.filter((event) => event.type === type);

describe("model call retries", () => {
  it("a 429 with retry-after-ms is retried after that wait, and the run succeeds", async () => {
    const server = await start();
    primary.script(failing({ error: { status: 429, message: "Rate limit reached", headers: { "retry-after-ms": "40" } } }));
    const before = primary.requestCount;
    const events = await run(server, {});
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success", text: "tok0 tok1 tok2 tok3 tok4 tok5" });
    expect(of(events, "model_retry")).toEqual([
      expect.objectContaining({
        attempt: 1,
        modelId: "provider:main:m1",
        status: 429,
        waitMs: 40,
        error: expect.stringContaining("Rate limit reached"),
      }),
    ]);
    expect(primary.requestCount - before).toBe(2);
    // One model_retry, and the answer's assistant_message names the model that gave it.
    expect(of(events, "assistant_message")[0]).toMatchObject({ modelId: "provider:main:m1", stopReason: "stop" });
  });

  it("Retry-After in seconds; Anthropic's 529 overloaded and a 503 are retried too", async () => {
    const server = await start();
    primary.script(
      failing(
        { error: { status: 529, message: "Overloaded", headers: { "retry-after": "0" } } },
        { error: { status: 503, message: "busy", headers: { "retry-after": "0" } } },
      ),
    );
    const events = await run(server, { modelId: "provider:claude:c1" });
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    expect(of(events, "model_retry").map((event) => [event.status, event.waitMs])).toEqual([
      [529, 0],
      [503, 0],
    ]);
    expect(of(events, "model_retry")[0]!.error).toContain("overloaded_error: Overloaded");
  });

  it("a connection reset before the response is retried with a jittered backoff", async () => {
    const server = await start();
    primary.script(failing({ resetBeforeHead: true }));
    const events = await run(server, {});
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    const [retry] = of(events, "model_retry");
    expect(retry!.status).toBeUndefined();
    expect(retry!.error).toMatch(/request to .* failed/);
    // First backoff: 250-500 ms (half of 0.5 s fixed, half random).
    expect(retry!.waitMs).toBeGreaterThanOrEqual(250);
    expect(retry!.waitMs).toBeLessThanOrEqual(500);
  });

  it("a stall before the first byte hits timeouts.firstByteMs and is retried", async () => {
    const server = await start();
    primary.script(failing({ hang: true }));
    const events = await run(server, { budgets: { maxModelRetries: 1 } });
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    expect(of(events, "model_retry")[0]!.error).toContain("no response within 300 ms of the request (timeouts.firstByteMs)");
  });

  it("a stall after the head but before any text is retried (timeouts.idleMs)", async () => {
    const server = await start();
    primary.script(failing({ stallAfterFrames: 1 })); // the role chunk only
    const events = await run(server, {});
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    expect(of(events, "model_retry")[0]!.error).toContain("nothing received for 300 ms (timeouts.idleMs)");
  });

  it("a stall mid-stream, after text was streamed, is not retried: the run fails saying what it had received", async () => {
    const server = await start();
    primary.script({ text: "tok0 tok1 tok2 tok3 tok4 tok5", stallAfterFrames: 4 }); // role chunk + 3 words
    const before = primary.requestCount;
    const events = await run(server, {});
    expect(of(events, "model_retry")).toEqual([]);
    expect(primary.requestCount - before).toBe(1);
    const result = events.at(-1)!;
    expect(result).toMatchObject({ type: "result", subtype: "error_model" });
    expect(result.error).toContain("nothing received for 300 ms (timeouts.idleMs)");
    expect(result.error).toContain("after 15 characters of text had been streamed; not retried");
    expect(
      of(events, "assistant_delta")
        .map((event) => event.text)
        .join(""),
    ).toBe("tok0 tok1 tok2 ");
  });

  it("streamed reasoning counts as output: a stall after it is not retried", async () => {
    const server = await start();
    primary.script({ reasoning: "let me think about it", text: "done", stallAfterFrames: 3 }); // role chunk + 2 reasoning words
    const events = await run(server, {});
    expect(of(events, "model_retry")).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      subtype: "error_model",
      error: expect.stringContaining("characters of reasoning had been streamed"),
    });
  });

  it("a connection lost mid-stream after text is not retried either", async () => {
    const server = await start();
    primary.script({ text: "tok0 tok1 tok2 tok3 tok4 tok5", dropMidStream: true });
    const events = await run(server, {});
    expect(of(events, "model_retry")).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      subtype: "error_model",
      error: expect.stringMatching(/broke off.*after \d+ characters of text/),
    });
  });

  it("retries stop at budgets.maxModelRetries, counted across the run", async () => {
    const server = await start();
    primary.script({ error: { status: 503, message: "down", headers: { "retry-after-ms": "5" } } });
    const before = primary.requestCount;
    const events = await run(server, { budgets: { maxModelRetries: 2 } });
    expect(of(events, "model_retry").map((event) => event.attempt)).toEqual([1, 2]);
    expect(primary.requestCount - before).toBe(3);
    expect(events.at(-1)).toMatchObject({ subtype: "error_model", error: expect.stringContaining("HTTP 503") });
  });

  it("a 400 or 401 is not retried", async () => {
    const server = await start();
    for (const status of [400, 401]) {
      primary.script({ error: { status, message: "no" } });
      const before = primary.requestCount;
      const events = await run(server, {});
      expect(of(events, "model_retry")).toEqual([]);
      expect(primary.requestCount - before).toBe(1);
      expect(events.at(-1)).toMatchObject({ subtype: "error_model", error: expect.stringContaining(`HTTP ${status}`) });
    }
  });

  it("a wait longer than what is left of budgets.maxDurationMs is not made", async () => {
    const server = await start();
    primary.script({ error: { status: 429, message: "slow down", headers: { "retry-after": "30" } } });
    const events = await run(server, { budgets: { maxDurationMs: 5_000 } });
    expect(of(events, "model_retry")).toEqual([]);
    expect(events.at(-1)).toMatchObject({ subtype: "error_model" });
  });

  it("a cancel during the wait before a retry ends the run at once", async () => {
    const server = await start();
    primary.script({ error: { status: 429, message: "slow down", headers: { "retry-after": "20" } } });
    const created = await server.request("POST", "/agent-runs", { systemPrompt: "s", prompt: "go", modelId: "provider:main:m1" });
    const streamed = readStream(`${server.url}${created.body.streamUrl}`, server.key);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = Date.now();
    expect((await server.request("POST", `/agent-runs/${created.body.runId}/cancel`)).status).toBe(200);
    const events = (await streamed).frames.map((frame) => frame.data);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(of(events, "model_retry")).toHaveLength(1);
    expect(events.at(-1)!.type).toBe("cancelled");
  });
});

describe("fallback models", () => {
  it("after the retries of one model, the next is tried; the run records which model answered", async () => {
    const server = await start();
    primary.script({ error: { status: 503, message: "down", headers: { "retry-after-ms": "5" } } });
    const events = await run(server, { budgets: { maxModelRetries: 1 }, fallbackModelIds: ["provider:claude:c1", "provider:spare:s1"] });
    expect(of(events, "model_retry").map((event) => event.modelId)).toEqual(["provider:main:m1"]);
    expect(of(events, "model_fallback").map((event) => [event.fromModelId, event.toModelId])).toEqual([
      ["provider:main:m1", "provider:claude:c1"],
      ["provider:claude:c1", "provider:spare:s1"],
    ]);
    expect(of(events, "assistant_message")[0]).toMatchObject({ modelId: "provider:spare:s1" });
    expect(events.at(-1)).toMatchObject({ subtype: "success", text: "tok0 tok1 tok2" });
  });

  it("a named agent's fallbackModelIds apply to its runs", async () => {
    const server = await start({
      providers: providers(),
      agents: {
        helper: {
          systemPrompt: "s",
          modelId: "provider:main:m1",
          fallbackModelIds: ["provider:spare:s1"],
          budgets: { maxModelRetries: 0 },
        },
      },
    });
    primary.script({ error: { status: 502, message: "bad gateway" } });
    const events = await run(server, { systemPrompt: undefined, modelId: undefined, agentId: "helper" });
    expect(of(events, "model_fallback")).toEqual([
      expect.objectContaining({ fromModelId: "provider:main:m1", toModelId: "provider:spare:s1" }),
    ]);
    expect(events.at(-1)).toMatchObject({ subtype: "success" });
  });

  it("a non-retryable failure does not fall back", async () => {
    const server = await start();
    primary.script({ error: { status: 400, message: "bad request" } });
    const events = await run(server, { fallbackModelIds: ["provider:spare:s1"] });
    expect(of(events, "model_fallback")).toEqual([]);
    expect(events.at(-1)).toMatchObject({ subtype: "error_model" });
  });

  it("malformed fallbackModelIds and maxModelRetries are 400s naming the field; nothing is created", async () => {
    const server = await start();
    const bodies: Array<[Record<string, unknown>, string]> = [
      [{ fallbackModelIds: "provider:spare:s1" }, "fallbackModelIds"],
      [{ fallbackModelIds: [""] }, "fallbackModelIds.0"],
      [{ fallbackModelIds: Array.from({ length: 9 }, () => "mock") }, "fallbackModelIds"],
      [{ fallbackModelIds: ["x".repeat(301)] }, "fallbackModelIds.0"],
      [{ budgets: { maxModelRetries: -1 } }, "budgets.maxModelRetries"],
      [{ budgets: { maxModelRetries: 1.5 } }, "budgets.maxModelRetries"],
      [{ budgets: { maxModelRetries: 101 } }, "budgets.maxModelRetries"],
    ];
    const before = (await server.request("GET", "/agent-runs")).body.runs.length;
    for (const [extra, field] of bodies) {
      const created = await server.request("POST", "/agent-runs", { systemPrompt: "s", prompt: "go", ...extra });
      expect(created.status, JSON.stringify(extra)).toBe(400);
      expect(created.body.error).toContain(field);
    }
    expect((await server.request("GET", "/agent-runs")).body.runs.length).toBe(before);
  });

  it("an unknown fallback model is a 400 naming the field", async () => {
    const server = await start();
    const created = await server.request("POST", "/agent-runs", {
      systemPrompt: "s",
      prompt: "go",
      fallbackModelIds: ["provider:spare:s1", "nope"],
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toContain("fallbackModelIds.1");
  });
});

describe("provider limits checked at creation", () => {
  it("a temperature Anthropic refuses is a 400 naming the field, before any call", async () => {
    const server = await start();
    const before = primary.requestCount;
    const created = await server.request("POST", "/agent-runs", {
      systemPrompt: "s",
      prompt: "go",
      modelId: "provider:claude:c1",
      modelParams: { temperature: 1.5 },
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toContain("modelParams.temperature");
    expect(primary.requestCount).toBe(before);
    expect(
      (await server.request("POST", "/agent-runs", { systemPrompt: "s", prompt: "go", modelParams: { temperature: 1.5 } })).status,
    ).toBe(202);
  });
});

describe("circuit breaker", () => {
  it("opens after failureThreshold consecutive failures: calls fail fast, fallbacks go at once, /readyz and /metrics show it", async () => {
    const server = await start({ providers: providers({ circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } }) });
    primary.script({ error: { status: 500, message: "boom" } });
    for (let i = 0; i < 2; i++) await run(server, { budgets: { maxModelRetries: 0 } });
    const before = primary.requestCount;
    const failedFast = await run(server, { budgets: { maxModelRetries: 0 } });
    expect(primary.requestCount).toBe(before); // never sent
    expect(failedFast.at(-1)).toMatchObject({
      subtype: "error_model",
      error: expect.stringContaining("circuit open after 2 consecutive failed calls"),
    });
    const fellBack = await run(server, { fallbackModelIds: ["provider:spare:s1"] });
    expect(of(fellBack, "model_retry")).toEqual([]);
    expect(of(fellBack, "model_fallback")).toEqual([
      expect.objectContaining({ toModelId: "provider:spare:s1", error: expect.stringContaining("circuit open") }),
    ]);
    expect(fellBack.at(-1)).toMatchObject({ subtype: "success" });

    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready.status).toBe("ready");
    expect(ready.providers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ provider: "main", state: "open", consecutiveFailures: 2, rejected: 2, opened: 1 }),
      ]),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('agentd_provider_circuit_state{provider="main"} 2');
    expect(metrics).toContain("nodejs_eventloop_lag_seconds"); // Node's own, once per process
    expect(metrics).toContain('agentd_provider_circuit_state{provider="spare"} 0');
    expect(metrics).toContain('agentd_model_calls_total{provider="main",outcome="circuit_open"} 2');
    expect(metrics).toContain('agentd_model_fallbacks_total{from_provider="main",to_provider="spare"} 1');
  });

  it("/readyz is 503 when the store does not answer, without the driver's message (it answers anyone)", async () => {
    const server = await start();
    server.server.store.getWorkspaceBySlug = async () => {
      throw new Error("connect ECONNREFUSED db.internal:5432 user=agentd password=hunter2");
    };
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ status: "unavailable", store: { ok: false, error: "the store did not answer" } });
    expect(text).not.toMatch(/hunter2|db\.internal/);
  });

  it("a 429 or a 400 does not count against the provider", async () => {
    const server = await start({ providers: providers({ circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } }) });
    primary.script({ error: { status: 400, message: "bad" } });
    await run(server, {});
    primary.script({ error: { status: 429, message: "slow", headers: { "retry-after-ms": "1" } } });
    await run(server, { budgets: { maxModelRetries: 0 } });
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready.providers.find((circuit: { provider: string }) => circuit.provider === "main")).toMatchObject({ state: "closed" });
  });
});
