/*
 * A table as the code sees it, declared once for both dialects: which
 * column holds each field of a record and how its value is stored. From it
 * come the SELECT list (aliased to the record's field names), the INSERT
 * column list and values, the row -> record mapping and the patchable
 * columns. Adding a column is one entry here, plus a migration per dialect.
 */

/** How a field is stored: as is, as JSON text, or as free text (NUL replaced: PostgreSQL text cannot hold it). */
export type Codec = "plain" | "json" | "text";

export interface Column {
  /** The SQL column (snake_case). */
  name: string;
  codec: Codec;
  /** Written by INSERT. False for a column only one statement sets (`cancel_requested`): it starts NULL. @default true */
  insert?: boolean;
  /** Columns computed from the field's value, written with it by the store, so no caller can forget them. Never selected. */
  derived?: ReadonlyArray<{ name: string; value: (field: never) => unknown }>;
}

export const plain = (name: string, options: Omit<Column, "name" | "codec"> = {}): Column => ({ name, codec: "plain", ...options });
export const json = (name: string, options: Omit<Column, "name" | "codec"> = {}): Column => ({ name, codec: "json", ...options });
export const freeText = (name: string, options: Omit<Column, "name" | "codec"> = {}): Column => ({ name, codec: "text", ...options });

/**
 * `value` with NUL replaced by U+FFFD (model output, error messages).
 * PostgreSQL text cannot hold NUL; SQLite does the same, so a record reads
 * back alike from either store (store contract).
 */
export function withoutNul<T extends string | null | undefined>(value: T): T {
  return (typeof value === "string" && value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value) as T;
}

/** A field's value as it is bound to SQL. */
export function encode(column: Column, value: unknown): unknown {
  if (column.codec === "json") return JSON.stringify(value);
  if (column.codec === "text") return withoutNul(value as string | null);
  return value;
}

/** The column and its derived ones, in the order their values are bound. */
export const columnNames = (column: Column): string[] => [column.name, ...(column.derived ?? []).map((derived) => derived.name)];

export interface Table<R extends object> {
  readonly name: string;
  readonly fields: { readonly [K in keyof R]: Column };
  /** `id, workspace_id AS "workspaceId", ...`: rows come back keyed by field name (quoted: PostgreSQL folds bare aliases). */
  readonly select: string;
  /** The same, qualified by a table alias (`k.id, k.workspace_id AS "workspaceId"`), for joins. */
  selectFrom(alias: string): string;
  /** The INSERT column list, derived columns included. */
  readonly insertColumns: string;
  /** How many values `values` gives. */
  readonly insertCount: number;
  /** The INSERT's values, in `insertColumns` order; built field by field, so extra properties never reach SQL. */
  values(record: R): unknown[];
  /** A selected row as a record: JSON columns parsed. */
  fromRow(row: object): R;
}

export function table<R extends object>(name: string, fields: { readonly [K in keyof R]: Column }): Table<R> {
  const entries = Object.entries(fields) as Array<[keyof R & string, Column]>;
  const selected = (alias: string) =>
    entries.map(([field, column]) => (column.name === field ? `${alias}${field}` : `${alias}${column.name} AS "${field}"`)).join(", ");
  const inserted = entries.filter(([, column]) => column.insert !== false);
  const insertColumns = inserted.flatMap(([, column]) => columnNames(column));
  const jsonFields = entries.filter(([, column]) => column.codec === "json").map(([field]) => field);
  return {
    name,
    fields,
    select: selected(""),
    selectFrom: (alias) => selected(`${alias}.`),
    insertColumns: insertColumns.join(", "),
    insertCount: insertColumns.length,
    values: (record) => {
      // A loop, not flatMap: this runs for every inserted run (the hot path of short runs).
      const values: unknown[] = [];
      for (const [field, column] of inserted) {
        const value = record[field];
        values.push(encode(column, value));
        if (column.derived !== undefined) for (const derived of column.derived) values.push(derived.value(value as never));
      }
      return values;
    },
    fromRow: (row) => {
      const record = { ...row } as Record<string, unknown>;
      for (const field of jsonFields) record[field] = JSON.parse(record[field] as string);
      return record as R;
    },
  };
}
