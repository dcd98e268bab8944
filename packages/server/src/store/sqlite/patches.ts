import type Database from "better-sqlite3";
import type { Patcher } from "../schema/patcher.js";
import { RUN_PATCH, SESSION_PATCH } from "../schema/tables.js";
import type { RunPatch, SessionPatch } from "../types.js";

/**
 * Writes only the fields present in a patch (schema/patcher.ts reads it).
 * One UPDATE is prepared per distinct set of fields and cached: the engine
 * uses a handful of shapes over and over, so after warm-up a patch costs one
 * cached statement run.
 */
export class PatchWriter<P extends object> {
  readonly #statements = new Map<string, Database.Statement<unknown[]>>();

  constructor(
    private readonly db: Database.Database,
    private readonly patcher: Patcher<P>,
  ) {}

  /** Returns the number of rows changed (0: no such id), or -1 for an empty patch. */
  apply(id: string, patch: P): number {
    const parts = this.patcher.parts(patch);
    if (parts === undefined) return -1;
    let statement = this.#statements.get(parts.shape);
    if (statement === undefined) {
      const sets = this.patcher
        .columns(parts.keys)
        .map((name) => `${name} = ?`)
        .join(", ");
      statement = this.db.prepare<unknown[]>(`UPDATE ${this.patcher.table.name} SET ${sets} WHERE id = ?`);
      this.#statements.set(parts.shape, statement);
    }
    parts.values.push(id);
    return statement.run(...parts.values).changes;
  }
}

export const runPatchWriter = (db: Database.Database) => new PatchWriter<RunPatch>(db, RUN_PATCH);
export const sessionPatchWriter = (db: Database.Database) => new PatchWriter<SessionPatch>(db, SESSION_PATCH);
