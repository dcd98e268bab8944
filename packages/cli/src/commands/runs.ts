import type { ListRunsParams, RunSnapshot, RunStatus } from "@agentd/client";
import { RUN_STATUSES } from "@agentd/protocol";
import type { Command } from "commander";
import { registerRunsDecide } from "./runs-decide.js";
import { clientFrom, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { formatRun, formatRunTable } from "./runs-format.js";
import { parseMetadata } from "./run.js";

export interface RunsListFlags {
  status?: string[];
  agent?: string;
  session?: string;
  metadata?: string[];
  limit?: string;
  json?: boolean;
}

const STATUSES: readonly string[] = RUN_STATUSES;
const DEFAULT_LIMIT = 20;
/** The server's largest page; `--limit` above it is served by several pages. */
const MAX_PAGE = 100;

export function registerRuns(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  const runs = program.command("runs").description("list and inspect runs");
  runs
    .command("list")
    .description("list runs, newest first")
    .option("--status <status...>", `only runs in these states (${STATUSES.join(", ")}; repeat or separate with commas)`)
    .option("--agent <id>", "only runs of this named agent")
    .option("--session <id>", "only runs of this session")
    .option("--metadata <key=value...>", "only runs with every one of these metadata pairs")
    .option("--limit <n>", `how many runs to print (default ${DEFAULT_LIMIT})`)
    .option("--json", "print one JSON run snapshot per line")
    .action(async (flags: RunsListFlags) => done(await runsListCommand(flags, context)));
  runs
    .command("get")
    .description("show one run: status, answer or error, usage, pending tool calls")
    .argument("<runId>", "the run's id")
    .option("--json", "print the run snapshot as JSON")
    .action(async (runId: string, flags: { json?: boolean }) => done(await runsGetCommand(runId, flags, context)));
  registerRunsDecide(runs, context, done);
}

export async function runsListCommand(flags: RunsListFlags, context: CliContext): Promise<number> {
  const limit = parseLimit(flags.limit);
  const params: ListRunsParams = {
    ...(flags.status ? { status: parseStatuses(flags.status) } : {}),
    ...(flags.agent !== undefined ? { agentId: flags.agent } : {}),
    ...(flags.session !== undefined ? { sessionId: flags.session } : {}),
    ...(flags.metadata ? { metadata: parseMetadata(flags.metadata) } : {}),
    // One run more than printed says whether there are more, without a request for an extra page.
    limit: Math.min(limit + 1, MAX_PAGE),
  };
  const runs: RunSnapshot[] = [];
  let more = false;
  for await (const run of clientFrom(context).runs.list(params, { signal: context.signal })) {
    if (runs.length === limit) {
      more = true;
      break;
    }
    runs.push(run);
  }
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

/** Commander hands `--status a,b --status c` over as ["a,b", "c"]. */
function parseStatuses(values: string[]): RunStatus[] {
  const statuses = values.flatMap((value) => value.split(",")).map((value) => value.trim());
  for (const status of statuses) {
    if (!STATUSES.includes(status)) throw new UsageError(`--status: unknown status ${JSON.stringify(status)} (one of ${STATUSES.join(", ")})`);
  }
  return statuses as RunStatus[];
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= 10_000)) throw new UsageError(`--limit expects a number from 1 to 10000, got ${JSON.stringify(value)}`);
  return limit;
}
