import type { ListRunsParams } from "@agentd/client";
import { RUN_STATUSES } from "@agentd/protocol";
import type { Command } from "commander";
import { clientFrom, type CliContext } from "../context.js";
import { parseLimit } from "./args.js";
import { addListFilters, firstItems, listFilters, type ListFilterFlags } from "./list-filters.js";
import { registerRunsDecide } from "./runs-decide.js";
import { formatRun, formatRunTable } from "./runs-format.js";

export type RunsListFlags = ListFilterFlags;

const STATUSES: readonly string[] = RUN_STATUSES;
const DEFAULT_LIMIT = 20;

export function registerRuns(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  const runs = program.command("runs").description("list, inspect, decide and delete runs");
  addListFilters(runs.command("list").description("list runs, newest first"), "runs", STATUSES, DEFAULT_LIMIT)
    .option("--json", "print one JSON run snapshot per line")
    .action(async (flags: RunsListFlags) => done(await runsListCommand(flags, context)));
  runs
    .command("get")
    .description("show one run: status, answer or error, usage, pending tool calls")
    .argument("<runId>", "the run's id")
    .option("--json", "print the run snapshot as JSON")
    .action(async (runId: string, flags: { json?: boolean }) => done(await runsGetCommand(runId, flags, context)));
  registerRunsDecide(runs, context, done);
  runs
    .command("delete")
    .description(
      "delete an ended run with its events and trace (a run not ended is refused: cancel it first); exit code 3 if there is no such run",
    )
    .argument("<runId>", "the run's id")
    .action(async (runId: string) => done(await runsDeleteCommand(runId, context)));
}

export async function runsListCommand(flags: RunsListFlags, context: CliContext): Promise<number> {
  const limit = parseLimit(flags.limit, DEFAULT_LIMIT);
  const filters = listFilters(flags, STATUSES) as Omit<ListRunsParams, "limit">;
  const client = clientFrom(context);
  const { items: runs, more } = await firstItems(
    (pageSize) => client.runs.list({ ...filters, limit: pageSize }, { signal: context.signal }),
    limit,
  );
  if (flags.json) {
    for (const run of runs) context.stdout.write(`${JSON.stringify(run)}\n`);
    return 0;
  }
  context.stdout.write(runs.length === 0 ? "no runs\n" : formatRunTable(runs));
  if (more) context.stderr.write(`(showing the newest ${limit}; use --limit to see more)\n`);
  return 0;
}

export async function runsGetCommand(runId: string, flags: { json?: boolean }, context: CliContext): Promise<number> {
  const run = await clientFrom(context).runs.get(runId, { signal: context.signal });
  context.stdout.write(flags.json ? `${JSON.stringify(run, null, 2)}\n` : formatRun(run));
  return 0;
}

export async function runsDeleteCommand(runId: string, context: CliContext): Promise<number> {
  await clientFrom(context).runs.delete(runId, { signal: context.signal });
  context.stdout.write(`deleted run ${runId} with its events and trace\n`);
  return 0;
}
