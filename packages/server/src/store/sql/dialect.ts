/**
 * What differs in the text of a statement between SQLite and PostgreSQL,
 * in one place. Shared statements (sql/statements.ts) are written with `?`
 * placeholders and these hooks; each dialect renders them once, when the
 * store opens, never per call.
 */
/** Part of a WHERE clause built per call, with its values (in placeholder order). */
export interface Condition {
  sql: string;
  params: unknown[];
}

export interface Dialect {
  readonly name: "sqlite" | "postgres";
  /** A table's name as statements spell it: PostgreSQL qualifies it by agentd's schema (poolers may not carry `search_path`). */
  table(name: string): string;
  /** `column` is one of a list bound as a single parameter (an array; SQLite binds it as JSON text). */
  inList(column: string): string;
  /** Breaks ties between rows created in the same millisecond: SQLite's rowid, PostgreSQL's `created_order` identity. */
  readonly insertionOrder: string;
  /** Byte order for text (ISO timestamps, ids), whatever the database's default collation. */
  readonly bytewise: string;
  /** An index hint: SQLite's `INDEXED BY`, where it would otherwise plan badly without statistics; nothing for PostgreSQL. */
  indexedBy(index: string): string;
  /** Locks the rows a read returns until the transaction ends (PostgreSQL); SQLite's write lock already serialises writers. */
  readonly forUpdate: string;
  /** `column` equals one of `values` (at least one; SQLite spells out one placeholder each, so each value is an index range). */
  oneOf(column: string, values: unknown[]): Condition;
  /** The JSON object in `column` has every one of these key/value pairs (a key is one key, dots included, not a path). */
  jsonHas(column: string, pairs: Array<[key: string, value: string]>): Condition[];
  /** The statement text with this dialect's placeholders. */
  placeholders(text: string): string;
}

/** `?` -> `$1`, `$2`, ... outside quoted strings and identifiers. */
export function numberedPlaceholders(text: string): string {
  let index = 0;
  return text.replace(/'[^']*'|"[^"]*"|\?/g, (match) => (match === "?" ? `$${++index}` : match));
}
