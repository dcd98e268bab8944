import type { RunPatch, SessionPatch } from "../types.js";
import { columnNames, RUN_COLUMNS, SESSION_COLUMNS, type Column } from "../patch-columns.js";
import type { Statement } from "./connection.js";
import { withoutNul } from "./rows.js";

/** The lease a fenced patch requires (issue #4). */
export interface Guard {
  workerId: string;
  epoch: number;
}

/**
 * Builds the UPDATE for the fields present in a patch (an `undefined` value
 * means "absent", `null` means "set to null"). Each distinct set of fields
 * is one named prepared statement: the engine uses a handful of shapes over
 * and over, so after warm-up a patch is parsed by no one.
 */
export class PatchBuilder<P extends object> {
  /** SQL text and statement name per shape (sorted field names). */
  readonly #shapes = new Map<string, { name: string; text: string }>();

  constructor(
    private readonly schema: string,
    private readonly table: string,
    /** What a row is called in a not_found message. */
    private readonly noun: string,
    private readonly columns: Record<keyof P & string, Column>,
  ) {}

  /**
   * The UPDATE, failing with not_found when no row has this id; undefined
   * for an empty patch. With a guard (runs only), the UPDATE matches only
   * while the row's lease is that one and is skipped otherwise, not an
   * error: the commit reports the run as fenced.
   */
  build(id: string, patch: P, guard?: Guard): Statement | undefined {
    const keys: string[] = [];
    for (const key in patch) {
      if (patch[key] === undefined) continue;
      if (!Object.hasOwn(this.columns, key)) throw new TypeError(`${this.table}: "${key}" is not a patchable field`);
      keys.push(key);
    }
    if (keys.length === 0) return undefined;
    keys.sort();
    const shape = `${guard === undefined ? "" : "guarded:"}${keys.join(",")}`;
    let statement = this.#shapes.get(shape);
    if (statement === undefined) {
      const names = keys.flatMap((key) => columnNames(this.#column(key)));
      const sets = names.map((name, index) => `${name} = $${index + 1}`).join(", ");
      const at = names.length + 1;
      const text =
        guard === undefined
          ? `WITH patched AS (UPDATE ${this.schema}.${this.table} SET ${sets} WHERE id = $${at} RETURNING 1) ` +
            `SELECT ${this.schema}.agentd_expect_row(count(*)) FROM patched`
          : `UPDATE ${this.schema}.${this.table} SET ${sets} WHERE id = $${at} AND owner_id = $${at + 1} AND lease_epoch = $${at + 2}`;
      statement = { name: `agentd_patch_${this.table}_${this.#shapes.size}`, text };
      this.#shapes.set(shape, statement);
    }
    const values: unknown[] = keys.flatMap((key) => {
      const value = patch[key as keyof P];
      const { json, text, derived = [] } = this.#column(key);
      const stored = json ? JSON.stringify(value) : text === true ? withoutNul(value as string | null) : value;
      return [stored, ...derived.map((column) => column.value(value as never))];
    });
    values.push(id);
    if (guard !== undefined) values.push(guard.workerId, guard.epoch);
    return { ...statement, values, violation: { missingRow: `${this.noun} ${id} not found` } };
  }

  #column(key: string): Column {
    return this.columns[key as keyof P & string];
  }
}

export const runPatches = (schema: string) => new PatchBuilder<RunPatch>(schema, "runs", "run", RUN_COLUMNS);
export const sessionPatches = (schema: string) => new PatchBuilder<SessionPatch>(schema, "sessions", "session", SESSION_COLUMNS);
