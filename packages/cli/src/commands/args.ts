import { UsageError } from "../errors.js";

/* Numbers the commands take as flags or arguments, checked before any request so the message names the flag. */

/** A registry revision number (1, 2, ...), as `--revision` or an argument takes it; `what` names it in the message. */
export function parseRevision(what: string, value: string): number {
  const revision = /^[1-9]\d{0,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(revision <= 2_147_483_647)) throw new UsageError(`${what} expects a revision number (1, 2, ...), got ${JSON.stringify(value)}`);
  return revision;
}

export function parseLimit(value: string | undefined, defaultLimit: number): number {
  if (value === undefined) return defaultLimit;
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= 10_000)) throw new UsageError(`--limit expects a number from 1 to 10000, got ${JSON.stringify(value)}`);
  return limit;
}
