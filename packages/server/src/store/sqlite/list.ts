import { listRunsText, type RunPage } from "../operations/list-runs.js";
import type { RunFilter } from "../types.js";
import { SQLITE } from "./dialect.js";

/** The SQLite text and values of one `listRuns` SELECT (operations/list-runs.ts), for the query-plan test. */
export function listRunsSql(workspaceId: string, filter: RunFilter, page: RunPage): { sql: string; params: unknown[] } {
  const statement = listRunsText(SQLITE, workspaceId, filter, page);
  if (statement === undefined) throw new TypeError("this filter matches no run: there is no statement to plan");
  return { sql: statement.text, params: statement.params };
}
