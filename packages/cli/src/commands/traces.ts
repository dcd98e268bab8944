import type { ListTracesParams } from "@agentd/client";
import { TRACE_STATUSES } from "@agentd/protocol";
import type { Command } from "commander";
import { clientFrom, type CliContext } from "../context.js";
import { parseLimit } from "./args.js";
import { addListFilters, firstItems, listFilters, type ListFilterFlags } from "./list-filters.js";
import { formatTrace, formatTraceTable } from "./traces-format.js";

const STATUSES: readonly string[] = TRACE_STATUSES;
const DEFAULT_LIMIT = 20;

/** `agentd traces ...` (issue #11, docs/traces.md): what runs did, span by span. */
export function registerTraces(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  const traces = program.command("traces").description("what runs did: their spans, durations, tokens and cost");
  traces
    .command("show")
    .description(
      "show a run's trace as a tree of spans (run > model > tool, wait) with kind, start, duration, tokens, cost, status and a timeline; exit code 3 if there is no such run",
    )
    .argument("<runId>", "the run's id")
    .option("--json", "print the trace as JSON (GET /traces/{runId})")
    .action(async (runId: string, flags: { json?: boolean }) => done(await tracesShowCommand(runId, flags, context)));
  addListFilters(
    traces
      .command("list")
      .description(
        "list traces, newest run first: each run's status, agent, model, duration, tokens and cost (--status error: failed runs)",
      ),
    "traces",
    STATUSES,
    DEFAULT_LIMIT,
  )
    .option("--json", "print one JSON trace summary per line")
    .action(async (flags: ListFilterFlags) => done(await tracesListCommand(flags, context)));
  traces
    .command("delete")
    .description(
      "delete a run's trace; the run and its events stay (agentd runs delete removes all three); exit code 3 if there is no such run",
    )
    .argument("<runId>", "the run's id")
    .action(async (runId: string) => done(await tracesDeleteCommand(runId, context)));
}

export async function tracesShowCommand(runId: string, flags: { json?: boolean }, context: CliContext): Promise<number> {
  const trace = await clientFrom(context).traces.get(runId, { signal: context.signal });
  context.stdout.write(flags.json ? `${JSON.stringify(trace, null, 2)}\n` : formatTrace(trace));
  return 0;
}

export async function tracesListCommand(flags: ListFilterFlags, context: CliContext): Promise<number> {
  const limit = parseLimit(flags.limit, DEFAULT_LIMIT);
  const filters = listFilters(flags, STATUSES) as Omit<ListTracesParams, "limit">;
  const client = clientFrom(context);
  const { items: traces, more } = await firstItems(
    (pageSize) => client.traces.list({ ...filters, limit: pageSize }, { signal: context.signal }),
    limit,
  );
  if (flags.json) {
    for (const trace of traces) context.stdout.write(`${JSON.stringify(trace)}\n`);
    return 0;
  }
  context.stdout.write(traces.length === 0 ? "no traces\n" : formatTraceTable(traces));
  if (more) context.stderr.write(`(showing the newest ${limit}; use --limit to see more)\n`);
  return 0;
}

export async function tracesDeleteCommand(runId: string, context: CliContext): Promise<number> {
  await clientFrom(context).traces.delete(runId, { signal: context.signal });
  context.stdout.write(`deleted the trace of run ${runId} (the run and its events stay)\n`);
  return 0;
}
