import type { StatementId } from "./statements.js";

/** What to say when a write breaks an integrity rule or finds no row to change (each dialect maps its own error codes). */
export interface ViolationMessages {
  duplicate?: string;
  missingParent?: string;
  missingRow?: string;
}

/**
 * One statement to run: a shared statement (prepared once) or the text of
 * one built per call (run listing: SQLite caches it prepared, PostgreSQL
 * sends it unnamed); its parameters (an array is a list), and its domain errors.
 */
export type Query = (
  { statement: StatementId; text?: undefined } | { statement?: undefined; /** In the dialect's placeholders. */ text: string }
) & {
  params: unknown[];
  violation?: ViolationMessages;
  /** Only the first row is wanted (a lookup by key): SQLite then stops stepping after it. */
  first?: boolean;
};

/** A statement's answer, alike from both drivers. */
export interface Answer {
  rows: Array<Record<string, unknown>>;
  /** Rows changed by an INSERT, UPDATE or DELETE. */
  changes: number;
}

/**
 * Statements sent together: one round trip for PostgreSQL (pipelined and
 * corked). `last`: the last statements of a transaction, so PostgreSQL sends
 * COMMIT with them instead of after them.
 */
export interface Batch {
  queries: Query[];
  last?: boolean;
}

/**
 * A domain operation, written once for both stores: a generator that
 * yields batches of statements and receives their answers. SQLite's driver
 * runs it to the end synchronously (no await between statements, inside its
 * transaction); PostgreSQL's awaits each batch on one pooled connection.
 */
export type Operation<T> = Generator<Batch, T, Answer[]>;

export const query = (statement: StatementId, params: unknown[], violation?: ViolationMessages): Query => ({
  statement,
  params,
  violation,
});

/** A lookup of at most one row, alone in its batch. */
export const first = (statement: StatementId, params: unknown[]): Batch => ({ queries: [{ statement, params, first: true }] });

/** A batch of one statement: `const [answer] = yield one(...)`. */
export const one = (statement: StatementId, params: unknown[], violation?: ViolationMessages): Batch => ({
  queries: [query(statement, params, violation)],
});
