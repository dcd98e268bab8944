import { afterEach, describe, expect, it, vi } from "vitest";
import { Agentd, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, ConflictError, InternalServerError, RateLimitError } from "../src/index.js";
import { backoffMs, MAX_RETRY_AFTER_MS, retryAfterMs } from "../src/internal/retry.js";
import { errorBody, fakeFetch, json } from "./helpers/fake-server.js";

afterEach(() => {
  vi.useRealTimers();
});

const ok = { runId: "run_1", streamUrl: "/s" };
const request = { systemPrompt: "be brief", prompt: "hi" };

describe("request pipeline", () => {
  it("sends JSON with bearer auth to the workspace URL, path parameters encoded", async () => {
    const fetch = fakeFetch(() => json({ ok: true }));
    const client = new Agentd({ apiKey: "agd_k", baseUrl: "http://h:1/", workspace: "my team", fetch, defaultHeaders: { "X-Trace": "t1" } });
    await client.runs.cancel("run/../1?x", { reason: "no" });
    const [sent] = fetch.requests;
    expect(sent?.url.href).toBe("http://h:1/api/v1/workspaces/my%20team/agent-runs/run%2F..%2F1%3Fx/cancel");
    expect(sent?.headers.get("authorization")).toBe("Bearer agd_k");
    expect(sent?.headers.get("content-type")).toBe("application/json");
    expect(sent?.headers.get("x-trace")).toBe("t1");
    expect(sent?.body).toEqual({ reason: "no" });
  });

  it("retries a 503 honouring Retry-After and reuses one idempotency key on every attempt", async () => {
    let calls = 0;
    const fetch = fakeFetch(() => (++calls < 3 ? errorBody("unavailable", "busy", 503, { "retry-after": "0" }) : json(ok, 202)));
    const client = new Agentd({ apiKey: "k", fetch });
    await expect(client.runs.start(request)).resolves.toEqual(ok);
    const keys = fetch.requests.map((r) => r.headers.get("idempotency-key"));
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    // A second logical call gets a new key.
    await client.runs.start(request);
    expect(fetch.requests[3]?.headers.get("idempotency-key")).not.toBe(keys[0]);
  });

  it("waits the Retry-After a 429 asks for before retrying", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const fetch = fakeFetch(() => (++calls === 1 ? errorBody("rate_limited", "slow down", 429, { "retry-after": "3" }) : json({ models: [], defaultModelId: null })));
    const pending = new Agentd({ apiKey: "k", fetch }).models.list();
    await vi.advanceTimersByTimeAsync(2_900);
    expect(fetch.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    await expect(pending).resolves.toEqual({ models: [], defaultModelId: null });
    expect(fetch.requests).toHaveLength(2);
  });

  it("backs off 0.5 s then 1 s (jittered) and gives up after maxRetries", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0);
    const fetch = fakeFetch(() => errorBody("internal", "oops", 500));
    const pending = new Agentd({ apiKey: "k", fetch }).runs.get("r").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    expect(fetch.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(fetch.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch.requests).toHaveLength(3);
    expect(InternalServerError.isInstance(await pending)).toBe(true);
  });

  it("never retries a 409: session_busy and run_terminal are final", async () => {
    const fetch = fakeFetch(() => errorBody("session_busy", "busy", 409, { "retry-after": "0" }));
    const error = await new Agentd({ apiKey: "k", fetch }).sessions.resume("s").send("hi").catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect(fetch.requests).toHaveLength(1);
  });

  it("retries a 409 idempotency_in_progress (another worker is serving the same key) with the same key", async () => {
    let calls = 0;
    const fetch = fakeFetch(() => (++calls < 2 ? errorBody("idempotency_in_progress", "in progress", 409, { "retry-after": "0" }) : json(ok, 202)));
    await expect(new Agentd({ apiKey: "k", fetch }).runs.start(request)).resolves.toEqual(ok);
    const keys = fetch.requests.map((r) => r.headers.get("idempotency-key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("retries connection errors and then reports them with their cause", async () => {
    const cause = new TypeError("fetch failed");
    const fetch = fakeFetch(() => Promise.reject(cause));
    const error = await new Agentd({ apiKey: "k", fetch, maxRetries: 1 }).models.list().catch((e: unknown) => e);
    expect(APIConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).cause).toBe(cause);
    expect(fetch.requests).toHaveLength(2);
  });

  it("times out a request that gets no answer", async () => {
    const fetch = fakeFetch(() => new Promise<Response>(() => undefined));
    const error = await new Agentd({ apiKey: "k", fetch, timeoutMs: 20, maxRetries: 0 }).models.list().catch((e: unknown) => e);
    expect(APIConnectionTimeoutError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/timed out after 20 ms/);
  });

  it("times out even with a fetch that ignores its signal, and sends no idempotency key on GET", async () => {
    const seen: Headers[] = [];
    const stubborn = ((_url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers));
      return new Promise<Response>(() => undefined);
    }) as unknown as typeof fetch;
    const error = await new Agentd({ apiKey: "k", fetch: stubborn, timeoutMs: 20, maxRetries: 0 }).runs.get("r").catch((e: unknown) => e);
    expect(APIConnectionTimeoutError.isInstance(error)).toBe(true);
    expect(seen[0]?.has("idempotency-key")).toBe(false);
  });

  it("aborts the wait between retries as soon as the signal fires", async () => {
    const fetch = fakeFetch(() => errorBody("rate_limited", "later", 429, { "retry-after": "30" }));
    const controller = new AbortController();
    const pending = new Agentd({ apiKey: "k", fetch }).models.list({ signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const started = Date.now();
    expect(APIUserAbortError.isInstance(await pending)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fetch.requests).toHaveLength(1);
  });

  it("reports a 429 that persists as RateLimitError", async () => {
    const fetch = fakeFetch(() => errorBody("rate_limited", "later", 429, { "retry-after-ms": "1" }));
    const error = await new Agentd({ apiKey: "k", fetch, maxRetries: 2 }).models.list().catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(fetch.requests).toHaveLength(3);
  });
});

describe("retry timing", () => {
  it("reads Retry-After as seconds, milliseconds or a date, capped", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2_000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "150" }))).toBe(150);
    expect(retryAfterMs(new Headers({ "retry-after": "86400" }))).toBe(MAX_RETRY_AFTER_MS);
    const date = retryAfterMs(new Headers({ "retry-after": new Date(Date.now() + 5_000).toUTCString() }));
    expect(date).toBeGreaterThan(3_000);
    expect(date).toBeLessThanOrEqual(5_000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  it("grows from 0.5 s to at most 8 s with up to 25 % jitter", () => {
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 1)).toBe(375);
    expect(backoffMs(3, () => 0)).toBe(4_000);
    expect(backoffMs(4, () => 0)).toBe(8_000);
    expect(backoffMs(20, () => 0.5)).toBe(7_000);
  });
});
