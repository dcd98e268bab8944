import type { RunSnapshot } from "@agentd/client";
import { formatCost, formatTable, oneLine, shortTime } from "./format.js";

/** Width of the text column of `agentd runs list`. */
export const SUMMARY_WIDTH = 60;

/** One line of what the run said, failed with, or waits on, cut to `width` characters. */
export function summary(run: RunSnapshot, width = SUMMARY_WIDTH): string {
  const waiting = run.pendingToolCalls.map((call) => call.name).join(", ");
  return oneLine(run.text ?? run.error ?? (waiting ? `waiting for ${waiting}` : ""), width);
}

export function formatRunTable(runs: RunSnapshot[]): string {
  return formatTable([
    ["ID", "STATUS", "AGENT", "CREATED", "TEXT"],
    ...runs.map((run) => [run.id, run.status, run.agentId ?? "-", shortTime(run.createdAt), summary(run)]),
  ]);
}

/** `agentd runs get`: the snapshot's fields a person looks for, then the answer or the error in full. */
export function formatRun(run: RunSnapshot): string {
  const { usage } = run;
  const cost = usage.costUsd === null ? "cost unknown" : formatCost(usage.costUsd);
  const metadata = Object.entries(run.metadata).map(([key, value]) => `${key}=${value}`);
  const fields: Array<[string, string]> = [
    ["id", run.id],
    ["status", run.subtype ? `${run.status} (${run.subtype})` : run.status],
    ["agent", agentOf(run)],
    ["model", run.modelId],
    ["session", run.sessionId ?? "-"],
    ["created", shortTime(run.createdAt)],
    ["started", shortTime(run.startedAt)],
    ["ended", shortTime(run.endedAt)],
    ["usage", `${usage.inputTokens} in + ${usage.outputTokens} out = ${usage.totalTokens} tokens, ${cost}`],
    ["metadata", metadata.length > 0 ? metadata.join(", ") : "-"],
    ...run.pendingToolCalls.map((call): [string, string] => ["waiting", `${call.name} (${call.toolUseId}) ${JSON.stringify(call.args)}`]),
  ];
  const lines = fields.map(([label, value]) => `${label.padEnd(9)}${value}`);
  if (run.text !== null) lines.push("", run.text);
  if (run.error !== null) lines.push("", `error: ${run.error}`);
  return `${lines.join("\n")}\n`;
}

/** `support revision 2 (tag production)` for a registry run; the id alone for a config agent. */
function agentOf(run: RunSnapshot): string {
  if (run.agentId === null) return "- (ephemeral)";
  // Snapshots of servers before issue #11 have neither field.
  const revision = run.agentRevision != null ? ` revision ${run.agentRevision}` : "";
  return `${run.agentId}${revision}${run.agentTag ? ` (tag ${run.agentTag})` : ""}`;
}
