import type Database from "better-sqlite3";
import type { RunFilter, RunRecord } from "../types.js";
import { RUNS } from "../schema/tables.js";

export interface RunPage {
  limit: number;
  after?: { createdAt: string; id: string };
}

/**
 * The SELECT for one `listRuns` call. Only the filters given become
 * conditions (a `? IS NULL OR ...` catch-all would keep SQLite from using
 * the per-filter indexes of migration 2). Values are always bound; the SQL
 * text depends only on which filters are present and how many, so it is a
 * good cache key. Exported for the query-plan test.
 */
export function listRunsSql(workspaceId: string, filter: RunFilter, page: RunPage): { sql: string; params: unknown[] } {
  const where = ["workspace_id = ?"];
  const params: unknown[] = [workspaceId];
  const add = (condition: string, ...values: unknown[]) => {
    where.push(condition);
    params.push(...values);
  };
  if (filter.statuses !== undefined) {
    const statuses = [...new Set(filter.statuses)];
    add(`status IN (${statuses.map(() => "?").join(", ")})`, ...statuses);
  }
  if (filter.agentId !== undefined) add("agent_id = ?", filter.agentId);
  if (filter.sessionId !== undefined) add("session_id = ?", filter.sessionId);
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    // A quoted JSON path label takes JSON string escapes, so any key is safe
    // and a key with dots (`trace.id`) is one key, not a nested path.
    add("json_extract(metadata, ?) = ?", `$.${JSON.stringify(key)}`, value);
  }
  if (filter.createdAfter !== undefined) add("created_at > ?", filter.createdAfter);
  if (filter.createdBefore !== undefined) add("created_at < ?", filter.createdBefore);
  // Row-value comparison: the index on (..., created_at, id) seeks straight
  // to the cursor instead of skipping OFFSET rows.
  if (page.after !== undefined) add("(created_at, id) < (?, ?)", page.after.createdAt, page.after.id);
  params.push(page.limit);
  const sql = `SELECT ${RUNS.select} FROM runs WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`;
  return { sql, params };
}

/** Cached statements per SQL shape; cleared past a bound so odd metadata combinations cannot grow it forever. */
export class RunLister {
  static readonly MAX_CACHED = 64;
  readonly #statements = new Map<string, Database.Statement<unknown[], object>>();

  constructor(private readonly db: Database.Database) {}

  list(workspaceId: string, filter: RunFilter, page: RunPage): RunRecord[] {
    // `IN ()` would be valid SQLite but not portable SQL; an empty status set matches nothing anyway.
    // A negative LIMIT means "no limit" to SQLite, so it is refused here too.
    if (filter.statuses?.length === 0 || !(page.limit >= 1)) return [];
    const { sql, params } = listRunsSql(workspaceId, filter, { ...page, limit: Math.floor(page.limit) });
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= RunLister.MAX_CACHED) this.#statements.clear();
      statement = this.db.prepare<unknown[], object>(sql);
      this.#statements.set(sql, statement);
    }
    return statement.all(...params).map(RUNS.fromRow);
  }
}
