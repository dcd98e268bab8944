/* Text shared by the commands that print tables and fields. */

/** `2026-01-31T12:00:00.123Z` → `2026-01-31T12:00:00Z`: milliseconds only widen the table. */
export const shortTime = (iso: string | null): string => (iso === null ? "-" : iso.replace(/\.\d+Z$/, "Z"));

/** Columns padded to their widest cell; the last one (free text) is not padded. The first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** `label   value` lines, the labels padded to the widest. */
export function formatFields(fields: Array<[string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  return fields.map(([label, value]) => `${label.padEnd(width)}${value}`.trimEnd()).join("\n") + "\n";
}

/** One line of free text, whitespace folded, cut to `width` characters. */
export function oneLine(text: string, width: number): string {
  const folded = text.replace(/\s+/g, " ").trim();
  return folded.length > width ? `${folded.slice(0, width - 1)}…` : folded;
}

/** `93ms`, `1.25s`, `2m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

/** Dollars to the nano-dollar the server rounds to would be noise: six decimals; null is a price agentd does not know. */
export const formatCost = (costUsd: number | null): string => (costUsd === null ? "unknown" : `$${costUsd.toFixed(6)}`);
