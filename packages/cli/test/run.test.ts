import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import { captureContext, fakeApi, runEvents, sseOf } from "./helpers.js";

const created = () => Response.json({ runId: "run_1", streamUrl: "/s" }, { status: 202 });

function api(result?: { type: string; [key: string]: unknown }) {
  return fakeApi({
    "POST /agent-runs": created,
    "POST /agent-sessions/ses_1/messages": created,
    "GET /agent-runs/run_1/stream": () => sseOf(runEvents(result)),
    "POST /agent-runs/run_1/cancel": () => Response.json({ ok: true }),
  });
}

describe("agentd run", () => {
  it("runs a named agent and prints the final text", async () => {
    const fetch = api();
    const io = captureContext({ fetch });
    expect(await main(["run", "assistant", "-m", "Hi", "--metadata", "team=a", "trace=x=y"], io.context)).toBe(0);
    expect(io.stdout()).toBe("Hello there\n");
    expect(fetch.sent[0]).toMatchObject({ method: "POST", path: "/agent-runs", body: { agentId: "assistant", prompt: "Hi", metadata: { team: "a", trace: "x=y" } } });
    expect(fetch.sent[0]?.headers.get("authorization")).toBe("Bearer agd_test");
  });

  it("defines an ephemeral agent with --system and --model, no positional agent needed", async () => {
    const fetch = api();
    const io = captureContext({ fetch });
    expect(await main(["run", "--system", "Be terse.", "--model", "mock:default", "--message", "Hi"], io.context)).toBe(0);
    expect(fetch.sent[0]?.body).toEqual({ systemPrompt: "Be terse.", modelId: "mock:default", prompt: "Hi" });
  });

  it("streams deltas as they arrive and ends with a newline", async () => {
    const io = captureContext({ fetch: api() });
    expect(await main(["run", "assistant", "-m", "Hi", "--stream"], io.context)).toBe(0);
    expect(io.stdout()).toBe("Hello there\n");
  });

  it("prints the RunResult with --json, and one event per line with --stream --json", async () => {
    const io = captureContext({ fetch: api() });
    await main(["run", "assistant", "-m", "Hi", "--json"], io.context);
    expect(JSON.parse(io.stdout())).toMatchObject({ runId: "run_1", text: "Hello there", status: "completed", subtype: "success" });

    const lines = captureContext({ fetch: api() });
    await main(["run", "assistant", "-m", "Hi", "--stream", "--json"], lines.context);
    expect(lines.stdout().trim().split("\n").map((line) => JSON.parse(line).type)).toEqual(["started", "assistant_delta", "assistant_delta", "result"]);
  });

  it("sends to a session with --session", async () => {
    const fetch = api();
    const io = captureContext({ fetch });
    expect(await main(["run", "-m", "again", "--session", "ses_1"], io.context)).toBe(0);
    expect(fetch.sent[0]).toMatchObject({ path: "/agent-sessions/ses_1/messages", body: { prompt: "again" } });
    expect(io.stdout()).toBe("Hello there\n");
  });

  it("exits 1 with the run's error when it fails, streaming or not", async () => {
    const failed = { type: "result", subtype: "error_model", error: "provider down", usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null }, durationMs: 1 };
    for (const extra of [[], ["--stream"]]) {
      const io = captureContext({ fetch: api(failed) });
      expect(await main(["run", "assistant", "-m", "Hi", ...extra], io.context)).toBe(1);
      expect(io.stderr()).toBe("agentd: run run_1 failed (error_model): provider down\n");
    }
  });

  it("explains how to get an API key when none is set", async () => {
    const io = captureContext({ env: { AGENTD_WORKSPACE: "acme" }, fetch: api() });
    expect(await main(["run", "assistant", "-m", "Hi"], io.context)).toBe(1);
    expect(io.stderr()).toMatch(/^agentd: no API key: set AGENTD_API_KEY/);
    expect(io.stderr()).toContain("agentd keys create --workspace acme");
  });

  it("rejects bad usage with exit code 2", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["run", "-m", "Hi"], /^agentd: name an agent/],
      [["run", "assistant"], /required option '-m, --message <text>' not specified/],
      [["run", "assistant", "-m", "Hi", "--bogus"], /unknown option '--bogus'/],
      [["run", "assistant", "-m", "Hi", "--metadata", "novalue"], /^agentd: --metadata expects key=value, got "novalue"/],
      [["run", "-m", "Hi", "--session", "ses_1", "--system", "x"], /cannot be used with --session/],
      [["frobnicate"], /unknown command 'frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const fetch = api();
      const io = captureContext({ fetch });
      expect(await main(argv, io.context), argv.join(" ")).toBe(2);
      expect(io.stderr()).toMatch(message);
      expect(fetch.sent).toEqual([]);
    }
  });

  it("says where it tried to connect when the server is unreachable", async () => {
    const io = captureContext({
      env: { AGENTD_API_KEY: "k", AGENTD_URL: "http://127.0.0.1:1" },
      fetch: (() => Promise.reject(new TypeError("fetch failed"))) as typeof fetch,
    });
    expect(await main(["models"], io.context)).toBe(1);
    expect(io.stderr()).toMatch(/^agentd: cannot reach agentd at http:\/\/127\.0\.0\.1:1: /);
  });

  it("exits 130 and cancels the run when interrupted", async () => {
    const never = fakeApi({
      "POST /agent-runs": created,
      "GET /agent-runs/run_1/stream": () => new Response(new ReadableStream({ start: () => undefined }), { headers: { "content-type": "text/event-stream" } }),
      "POST /agent-runs/run_1/cancel": () => Response.json({ ok: true }),
    });
    const io = captureContext({ fetch: never });
    const pending = main(["run", "assistant", "-m", "Hi"], io.context);
    await new Promise((resolve) => setTimeout(resolve, 30));
    io.abort();
    expect(await pending).toBe(130);
    expect(io.stderr()).toBe("agentd: interrupted\n");
    expect(never.sent.map((s) => `${s.method} ${s.path}`)).toContain("POST /agent-runs/run_1/cancel");
  });
});
