import type { RunSnapshot } from "@agentd/client";

/** Width of the text column of `agentd runs list`. */
export const SUMMARY_WIDTH = 60;

/** `2026-01-31T12:00:00.123Z` → `2026-01-31T12:00:00Z`: milliseconds only widen the table. */
const shortTime = (iso: string | null): string => (iso === null ? "-" : iso.replace(/\.\d+Z$/, "Z"));

/** One line of what the run said, failed with, or waits on, cut to `width` characters. */
export function summary(run: RunSnapshot, width = SUMMARY_WIDTH): string {
  const waiting = run.pendingToolCalls.map((call) => call.name).join(", ");
  const text = (run.text ?? run.error ?? (waiting ? `waiting for ${waiting}` : "")).replace(/\s+/g, " ").trim();
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Columns padded to their widest cell; the last one (free text) is not padded. */
export function formatRunTable(runs: RunSnapshot[]): string {
  const rows = [
    ["ID", "STATUS", "AGENT", "CREATED", "TEXT"],
    ...runs.map((run) => [run.id, run.status, run.agentId ?? "-", shortTime(run.createdAt), summary(run)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd()).join("\n") + "\n";
}

/** `agentd runs get`: the snapshot's fields a person looks for, then the answer or the error in full. */
export function formatRun(run: RunSnapshot): string {
  const { usage } = run;
  const cost = usage.costUsd === null ? "cost unknown" : `$${usage.costUsd.toFixed(6)}`;
  const metadata = Object.entries(run.metadata).map(([key, value]) => `${key}=${value}`);
  const fields: Array<[string, string]> = [
    ["id", run.id],
    ["status", run.subtype ? `${run.status} (${run.subtype})` : run.status],
    ["agent", run.agentId ?? "- (ephemeral)"],
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
