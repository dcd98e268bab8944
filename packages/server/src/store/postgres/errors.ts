import { DatabaseError } from "pg";
import type { ErrorCode } from "@agentd/protocol";
import { AgentdError } from "../../errors.js";
import type { ViolationMessages } from "../sql/operation.js";

export type { ViolationMessages };

/*
 * PostgreSQL failures -> domain errors, by SQLSTATE or by error type, never
 * by message text (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */

/** SQLSTATE -> the domain error, and which statement message goes with it. */
const DOMAIN_ERRORS: Record<string, [code: ErrorCode, message: keyof ViolationMessages]> = {
  "23505": ["conflict", "duplicate"], // unique_violation
  "23503": ["not_found", "missingParent"], // foreign_key_violation
  P0002: ["not_found", "missingRow"], // no_data_found, raised by agentd_expect_row() (migration 1)
};

/**
 * Server-side codes that mean "the database cannot serve us right now", not
 * "this request is wrong": connection exceptions (class 08), shutdown or
 * start-up (57P01-57P03), too many connections (53300).
 */
export function isUnavailableCode(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300");
}

/**
 * The error for a database we cannot reach or lost mid-request. The HTTP edge
 * answers it with 503, so clients retry. The message names only the error
 * code (ECONNREFUSED, 57P01, ...): the driver's text may carry host names,
 * which stay in `cause` for the logs.
 */
export function unavailable(cause: unknown): AgentdError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = typeof code === "string" && code !== "" ? code : "connection lost";
  return new AgentdError("unavailable", `the database is unavailable: ${reason}`, { cause });
}

/**
 * The error to throw for a failed statement: a domain error for a broken
 * unique or foreign key rule or a missing row, when the statement says what
 * that means (the pg error as `cause`); `unavailable` for a database that
 * went away; else the error itself (a bug: a 500).
 */
export function statementError(error: unknown, messages?: ViolationMessages): unknown {
  if (error instanceof AgentdError || !(error instanceof DatabaseError)) return error;
  const rule = DOMAIN_ERRORS[error.code ?? ""];
  const message = rule === undefined ? undefined : messages?.[rule[1]];
  if (message !== undefined) return new AgentdError(rule![0], message, { cause: error });
  if (isUnavailableCode(error.code)) return unavailable(error);
  return error;
}
