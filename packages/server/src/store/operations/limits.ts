import { one, type Operation } from "../sql/operation.js";

/* A key's limits counted in the store (issue #12, limits/run-limits.ts): its active runs and its tokens of a day. */

export function* countKeyActiveRuns(workspaceId: string, keyId: string): Operation<number> {
  return Number((yield one("countKeyActiveRuns", [workspaceId, keyId]))[0]!.rows[0]!.count);
}

/** `day`: `YYYY-MM-DD` (UTC); created_at is ISO 8601 UTC, so the day's runs are one range of it. */
export function* keyTokensOfDay(keyId: string, day: string): Operation<number> {
  const next = new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString();
  const row = (yield one("keyTokensOfDay", [keyId, day, keyId, `${day}T00:00:00.000Z`, next]))[0]!.rows[0]!;
  // PostgreSQL's sums of bigint arrive as numeric strings.
  return Number(row.tokens) + Number(row.deleted ?? 0);
}
