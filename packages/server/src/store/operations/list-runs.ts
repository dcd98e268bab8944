import { RUNS } from "../schema/tables.js";
import type { Condition, Dialect } from "../sql/dialect.js";
import type { Operation } from "../sql/operation.js";
import type { RunFilter, RunRecord } from "../types.js";

export interface RunPage {
  limit: number;
  after?: { createdAt: string; id: string };
}

/**
 * The SELECT for one `listRuns` call (`?` placeholders), or undefined when
 * nothing can match. Only the filters given become conditions (a
 * `? IS NULL OR ...` catch-all would keep the planner from the per-filter
 * indexes, which each end in (created_at, id): a list reads one in order and
 * stops at `limit`). Values are always bound; the text depends only on which
 * filters are present and how many, so it is a good cache key.
 */
export function listRunsText(
  d: Dialect,
  workspaceId: string,
  filter: RunFilter,
  page: RunPage,
): { text: string; params: unknown[] } | undefined {
  // An empty status set matches nothing (and `IN ()` is not portable SQL);
  // a limit below 1 is refused (SQLite reads LIMIT -1 as "no limit", PostgreSQL as an error).
  if (filter.statuses?.length === 0 || !(page.limit >= 1)) return undefined;
  const conditions: Condition[] = [{ sql: "workspace_id = ?", params: [workspaceId] }];
  const add = (sql: string, ...params: unknown[]) => conditions.push({ sql, params });
  if (filter.statuses !== undefined) conditions.push(d.oneOf("status", [...new Set(filter.statuses)]));
  if (filter.agentId !== undefined) add("agent_id = ?", filter.agentId);
  if (filter.sessionId !== undefined) add("session_id = ?", filter.sessionId);
  conditions.push(...d.jsonHas("metadata", Object.entries(filter.metadata ?? {})));
  if (filter.createdAfter !== undefined) add("created_at > ?", filter.createdAfter);
  if (filter.createdBefore !== undefined) add("created_at < ?", filter.createdBefore);
  // Row-value comparison: the index seeks straight to the cursor instead of skipping OFFSET rows.
  if (page.after !== undefined) add("(created_at, id) < (?, ?)", page.after.createdAt, page.after.id);
  const where = conditions.map((condition) => condition.sql).join(" AND ");
  const params = conditions.flatMap((condition) => condition.params);
  params.push(Math.floor(page.limit));
  const text = `SELECT ${RUNS.select} FROM ${d.table("runs")} WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ?`;
  return { text, params };
}

export function* listRuns(d: Dialect, workspaceId: string, filter: RunFilter, page: RunPage): Operation<RunRecord[]> {
  const statement = listRunsText(d, workspaceId, filter, page);
  if (statement === undefined) return [];
  const [answer] = yield { queries: [{ text: d.placeholders(statement.text), params: statement.params }] };
  return answer!.rows.map(RUNS.fromRow);
}
