import { invalidRequest } from "../errors.js";

/** A run's place in the listing order (`createdAt` desc, then `id` desc). */
export interface RunPosition {
  createdAt: string;
  id: string;
}

/** `createdAt` as runs store it (`toISOString()`); anything else did not come from us. */
const STORED_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/**
 * The `nextCursor` of `GET /agent-runs`: base64url of `createdAt|id` of a
 * page's last run. It names a position, not a snapshot, so it stays valid
 * while runs are added and costs the store a seek, not an OFFSET scan.
 * Clients treat it as opaque, which leaves us free to change the format.
 */
export function encodeCursor(run: RunPosition): string {
  return Buffer.from(`${run.createdAt}|${run.id}`, "utf8").toString("base64url");
}

/** The position a cursor names; anything we did not produce is `400 cursor: malformed`. */
export function decodeCursor(cursor: string): RunPosition {
  const malformed = () => invalidRequest("cursor", "malformed (pass a previous page's nextCursor unchanged)");
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw malformed();
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const bar = text.indexOf("|");
  const position = { createdAt: text.slice(0, bar), id: text.slice(bar + 1) };
  // Node's decoder skips what it cannot decode instead of failing, so only a
  // cursor that re-encodes to itself is one we wrote.
  if (bar < 0 || !STORED_INSTANT.test(position.createdAt) || position.id.length === 0 || encodeCursor(position) !== cursor) {
    throw malformed();
  }
  return position;
}
