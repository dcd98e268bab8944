import type { RunFilter } from "../types.js";
import type { Statement } from "./connection.js";
import { RUNS } from "../schema/tables.js";

export interface RunPage {
  limit: number;
  after?: { createdAt: string; id: string };
}

/**
 * The SELECT for one `listRuns` call, or undefined when nothing can match.
 * Only the filters given become conditions, so the planner can pick the
 * per-filter index of migration 1 and read it in (created_at, id) order,
 * stopping at `limit`. Values are always bound; the text depends only on
 * which filters are present, so it is unnamed (parsed per call) rather than a
 * prepared statement per combination. Exported for tests.
 */
export function listRunsStatement(schema: string, workspaceId: string, filter: RunFilter, page: RunPage): Statement | undefined {
  // No status at all, or a limit below 1 (LIMIT -1 is an error in PostgreSQL): nothing to return.
  if (filter.statuses?.length === 0 || !(page.limit >= 1)) return undefined;
  const values: unknown[] = [workspaceId];
  const where = ["workspace_id = $1"];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    where.push(condition(`$${values.length}`));
  };
  if (filter.statuses !== undefined) add((p) => `status = ANY(${p}::text[])`, [...new Set(filter.statuses)]);
  if (filter.agentId !== undefined) add((p) => `agent_id = ${p}`, filter.agentId);
  if (filter.sessionId !== undefined) add((p) => `session_id = ${p}`, filter.sessionId);
  const metadata = Object.entries(filter.metadata ?? {});
  // Containment of one object is the AND of its pairs; keys are plain keys
  // (a dot is part of the key, not a path) and values compare exactly.
  if (metadata.length > 0) add((p) => `metadata::jsonb @> ${p}::jsonb`, JSON.stringify(Object.fromEntries(metadata)));
  if (filter.createdAfter !== undefined) add((p) => `created_at > ${p}`, filter.createdAfter);
  if (filter.createdBefore !== undefined) add((p) => `created_at < ${p}`, filter.createdBefore);
  if (page.after !== undefined) {
    // A row comparison: the index on (..., created_at, id) seeks straight to the cursor.
    values.push(page.after.createdAt, page.after.id);
    where.push(`(created_at, id) < ($${values.length - 1}, $${values.length})`);
  }
  values.push(Math.floor(page.limit));
  const text = `SELECT ${RUNS.select} FROM ${schema}.runs WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT $${values.length}`;
  return { text, values };
}
