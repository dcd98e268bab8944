import { numberedPlaceholders, type Dialect } from "../sql/dialect.js";

/** How the shared statements are spelled for PostgreSQL (sql/dialect.ts); `schema` is the quoted schema name. */
export const postgresDialect = (schema: string): Dialect => ({
  name: "postgres",
  table: (name) => `${schema}.${name}`,
  // The list is bound as a text[] parameter: any length, one named statement.
  inList: (column) => `${column} = ANY(?::text[])`,
  insertionOrder: "created_order",
  // created_at has the database's default collation: "C" orders the ISO strings byte by byte, as SQLite does.
  bytewise: 'COLLATE "C"',
  // The planner has statistics; hints are SQLite's.
  indexedBy: () => "",
  forUpdate: "FOR UPDATE",
  placeholders: numberedPlaceholders,
});
