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
  placeholders: (text) => text,
};
