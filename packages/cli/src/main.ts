import { VERSION } from "@agentd/client";
import { Command, CommanderError } from "commander";
import { registerAgents } from "./commands/agents.js";
import { registerKeys } from "./commands/keys.js";
import { registerModels } from "./commands/models.js";
import { registerRun } from "./commands/run.js";
import { registerRuns } from "./commands/runs.js";
import { registerServe } from "./commands/serve.js";
import { registerTraces } from "./commands/traces.js";
import { urlOf, workspaceOf, type CliContext } from "./context.js";
import { describeError } from "./errors.js";

export function buildProgram(context: CliContext, done: (exitCode: number) => void): Command {
  const program = new Command("agentd")
    .description(
      "agentd: a self-hostable runtime for LLM agents.\nEnvironment: AGENTD_URL (default http://127.0.0.1:7700), AGENTD_API_KEY, AGENTD_WORKSPACE (default default)",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  registerServe(program, context, done);
  registerRun(program, context, done);
  registerRuns(program, context, done);
  registerAgents(program, context, done);
  registerTraces(program, context, done);
  registerModels(program, context, done);
  registerKeys(program, context, done);
  // Subcommands copy these settings only when created after the call, so apply them to every command now.
  for (const command of allCommands(program)) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code: 0 ok, 1 failure, 2 usage, 3 not found, 130 interrupted. */
export async function main(argv: string[], context: CliContext): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(context, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    // Commander has already printed its own message (usage errors, --help, --version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const { message, exitCode: code } = describeError(error, { url: urlOf(context), workspace: workspaceOf(context) });
    context.stderr.write(`agentd: ${message}\n`);
    return code;
  }
}
