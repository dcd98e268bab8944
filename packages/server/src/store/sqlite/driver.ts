import type Database from "better-sqlite3";
import type { Answer, Operation, Query } from "../sql/operation.js";
import { statements, type StatementId } from "../sql/statements.js";
import { writeError } from "./constraints.js";
import { SQLITE } from "./dialect.js";

const NO_ROWS: Answer["rows"] = [];

/**
 * Runs the shared operations on better-sqlite3: every statement prepared
 * once at open; an operation runs to its end synchronously, its statements
 * one after another with no await between them.
 */
export class SqliteDriver {
  readonly #prepared: Record<StatementId, Database.Statement<unknown[], Record<string, unknown>>>;
  readonly #transaction: (operation: Operation<unknown>) => unknown;
  /** Statements built per call, prepared once per text; cleared past a bound, so odd filter combinations cannot grow it forever. */
  readonly #builtCache = new Map<string, Database.Statement<unknown[], Record<string, unknown>>>();
  static readonly MAX_BUILT = 64;

  constructor(private readonly db: Database.Database) {
    const texts = statements(SQLITE);
    this.#prepared = Object.fromEntries(Object.entries(texts).map(([id, text]) => [id, db.prepare(SQLITE.placeholders(text))])) as Record<
      StatementId,
      Database.Statement<unknown[], Record<string, unknown>>
    >;
    // Deferred, as a read-then-write of one process: other processes' writes wait on busy_timeout.
    this.#transaction = db.transaction((operation: Operation<unknown>) => this.run(operation));
  }

  run<T>(operation: Operation<T>): T {
    let step = operation.next();
    while (!step.done) {
      const { queries } = step.value;
      step = operation.next(queries.length === 1 ? [this.send(queries[0]!)] : queries.map((query) => this.send(query)));
    }
    return step.value;
  }

  /** Runs the operation in one transaction: rolled back if it throws. */
  transaction<T>(operation: Operation<T>): T {
    return this.#transaction(operation) as T;
  }

  #built(text: string): Database.Statement<unknown[], Record<string, unknown>> {
    let statement = this.#builtCache.get(text);
    if (statement === undefined) {
      if (this.#builtCache.size >= SqliteDriver.MAX_BUILT) this.#builtCache.clear();
      statement = this.db.prepare<unknown[], Record<string, unknown>>(text);
      this.#builtCache.set(text, statement);
    }
    return statement;
  }

  /** One statement, its integrity failures mapped to domain errors (constraints.ts). */
  send(query: Query): Answer {
    const statement = query.text === undefined ? this.#prepared[query.statement] : this.#built(query.text);
    const params = bindable(query.params);
    try {
      if (query.first === true) {
        const row = statement.get(...params);
        return { rows: row === undefined ? NO_ROWS : [row], changes: 0 };
      }
      if (statement.reader) return { rows: statement.all(...params), changes: 0 };
      return { rows: NO_ROWS, changes: statement.run(...params).changes };
    } catch (error) {
      throw query.violation === undefined ? error : writeError(error, query.violation);
    }
  }
}

/** SQLite binds no arrays: a list parameter is JSON text, read by json_each (dialect.ts inList). Copies only when there is one. */
function bindable(params: unknown[]): unknown[] {
  for (const param of params) {
    if (Array.isArray(param)) return params.map((value) => (Array.isArray(value) ? JSON.stringify(value) : value));
  }
  return params;
}
