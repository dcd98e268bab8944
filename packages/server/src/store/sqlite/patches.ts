import type Database from "better-sqlite3";
import type { RunPatch, SessionPatch } from "../types.js";
import { columnNames, RUN_COLUMNS, SESSION_COLUMNS, type Column } from "../patch-columns.js";
import { withoutNul } from "./rows.js";

/**
 * Writes only the fields present in a patch (an `undefined` value means
 * "absent", `null` means "set to null"). One UPDATE is prepared per distinct
 * set of fields and cached: the engine uses a handful of shapes over and
 * over, so after warm-up a patch costs one cached statement run.
 */
export class PatchWriter<P extends object> {
  readonly #statements = new Map<string, Database.Statement<unknown[]>>();

  constructor(
    private readonly db: Database.Database,
    private readonly table: string,
    private readonly columns: Record<keyof P & string, Column>,
  ) {}

  /** Returns the number of rows changed (0: no such id), or -1 for an empty patch. */
  apply(id: string, patch: P): number {
    const keys: string[] = [];
    for (const key in patch) {
      if (patch[key] === undefined) continue;
      if (!Object.hasOwn(this.columns, key)) throw new TypeError(`${this.table}: "${key}" is not a patchable field`);
      keys.push(key);
    }
    if (keys.length === 0) return -1;
    keys.sort();
    const shape = keys.join(",");
    let statement = this.#statements.get(shape);
    if (statement === undefined) {
      const sets = keys.flatMap((key) => columnNames(this.#column(key)).map((name) => `${name} = ?`)).join(", ");
      statement = this.db.prepare<unknown[]>(`UPDATE ${this.table} SET ${sets} WHERE id = ?`);
      this.#statements.set(shape, statement);
    }
    const values: unknown[] = keys.flatMap((key) => {
      const value = patch[key as keyof P];
      const { json, text, derived = [] } = this.#column(key);
      const stored = json ? JSON.stringify(value) : text === true ? withoutNul(value as string | null) : value;
      return [stored, ...derived.map((column) => column.value(value as never))];
    });
    values.push(id);
    return statement.run(...values).changes;
  }

  #column(key: string): Column {
    return this.columns[key as keyof P & string];
  }
}

export const runPatchWriter = (db: Database.Database) => new PatchWriter<RunPatch>(db, "runs", RUN_COLUMNS);
export const sessionPatchWriter = (db: Database.Database) => new PatchWriter<SessionPatch>(db, "sessions", SESSION_COLUMNS);
