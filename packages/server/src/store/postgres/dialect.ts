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
  oneOf: (column, values) => ({ sql: `${column} = ANY(?::text[])`, params: [values] }),
  // Containment of one object is the AND of its pairs; keys are plain keys
  // (a dot is part of the key, not a path) and values compare exactly.
  jsonHas: (column, pairs) =>
    pairs.length === 0 ? [] : [{ sql: `${column}::jsonb @> ?::jsonb`, params: [JSON.stringify(Object.fromEntries(pairs))] }],
  placeholders: numberedPlaceholders,
});
