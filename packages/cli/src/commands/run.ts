import { RunCancelledError, RunFailedError, type RunEvent, type RunResult } from "@agentd/client";
import type { Command } from "commander";
import { clientFrom, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { parseRevision } from "./args.js";

export interface RunFlags {
  message: string;
  stream?: boolean;
  session?: string;
  agent?: string;
  tag?: string;
  revision?: string;
  system?: string;
  model?: string;
  json?: boolean;
  metadata?: string[];
  dependencies?: string;
}

export function registerRun(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  program
    .command("run")
    .description("run an agent on a message and print its answer")
    .argument("[agent]", "agent id: a config agent, or a registry agent's latest revision (the same as --agent)")
    .requiredOption("-m, --message <text>", "the user message")
    .option("--stream", "print the answer as it is generated")
    .option("--agent <id>", "the agent to run (config or registry)")
    .option("--revision <n>", "with an agent: run this registry revision instead of the latest")
    .option("--tag <tag>", "run the registry revision this tag names now (see agentd agents tags)")
    .option("--session <id>", "send the message to this session (its agent answers)")
    .option("--system <prompt>", "system prompt of an ephemeral agent (no named agent needed)")
    .option("--model <id>", "model id (see agentd models)")
    .option("--json", "print the run result as JSON (with --stream: one event per line)")
    .option("--metadata <key=value...>", "metadata to tag the run with (repeatable)")
    .option("--dependencies <json>", "a JSON object passed to the agent's server tools, never shown to the model")
    .action(async (agent: string | undefined, flags: RunFlags) => done(await runCommand(agent, flags, context)));
}

export async function runCommand(positional: string | undefined, flags: RunFlags, context: CliContext): Promise<number> {
  const metadata = parseMetadata(flags.metadata);
  const dependencies = parseDependencies(flags.dependencies);
  const agent = agentOf(positional, flags);
  const revision = flags.revision === undefined ? undefined : parseRevision("--revision", flags.revision);
  if (flags.session !== undefined) {
    const given = [
      agent !== undefined && "an agent",
      flags.tag !== undefined && "--tag",
      revision !== undefined && "--revision",
      flags.system !== undefined && "--system",
      flags.model !== undefined && "--model",
    ];
    const clash = given.filter(Boolean);
    if (clash.length > 0)
      throw new UsageError(`${clash.join(", ")} cannot be used with --session: the session keeps the agent it was created with`);
  } else {
    const ways = [agent !== undefined && "an agent", flags.tag !== undefined && "--tag", flags.system !== undefined && "--system"].filter(
      Boolean,
    );
    if (ways.length === 0)
      throw new UsageError("name an agent (agentd run <agent> -m ..., or --tag <tag>) or define one with --system <prompt>");
    if (ways.length > 1) throw new UsageError(`name the agent one way: ${ways.join(" and ")} were both given`);
    if (revision !== undefined && agent === undefined)
      throw new UsageError("--revision needs an agent (agentd run <agent> --revision <n>); a tag already names its revision");
  }
  const client = clientFrom(context);
  const drive = { signal: context.signal, metadata, ...(dependencies ? { dependencies } : {}) };
  if (flags.session !== undefined) {
    const session = client.sessions.resume(flags.session);
    return flags.stream
      ? printEvents(session.stream(flags.message, drive), flags, context)
      : printResult(await session.send(flags.message, drive), flags, context);
  }
  const params = {
    ...(agent !== undefined ? { agentId: agent } : {}),
    ...(revision !== undefined ? { revision } : {}),
    ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
    ...(flags.system !== undefined ? { systemPrompt: flags.system } : {}),
    ...(flags.model !== undefined ? { modelId: flags.model } : {}),
    prompt: flags.message,
    ...drive,
  };
  return flags.stream
    ? printEvents(client.agents.stream(params), flags, context)
    : printResult(await client.agents.run(params), flags, context);
}

function printResult(result: RunResult, flags: RunFlags, context: CliContext): number {
  context.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.text}\n`);
  return 0;
}

/** Streams the answer; a run that does not succeed still exits 1 once its output is flushed. */
async function printEvents(events: AsyncIterable<RunEvent>, flags: RunFlags, context: CliContext): Promise<number> {
  let terminal: RunEvent | undefined;
  let runId = "(unknown)";
  try {
    for await (const event of events) {
      if (event.type === "started") runId = event.runId;
      if (flags.json) context.stdout.write(`${JSON.stringify(event)}\n`);
      else if (event.type === "assistant_delta") context.stdout.write(event.text);
      if (event.type === "result" || event.type === "cancelled") terminal = event;
    }
  } finally {
    if (!flags.json) context.stdout.write("\n");
  }
  if (terminal?.type === "cancelled") throw new RunCancelledError(runId, terminal.reason);
  if (terminal?.type === "result" && terminal.subtype !== "success") throw new RunFailedError(runId, terminal.subtype, terminal.error);
  return 0;
}

/** The agent named by the positional argument or `--agent` (both is fine when they agree). */
function agentOf(positional: string | undefined, flags: RunFlags): string | undefined {
  if (positional !== undefined && flags.agent !== undefined && positional !== flags.agent) {
    throw new UsageError(`name the agent once: got ${JSON.stringify(positional)} and --agent ${JSON.stringify(flags.agent)}`);
  }
  return positional ?? flags.agent;
}

/** `key=value` pairs; the first `=` splits, so values may contain more. */
export function parseMetadata(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--metadata expects key=value, got ${JSON.stringify(pair)}`);
    metadata[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return metadata;
}

/** `--dependencies '{"robot_name":"Anna"}'`: must be a JSON object. */
export function parseDependencies(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--dependencies must be a JSON object: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new UsageError('--dependencies must be a JSON object, like \'{"user":"u_1"}\'');
  return value as Record<string, unknown>;
}
