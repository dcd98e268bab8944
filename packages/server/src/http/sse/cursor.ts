import { LAST_EVENT_ID, LAST_SEQ_QUERY } from "@agentd/protocol";

/** The replay cursor: `?lastSeq=` or `Last-Event-ID`, whichever is later. */
export function parseCursor(
  lastSeqQuery: string | null,
  lastEventId: string | undefined,
): { cursor: number } | { error: { path: string; message: string } } {
  let cursor = 0;
  for (const [path, raw] of [
    [LAST_SEQ_QUERY, lastSeqQuery],
    [LAST_EVENT_ID.name, lastEventId],
  ] as const) {
    if (raw === null || raw === undefined || raw === "") continue;
    if (!/^\d{1,15}$/.test(raw.trim()))
      return { error: { path, message: `${path} must be a non-negative integer (got '${raw.slice(0, 40)}')` } };
    cursor = Math.max(cursor, Number(raw.trim()));
  }
  return { cursor };
}
