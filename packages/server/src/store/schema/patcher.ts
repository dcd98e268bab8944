import { columnNames, encode, type Column, type Table } from "./columns.js";

/** One patch as a dialect writes it: `shape` names the set of fields (the dialect caches its UPDATE by it). */
export interface PatchParts {
  shape: string;
  /** The fields present, sorted: `columns(keys)` gives the SET list of the shape. */
  keys: string[];
  /** The SET values, in `columns(keys)` order. */
  values: unknown[];
}

/**
 * Reads a patch (an `undefined` value means "absent", `null` means "set to
 * null") into what any dialect's UPDATE needs. Shared, so both stores accept
 * and refuse the same fields and store values alike.
 */
export class Patcher<P extends object> {
  readonly #columns: Record<string, Column>;

  constructor(
    readonly table: Table<object>,
    patchable: { readonly [K in keyof P]-?: true },
  ) {
    const fields = table.fields as Record<string, Column>;
    this.#columns = Object.fromEntries(Object.keys(patchable).map((key) => [key, fields[key]!]));
  }

  /** Undefined for an empty patch; a TypeError for a field that is not patchable. */
  parts(patch: P): PatchParts | undefined {
    const keys: string[] = [];
    for (const key in patch) {
      if (patch[key] === undefined) continue;
      if (!Object.hasOwn(this.#columns, key)) throw new TypeError(`${this.table.name}: "${key}" is not a patchable field`);
      keys.push(key);
    }
    if (keys.length === 0) return undefined;
    keys.sort();
    const values: unknown[] = [];
    for (const key of keys) {
      const column = this.#columns[key]!;
      const value = patch[key as keyof P];
      values.push(encode(column, value));
      if (column.derived !== undefined) for (const derived of column.derived) values.push(derived.value(value as never));
    }
    return { shape: keys.join(","), keys, values };
  }

  /** The columns a shape writes, in value order. */
  columns(keys: string[]): string[] {
    return keys.flatMap((key) => columnNames(this.#columns[key]!));
  }
}
