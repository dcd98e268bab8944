import type { Dialect } from "../sql/dialect.js";

/** How the shared statements are spelled for SQLite (sql/dialect.ts). */
export const SQLITE: Dialect = {
  name: "sqlite",
  table: (name) => name,
  // The list is bound as a JSON array: any length, one prepared statement.
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  insertionOrder: "rowid",
  // BINARY, byte order, is SQLite's default collation.
  bytewise: "",
  // Without statistics (no ANALYZE), SQLite may prefer another index and then sort.
  indexedBy: (index) => `INDEXED BY ${index}`,
  forUpdate: "",
  // Spelled out: SQLite plans `IN (?, ?)` as one index range per value.
  oneOf: (column, values) => ({ sql: `${column} IN (${values.map(() => "?").join(", ")})`, params: values }),
  // A quoted JSON path label takes JSON string escapes, so any key is safe
  // and a key with dots (`trace.id`) is one key, not a nested path.
  jsonHas: (column, pairs) =>
    pairs.map(([key, value]) => ({ sql: `json_extract(${column}, ?) = ?`, params: [`$.${JSON.stringify(key)}`, value] })),
  placeholders: (text) => text,
};
