import type { ListRunsParams } from "@agentd/client";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { parseMetadata } from "./run.js";

/* The run listing's filters, shared by `agentd runs list` and `agentd traces list` (GET /traces takes the same query). */

export interface ListFilterFlags {
  status?: string[];
  agent?: string;
  session?: string;
  metadata?: string[];
  createdAfter?: string;
  createdBefore?: string;
  limit?: string;
  json?: boolean;
}

/** The server's largest page; `--limit` above it is served by several pages. */
export const MAX_PAGE = 100;

/** Adds the filter options; `what` is the plural the help text speaks of ("runs", "traces"). */
export function addListFilters(command: Command, what: string, statuses: readonly string[], defaultLimit: number): Command {
  return command
    .option("--status <status...>", `only ${what} of runs in these states (${statuses.join(", ")}; repeat or separate with commas)`)
    .option("--agent <id>", `only ${what} of this named agent`)
    .option("--session <id>", `only ${what} of this session`)
    .option("--metadata <key=value...>", `only ${what} of runs with every one of these metadata pairs`)
    .option(
      "--created-after <time>",
      "only runs created after this ISO 8601 date or date-time with a zone (2026-01-31, 2026-01-31T12:00:00Z)",
    )
    .option("--created-before <time>", "only runs created before this ISO 8601 date or date-time with a zone")
    .option("--limit <n>", `how many ${what} to print (default ${defaultLimit})`);
}

/** The flags as the SDK's list parameters, every value checked before any request. */
export function listFilters(
  flags: ListFilterFlags,
  statuses: readonly string[],
): Omit<ListRunsParams, "status" | "limit" | "cursor"> & { status?: string[] } {
  return {
    ...(flags.status ? { status: parseStatuses(flags.status, statuses) } : {}),
    ...(flags.agent !== undefined ? { agentId: flags.agent } : {}),
    ...(flags.session !== undefined ? { sessionId: flags.session } : {}),
    ...(flags.metadata ? { metadata: parseMetadata(flags.metadata) } : {}),
    ...(flags.createdAfter !== undefined ? { createdAfter: parseInstant("--created-after", flags.createdAfter) } : {}),
    ...(flags.createdBefore !== undefined ? { createdBefore: parseInstant("--created-before", flags.createdBefore) } : {}),
  };
}

/** The first `limit` items of a paged list, and whether there are more (one item more than printed says so without an extra page). */
export async function firstItems<T>(list: (pageSize: number) => AsyncIterable<T>, limit: number): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  for await (const item of list(Math.min(limit + 1, MAX_PAGE))) {
    if (items.length === limit) return { items, more: true };
    items.push(item);
  }
  return { items, more: false };
}

/** Commander hands `--status a,b --status c` over as ["a,b", "c"]. */
function parseStatuses(values: string[], statuses: readonly string[]): string[] {
  const parsed = values.flatMap((value) => value.split(",")).map((value) => value.trim());
  for (const status of parsed) {
    if (!statuses.includes(status))
      throw new UsageError(`--status: unknown status ${JSON.stringify(status)} (one of ${statuses.join(", ")})`);
  }
  return parsed;
}

/** What the server takes (api.md "Listing runs"): a date, or a date-time with a zone; checked here so the message names the flag. */
function parseInstant(flag: string, value: string): string {
  const shaped = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value);
  if (!shaped || Number.isNaN(Date.parse(value))) {
    throw new UsageError(
      `${flag} expects an ISO 8601 date or date-time with a zone (2026-01-31, 2026-01-31T12:00:00Z), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
