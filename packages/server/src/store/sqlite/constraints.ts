import Database from "better-sqlite3";
import { AgentdError } from "../../errors.js";
import type { ViolationMessages } from "../sql/operation.js";

/**
 * Which integrity rule a write broke, from SQLite's extended result code
 * (never from the message text), so the store can throw the domain error.
 */
export type Violation = "duplicate" | "missing_parent";

export function violation(error: unknown): Violation | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  switch (error.code) {
    case "SQLITE_CONSTRAINT_PRIMARYKEY":
    case "SQLITE_CONSTRAINT_UNIQUE":
      return "duplicate";
    case "SQLITE_CONSTRAINT_FOREIGNKEY":
      return "missing_parent";
    default:
      return undefined;
  }
}

/**
 * The error to throw for a failed write: a domain error for a broken
 * integrity rule the statement has a message for (with the SQLite error as
 * `cause`), else the error itself.
 */
export function writeError(error: unknown, messages: ViolationMessages): unknown {
  const kind = violation(error);
  if (kind === "duplicate" && messages.duplicate !== undefined) return new AgentdError("conflict", messages.duplicate, { cause: error });
  if (kind === "missing_parent" && messages.missingParent !== undefined)
    return new AgentdError("not_found", messages.missingParent, { cause: error });
  return error;
}
