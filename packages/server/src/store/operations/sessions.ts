import { SESSIONS } from "../schema/tables.js";
import { first, one, type Operation } from "../sql/operation.js";
import type { SessionRecord } from "../types.js";

/* Sessions, once for both stores (a session patch is each dialect's: patches.ts). */

export function* insertSession(session: SessionRecord): Operation<void> {
  yield one("insertSession", SESSIONS.values(session), {
    duplicate: `session ${session.id} already exists`,
    missingParent: `workspace ${session.workspaceId} not found`,
  });
}

export function* getSession(workspaceId: string, sessionId: string): Operation<SessionRecord | undefined> {
  const row = (yield first("sessionById", [workspaceId, sessionId]))[0]!.rows[0];
  return row === undefined ? undefined : SESSIONS.fromRow(row);
}
