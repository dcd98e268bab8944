import { WORKSPACE_SETTINGS } from "../schema/tables.js";
import { first, one, type Operation } from "../sql/operation.js";
import type { RetentionBatch, WorkspaceRecord, WorkspaceSettingsRecord } from "../types.js";

/* Workspace settings and the retention sweep's deletes (issue #11, retention/), once for both stores. */

export function* getWorkspaceSettings(workspaceId: string): Operation<WorkspaceSettingsRecord | undefined> {
  const row = (yield first("workspaceSettings", [workspaceId]))[0]!.rows[0];
  return row === undefined ? undefined : WORKSPACE_SETTINGS.fromRow(row);
}

export function* putWorkspaceSettings(settings: WorkspaceSettingsRecord): Operation<void> {
  yield one("upsertWorkspaceSettings", WORKSPACE_SETTINGS.values(settings), {
    missingParent: `workspace ${settings.workspaceId} not found`,
  });
}

export function* deleteWorkspaceSettings(workspaceId: string): Operation<boolean> {
  return (yield one("deleteWorkspaceSettings", [workspaceId]))[0]!.changes > 0;
}

type SettingsRow = WorkspaceRecord & { settingsOf: string | null; retentionDays: number | null; updatedAt: string | null };

export function* listWorkspaceSettings(): Operation<Array<{ workspace: WorkspaceRecord; settings: WorkspaceSettingsRecord | undefined }>> {
  return ((yield one("workspacesWithSettings", []))[0]!.rows as unknown as SettingsRow[]).map(
    ({ settingsOf, retentionDays, updatedAt, ...workspace }) => ({
      workspace,
      settings: settingsOf === null ? undefined : { workspaceId: settingsOf, retentionDays, updatedAt: updatedAt! },
    }),
  );
}

/**
 * One batch: up to `maxRuns` expired runs are read (id and event count),
 * then as many of them as fit in `maxEvents` are deleted in one statement
 * (its own transaction: the sweep never holds a lock across batches).
 */
export function* deleteExpiredRuns(
  workspaceId: string,
  endedBefore: string,
  batch: RetentionBatch,
): Operation<{ deleted: string[]; more: boolean }> {
  const found = (yield one("expiredRuns", [workspaceId, endedBefore, endedBefore, Math.max(1, Math.floor(batch.maxRuns))]))[0]!
    .rows as Array<{
    id: string;
    lastSeq: number | string;
  }>;
  if (found.length === 0) return { deleted: [], more: false };
  const ids: string[] = [];
  let events = 0;
  for (const run of found) {
    const count = Number(run.lastSeq);
    if (ids.length > 0 && events + count > batch.maxEvents) break;
    ids.push(run.id);
    events += count;
  }
  const deleted = ((yield one("deleteEndedRuns", [workspaceId, ids]))[0]!.rows as Array<{ runId: string }>).map((row) => row.runId);
  return { deleted, more: found.length >= batch.maxRuns || ids.length < found.length };
}
