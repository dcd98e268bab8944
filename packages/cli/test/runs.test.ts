import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import { captureContext } from "./helpers.js";

const usage = { inputTokens: 12, outputTokens: 34, totalTokens: 46, costUsd: null };

function snapshot(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    runId: id,
    status: "completed",
    agentId: null,
    sessionId: null,
    modelId: "provider:mock:mock",
    agentSpec: { systemPrompt: "You help." },
    metadata: {},
    text: "Hello",
    subtype: "success",
    error: null,
    usage,
    pendingToolCalls: [],
    pendingApprovals: [],
    lastSeq: 4,
    streamUrl: `/api/v1/workspaces/default/agent-runs/${id}/stream`,
    createdAt: "2026-01-02T03:04:05.678Z",
    startedAt: "2026-01-02T03:04:05.700Z",
    endedAt: "2026-01-02T03:04:06.000Z",
    ...overrides,
  };
}

/** A fetch serving `runs` (newest first) in pages as agentd does, recording every URL it was asked for. */
function runsApi(runs: Array<ReturnType<typeof snapshot>>) {
  const urls: URL[] = [];
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(String(input));
    urls.push(url);
    const path = url.pathname.replace(/^\/api\/v1\/workspaces\/[^/]+/, "");
    if (path === "/agent-runs") {
      const limit = Number(url.searchParams.get("limit") ?? 20);
      const offset = Number(url.searchParams.get("cursor") ?? 0);
      return Response.json({
        runs: runs.slice(offset, offset + limit),
        nextCursor: offset + limit < runs.length ? String(offset + limit) : null,
      });
    }
    const found = runs.find((run) => path === `/agent-runs/${encodeURIComponent(run.id)}`);
    return found
      ? Response.json(found)
      : Response.json({ error: "run run_missing not found", code: "not_found", message: "run run_missing not found" }, { status: 404 });
  };
  return { fetch: fetch as typeof globalThis.fetch, urls };
}

const sample = [
  snapshot("run_3", {
    status: "paused",
    text: null,
    subtype: null,
    agentId: "support",
    pendingToolCalls: [{ toolUseId: "call_0", name: "get_time", args: {} }],
    endedAt: null,
  }),
  snapshot("run_2", {
    status: "failed",
    text: null,
    subtype: "error_model",
    error: "provider said:\n  rate limited",
    createdAt: "2026-01-02T03:04:04.000Z",
  }),
  snapshot("run_1", { text: `${"word ".repeat(20)}end`, createdAt: "2026-01-02T03:04:03.000Z" }),
];

describe("agentd runs list", () => {
  it("prints a table: id, status, agent, created, the first 60 characters of text or error", async () => {
    const api = runsApi(sample);
    const io = captureContext({ fetch: api.fetch });
    expect(await main(["runs", "list"], io.context)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "ID     STATUS     AGENT    CREATED               TEXT",
        "run_3  paused     support  2026-01-02T03:04:05Z  waiting for get_time",
        "run_2  failed     -        2026-01-02T03:04:04Z  provider said: rate limited",
        `run_1  completed  -        2026-01-02T03:04:03Z  ${"word ".repeat(12).slice(0, 59)}…`,
        "",
      ].join("\n"),
    );
    expect(io.stderr()).toBe("");
    expect(api.urls).toHaveLength(1);
    expect(api.urls[0]!.search).toBe("?limit=21");
  });

  it("sends every filter the way the server reads it", async () => {
    const api = runsApi(sample);
    const io = captureContext({ fetch: api.fetch });
    const argv = ["runs", "list", "--status", "paused,running", "--status", "failed", "--agent", "support", "--session", "ses_1"];
    const dates = ["--created-after", "2026-01-01", "--created-before", "2026-02-01T00:00:00+02:00"];
    expect(await main([...argv, ...dates, "--metadata", "env=prod", "--metadata", "team=a b=c", "--limit", "5"], io.context)).toBe(0);
    const query = api.urls[0]!.searchParams;
    expect(query.getAll("status")).toEqual(["paused", "running", "failed"]);
    expect(query.get("agentId")).toBe("support");
    expect(query.get("sessionId")).toBe("ses_1");
    expect(query.getAll("metadata")).toEqual(["env:prod", "team:a b=c"]);
    expect(query.get("createdAfter")).toBe("2026-01-01");
    expect(query.get("createdBefore")).toBe("2026-02-01T00:00:00+02:00");
    expect(query.get("limit")).toBe("6");
  });

  it("prints JSON lines with --json, one snapshot per line", async () => {
    const io = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "list", "--json"], io.context)).toBe(0);
    expect(
      io
        .stdout()
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual(sample);
  });

  it("follows pages up to --limit and says when more runs exist", async () => {
    const many = Array.from({ length: 250 }, (_, index) => snapshot(`run_${250 - index}`));
    const api = runsApi(many);
    const io = captureContext({ fetch: api.fetch });
    expect(await main(["runs", "list", "--limit", "150", "--json"], io.context)).toBe(0);
    expect(
      io
        .stdout()
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).id),
    ).toEqual(many.slice(0, 150).map((run) => run.id));
    expect(api.urls.map((url) => [url.searchParams.get("limit"), url.searchParams.get("cursor")])).toEqual([
      ["100", null],
      ["100", "100"],
    ]);

    const table = captureContext({ fetch: runsApi(many).fetch });
    expect(await main(["runs", "list", "--limit", "2"], table.context)).toBe(0);
    expect(table.stdout().split("\n")).toHaveLength(4);
    expect(table.stderr()).toBe("(showing the newest 2; use --limit to see more)\n");

    const exact = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "list", "--limit", "3"], exact.context)).toBe(0);
    expect(exact.stderr()).toBe("");
  });

  it("says so when no run matches", async () => {
    const io = captureContext({ fetch: runsApi([]).fetch });
    expect(await main(["runs", "list", "--status", "cancelled"], io.context)).toBe(0);
    expect(io.stdout()).toBe("no runs\n");
  });

  it("rejects a bad --status or --limit with exit code 2 before any request", async () => {
    for (const argv of [
      ["--status", "nope"],
      ["--status", "paused,"],
      ["--limit", "0"],
      ["--limit", "ten"],
      ["--metadata", "novalue"],
      ["--created-after", "2026-13-45"],
    ]) {
      const api = runsApi(sample);
      const io = captureContext({ fetch: api.fetch });
      expect(await main(["runs", "list", ...argv], io.context)).toBe(2);
      expect(io.stderr()).toMatch(/^agentd: --(status|limit|metadata|created-after)/);
      expect(api.urls).toHaveLength(0);
    }
  });
});

describe("agentd runs get", () => {
  it("prints the run's fields, then its answer", async () => {
    const io = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "get", "run_1"], io.context)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "id       run_1",
        "status   completed (success)",
        "agent    - (ephemeral)",
        "model    provider:mock:mock",
        "session  -",
        "created  2026-01-02T03:04:03Z",
        "started  2026-01-02T03:04:05Z",
        "ended    2026-01-02T03:04:06Z",
        "usage    12 in + 34 out = 46 tokens, cost unknown",
        "metadata -",
        "",
        `${"word ".repeat(20)}end`,
        "",
      ].join("\n"),
    );
  });

  it("shows what a paused run waits on, and an error in full", async () => {
    const io = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "get", "run_3"], io.context)).toBe(0);
    expect(io.stdout()).toContain("waiting  get_time (call_0) {}\n");
    const failed = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "get", "run_2"], failed.context)).toBe(0);
    expect(failed.stdout()).toContain("status   failed (error_model)\n");
    expect(failed.stdout()).toContain("\nerror: provider said:\n  rate limited\n");
  });

  it("prints the snapshot as JSON with --json; a missing run exits 3 (not found) saying so", async () => {
    const io = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "get", "run_2", "--json"], io.context)).toBe(0);
    expect(JSON.parse(io.stdout())).toEqual(sample[1]);
    const missing = captureContext({ fetch: runsApi(sample).fetch });
    expect(await main(["runs", "get", "run_missing"], missing.context)).toBe(3);
    expect(missing.stderr()).toContain("run run_missing not found");
  });
});
