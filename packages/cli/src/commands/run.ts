import { RunCancelledError, RunFailedError, type RunEvent, type RunResult } from "@agentd/client";
import type { Command } from "commander";
import { clientFrom, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";

export interface RunFlags {
  message: string;
  stream?: boolean;
  session?: string;
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
    .argument("[agent]", "agent id from the server's config (optional with --system or --session)")
    .requiredOption("-m, --message <text>", "the user message")
    .option("--stream", "print the answer as it is generated")
    .option("--session <id>", "send the message to this session (its agent answers)")
    .option("--system <prompt>", "system prompt of an ephemeral agent (no named agent needed)")
    .option("--model <id>", "model id (see agentd models)")
    .option("--json", "print the run result as JSON (with --stream: one event per line)")
    .option("--metadata <key=value...>", "metadata to tag the run with (repeatable)")
    .option("--dependencies <json>", "a JSON object passed to the agent's server tools, never shown to the model")
    .action(async (agent: string | undefined, flags: RunFlags) => done(await runCommand(agent, flags, context)));
}

export async function runCommand(agent: string | undefined, flags: RunFlags, context: CliContext): Promise<number> {
  const metadata = parseMetadata(flags.metadata);
  const dependencies = parseDependencies(flags.dependencies);
  if (flags.session !== undefined && (flags.system !== undefined || flags.model !== undefined)) {
    throw new UsageError("--system and --model cannot be used with --session: the session keeps the agent it was created with");
  }
  if (flags.session === undefined && !agent && !flags.system) {
    throw new UsageError("name an agent (agentd run <agent> -m ...) or define one with --system <prompt>");
  }
  const client = clientFrom(context);
  const drive = { signal: context.signal, metadata, ...(dependencies ? { dependencies } : {}) };
  if (flags.session !== undefined) {
    const session = client.sessions.resume(flags.session);
    return flags.stream ? printEvents(session.stream(flags.message, drive), flags, context) : printResult(await session.send(flags.message, drive), flags, context);
  }
  const params = {
    ...(agent ? { agentId: agent } : {}),
    ...(flags.system !== undefined ? { systemPrompt: flags.system } : {}),
    ...(flags.model !== undefined ? { modelId: flags.model } : {}),
    prompt: flags.message,
    ...drive,
  };
  return flags.stream ? printEvents(client.agents.stream(params), flags, context) : printResult(await client.agents.run(params), flags, context);
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
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError("--dependencies must be a JSON object, like '{\"user\":\"u_1\"}'");
  return value as Record<string, unknown>;
}
