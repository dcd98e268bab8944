/**
 * `agentd traces ...` and `agentd runs delete` (issue #11): a real server
 * in-process for each command's output and exit code, and the waterfall's
 * exact text on a trace of known times.
 */
import type { GetTraceResponse } from "@agentd/protocol";
import { defineTool } from "@agentd/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatTrace, timeline } from "../src/commands/traces-format.js";
import { liveServer, type LiveServer } from "./live-server.js";

let server: LiveServer;
/** A run that called a server tool, one that failed on its budget, one paused on a local tool. */
let ran: string;
let failed: string;
let paused: string;

beforeAll(async () => {
  server = await liveServer({
    tools: [defineTool({ name: "get_time", execute: () => "12:00" })],
    agents: {
      clock: { systemPrompt: "Tell the time.", tools: [{ kind: "code", name: "get_time" }] },
      strict: { systemPrompt: "No tools.", tools: [{ kind: "code", name: "get_time" }], budgets: { maxToolTurns: 0 } },
      asker: { systemPrompt: "Ask.", tools: [{ kind: "local", name: "lookup_order" }] },
    },
  });
  const { client } = server;
  ran = (await client.agents.run({ agentId: "clock", prompt: "call get_time {}" })).runId;
  failed = (await client.runs.start({ agentId: "strict", prompt: "call get_time {}" })).runId;
  paused = (await client.runs.start({ agentId: "asker", prompt: "call lookup_order {}" })).runId;
  for await (const event of client.runs.stream(failed)) if (event.type === "result") break;
  // The wait span is committed with the paused status, which may follow the local_tool_call event.
  while ((await client.runs.get(paused)).status !== "paused") await new Promise((resolve) => setTimeout(resolve, 5));
});
afterAll(() => server.close());

const cli = (...argv: string[]) => server.cli(argv);
/** A table's rows as cells, cut where the header's columns start. */
function cells(text: string): string[][] {
  const [header, ...rows] = text.trimEnd().split("\n");
  const starts = [...header!.matchAll(/\S+/g)].map((match) => match.index);
  return [header!, ...rows].map((line) => starts.map((start, column) => line.slice(start, starts[column + 1]).trimEnd()));
}

describe("agentd traces show", () => {
  it("prints the run's spans as a tree: name, kind, start, duration, tokens, cost, status, timeline", async () => {
    const shown = await cli("traces", "show", ran);
    expect(shown.code).toBe(0);
    const [headline, blank, ...table] = shown.stdout.trimEnd().split("\n");
    const { traceId, spans } = await server.client.traces.get(ran);
    const tokensOf = (span: (typeof spans)[number] | undefined) =>
      `${String(span?.attributes.inputTokens)}/${String(span?.attributes.outputTokens)}`;
    const root = tokensOf(spans.find((span) => span.parentSpanId === null));
    const [firstStep, secondStep] = spans.filter((span) => span.name === "model").map(tokensOf);
    const [input, output] = root.split("/");
    expect(headline).toMatch(
      new RegExp(
        `^trace ${traceId} · run ${ran} · completed \\(success\\) · \\d+ms · ${input} in \\+ ${output} out tokens · \\$0\\.000000$`,
      ),
    );
    expect(blank).toBe("");
    const rows = cells(table.join("\n"));
    expect(rows[0]).toEqual(["SPAN", "KIND", "START", "DURATION", "TOKENS", "COST", "STATUS", "TIMELINE"]);
    expect(rows.slice(1).map(([name, kind, , , tokens, cost, status]) => [name, kind, tokens, cost, status])).toEqual([
      ["run clock", "agent", root, "$0.000000", "ok"],
      ["├─ model provider:mock:mock", "mock", firstStep, "$0.000000", "ok"],
      ["│  └─ tool get_time", "server", "-", "-", "ok"],
      ["└─ model provider:mock:mock", "mock", secondStep, "$0.000000", "ok"],
    ]);
    for (const row of rows.slice(1)) {
      expect(row[2]).toMatch(/^\+\d+ms$/);
      expect(row[3]).toMatch(/^\d+ms$/);
      expect(row[7]).toMatch(/^\|[ █]{24}\|$/);
    }
  });

  it("lists a failed run's errors in full, and shows a paused run's open spans", async () => {
    const failure = await cli("traces", "show", failed);
    expect(failure.stdout).toMatch(/ · failed \(error_max_tool_turns\) · /);
    expect(cells(failure.stdout.split("\n\n")[1]!)[1]!.slice(0, 2)).toEqual(["run strict", "agent"]);
    expect(failure.stdout).toMatch(
      /\nerrors:\n {2}run strict at \+0ms: the model asked for tools after 0 tool turns \(budgets\.maxToolTurns\)\n$/,
    );

    const live = await cli("traces", "show", paused);
    expect(live.stdout).toMatch(/ · not ended, \d+(ms|\.\d\ds) so far\n/);
    expect(cells(live.stdout.split("\n\n")[1]!).map((row) => [row[0], row[1], row[3]])).toEqual([
      ["SPAN", "KIND", "DURATION"],
      ["run asker", "agent", "open"],
      ["├─ model provider:mock:mock", "mock", "open"],
      ["└─ wait", "local_tool", "open"],
    ]);
  });

  it("prints the trace as JSON with --json; an unknown run exits 3", async () => {
    const json = await cli("traces", "show", ran, "--json");
    expect(JSON.parse(json.stdout)).toEqual(await server.client.traces.get(ran));
    expect(await cli("traces", "show", "run_nope")).toEqual({ code: 3, stdout: "", stderr: "agentd: run run_nope not found\n" });
    expect(await cli("traces", "show")).toMatchObject({ code: 2, stderr: expect.stringContaining("missing required argument 'runId'") });
  });
});

describe("agentd traces list", () => {
  it("lists traces newest first with status, agent, model, duration, tokens and cost", async () => {
    const listed = await cli("traces", "list");
    expect(listed.code).toBe(0);
    const tokens = async (runId: string) => {
      const { usage } = await server.client.runs.get(runId);
      return `${usage.inputTokens}/${usage.outputTokens}`;
    };
    const rows = cells(listed.stdout);
    expect(rows[0]).toEqual(["RUN", "STATUS", "AGENT", "MODEL", "STARTED", "DURATION", "TOKENS", "COST"]);
    expect(rows.slice(1).map(([run, status, agent, , , , tokens]) => [run, status, agent, tokens])).toEqual([
      [paused, "paused", "asker", await tokens(paused)],
      [failed, "failed", "strict", await tokens(failed)],
      [ran, "completed", "clock", await tokens(ran)],
    ]);
    expect(rows[2]![5]).toMatch(/^\d+ms$/);
    expect(rows[1]![5]).toBe("-");
  });

  it("takes the run listing's filters, `--status error` for failed runs", async () => {
    expect(
      cells((await cli("traces", "list", "--status", "error")).stdout)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual([failed]);
    expect(
      cells((await cli("traces", "list", "--status", "completed,paused", "--agent", "clock")).stdout)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual([ran]);
    expect(
      cells((await cli("traces", "list", "--created-after", "2000-01-01", "--created-before", "2999-01-01T00:00:00Z")).stdout),
    ).toHaveLength(4);
    expect((await cli("traces", "list", "--session", "ses_none")).stdout).toBe("no traces\n");
    const json = await cli("traces", "list", "--json", "--limit", "2");
    expect(
      json.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual((await server.client.traces.list({ limit: 2 })).traces);
    const table = await cli("traces", "list", "--limit", "2");
    expect(
      cells(table.stdout)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual([paused, failed]);
    expect(table.stderr).toBe("(showing the newest 2; use --limit to see more)\n");
  });

  it("rejects a bad flag with exit code 2, naming it, before any request", async () => {
    const cases: Array<[string[], string]> = [
      [
        ["--status", "broken"],
        'agentd: --status: unknown status "broken" (one of queued, running, paused, completed, failed, cancelled, error)\n',
      ],
      [
        ["--created-after", "yesterday"],
        'agentd: --created-after expects an ISO 8601 date or date-time with a zone (2026-01-31, 2026-01-31T12:00:00Z), got "yesterday"\n',
      ],
      [
        ["--created-before", "2026-01-31T12:00:00"],
        'agentd: --created-before expects an ISO 8601 date or date-time with a zone (2026-01-31, 2026-01-31T12:00:00Z), got "2026-01-31T12:00:00"\n',
      ],
      [["--limit", "0"], 'agentd: --limit expects a number from 1 to 10000, got "0"\n'],
      [["--metadata", "novalue"], 'agentd: --metadata expects key=value, got "novalue"\n'],
    ];
    for (const [argv, stderr] of cases)
      expect(await cli("traces", "list", ...argv), argv.join(" ")).toEqual({ code: 2, stdout: "", stderr });
  });
});

describe("agentd traces delete and runs delete", () => {
  it("deletes a trace and keeps the run; deletes an ended run; refuses a live one; exits 3 for an unknown run", async () => {
    expect(await cli("traces", "delete", failed)).toEqual({
      code: 0,
      stdout: `deleted the trace of run ${failed} (the run and its events stay)\n`,
      stderr: "",
    });
    // What is left is the root, the run's own row (docs/traces.md): no model or tool span.
    const left = JSON.parse((await cli("traces", "show", failed, "--json")).stdout) as { spans: Array<{ name: string }> };
    expect(left.spans.map((span) => span.name)).toEqual(["run"]);
    expect((await cli("runs", "get", failed)).code).toBe(0);
    expect(await cli("traces", "delete", "run_nope")).toEqual({ code: 3, stdout: "", stderr: "agentd: run run_nope not found\n" });

    expect(await cli("runs", "delete", paused)).toEqual({
      code: 1,
      stdout: "",
      stderr: `agentd: run ${paused} has not ended (it is paused); cancel it first\n`,
    });
    expect(await cli("runs", "delete", failed)).toEqual({
      code: 0,
      stdout: `deleted run ${failed} with its events and trace\n`,
      stderr: "",
    });
    expect(await cli("runs", "get", failed)).toMatchObject({ code: 3 });
    expect(await cli("runs", "delete", failed)).toEqual({ code: 3, stdout: "", stderr: `agentd: run ${failed} not found\n` });
  });

  it("has help for the group and each command", async () => {
    const help = await cli("traces", "--help");
    for (const command of ["show", "list", "delete"]) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(await cli("runs", "delete", "--help")).toMatchObject({ code: 0, stdout: expect.stringContaining("cancel it first") });
  });
});

describe("the waterfall's text", () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const span = (
    spanId: string,
    parentSpanId: string | null,
    name: GetTraceResponse["spans"][number]["name"],
    kind: string,
    from: number,
    to: number | null,
    more = {},
  ) => ({
    spanId,
    parentSpanId,
    name,
    kind,
    attempt: 1,
    startedAt: at(from),
    endedAt: to === null ? null : at(to),
    status: "ok" as const,
    error: null,
    attributes: {},
    ...more,
  });

  it("draws the tree, each span's share of the run, a resumed run's attempts and the errors", () => {
    const trace: GetTraceResponse = {
      runId: "run_1",
      traceId: "0".repeat(32),
      spans: [
        span("a", null, "run", "agent", 0, 2400, {
          status: "error",
          error: "the provider failed",
          attributes: { runStatus: "failed", subtype: "error_model", agentId: "support", inputTokens: 30, outputTokens: 12, costUsd: null },
        }),
        span("b", "a", "model", "openai", 0, 1200, {
          attributes: { modelId: "provider:openai:gpt-4o-mini", inputTokens: 30, outputTokens: 12, costUsd: 0.0000123 },
        }),
        span("c", "b", "tool", "server", 600, 1200, { attributes: { toolName: "search" } }),
        span("d", "a", "wait", "approval", 1200, 1800),
        span("e", "a", "model", "openai", 1800, 2400, {
          attempt: 2,
          status: "error",
          error: "429 rate limited",
          attributes: { modelId: "provider:openai:gpt-4o-mini", inputTokens: 0, outputTokens: 0, costUsd: null },
        }),
      ],
    };
    expect(formatTrace(trace)).toBe(
      [
        `trace ${"0".repeat(32)} · run run_1 · failed (error_model) · 2.40s · 30 in + 12 out tokens · cost unknown`,
        "",
        "SPAN                                              KIND      START   DURATION  TOKENS  COST       STATUS  TIMELINE",
        "run support (attempt 1)                           agent     +0ms    2.40s     30/12   unknown    error   |████████████████████████|",
        "├─ model provider:openai:gpt-4o-mini (attempt 1)  openai    +0ms    1.20s     30/12   $0.000012  ok      |████████████            |",
        "│  └─ tool search (attempt 1)                     server    +600ms  600ms     -       -          ok      |      ██████            |",
        "├─ wait (attempt 1)                               approval  +1.20s  600ms     -       -          ok      |            ██████      |",
        "└─ model provider:openai:gpt-4o-mini (attempt 2)  openai    +1.80s  600ms     0/0     unknown    error   |                  ██████|",
        "",
        "errors:",
        "  run support at +0ms: the provider failed",
        "  model provider:openai:gpt-4o-mini at +1.80s: 429 rate limited",
        "",
      ].join("\n"),
    );
  });

  it("gives every span at least one mark, in the run's width", () => {
    expect(timeline(0, 0, 1000, 10)).toBe("|█         |");
    expect(timeline(1000, 1000, 1000, 10)).toBe("|         █|");
    expect(timeline(0, 0, 0, 4)).toBe("|████|");
    expect(timeline(250, 500, 1000, 8)).toBe("|  ██    |");
  });
});
