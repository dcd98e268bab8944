import type { Command } from "commander";
import { clientFrom, type CliContext } from "../context.js";

/**
 * `agentd runs approve|reject <runId> [toolUseId...]`: decide tool calls that
 * wait for a human (`approval_required`). Without ids, every call the run
 * waits on is decided.
 */
export function registerRunsDecide(runs: Command, context: CliContext, done: (exitCode: number) => void): void {
  for (const approved of [true, false]) {
    runs
      .command(approved ? "approve" : "reject")
      .description(approved ? "approve tool calls waiting for a human" : "reject tool calls waiting for a human (the model is told)")
      .argument("<runId>", "the paused run")
      .argument("[toolUseId...]", "the calls to decide (default: all the run waits on)")
      .option("--reason <text>", "shown to the model with the decision")
      .action(async (runId: string, ids: string[], flags: { reason?: string }) => done(await decideCommand(runId, ids, approved, flags, context)));
  }
}

export async function decideCommand(runId: string, ids: string[], approved: boolean, flags: { reason?: string }, context: CliContext): Promise<number> {
  const client = clientFrom(context);
  const toolUseIds = ids.length > 0 ? ids : (await client.runs.get(runId)).pendingApprovals.map((call) => call.toolUseId);
  if (toolUseIds.length === 0) {
    context.stderr.write(`agentd: run ${runId} is not waiting for any approval\n`);
    return 1;
  }
  const reason = flags.reason !== undefined ? { reason: flags.reason } : {};
  await client.runs.continue(runId, { approvals: toolUseIds.map((toolUseId) => ({ toolUseId, approved, ...reason })) });
  context.stdout.write(`${approved ? "approved" : "rejected"} ${toolUseIds.join(", ")}\n`);
  return 0;
}
