import type { Patcher } from "../schema/patcher.js";
import { RUN_PATCH, SESSION_PATCH } from "../schema/tables.js";
import type { RunPatch, SessionPatch } from "../types.js";
import type { Statement } from "./connection.js";

/** The lease a fenced patch requires (issue #4). */
export interface Guard {
  workerId: string;
  epoch: number;
}

/**
 * Builds the UPDATE for the fields present in a patch (schema/patcher.ts
 * reads it). Each distinct set of fields
 * is one named prepared statement: the engine uses a handful of shapes over
 * and over, so after warm-up a patch is parsed by no one.
 */
export class PatchBuilder<P extends object> {
  /** SQL text and statement name per shape (sorted field names). */
  readonly #shapes = new Map<string, { name: string; text: string }>();

  constructor(
    private readonly schema: string,
    /** What a row is called in a not_found message. */
    private readonly noun: string,
    private readonly patcher: Patcher<P>,
  ) {}

  /**
   * The UPDATE, failing with not_found when no row has this id; undefined
   * for an empty patch. With a guard (runs only), the UPDATE matches only
   * while the row's lease is that one and is skipped otherwise, not an
   * error: the commit reports the run as fenced.
   */
  build(id: string, patch: P, guard?: Guard): Statement | undefined {
    const parts = this.patcher.parts(patch);
    if (parts === undefined) return undefined;
    const table = this.patcher.table.name;
    const shape = `${guard === undefined ? "" : "guarded:"}${parts.shape}`;
    let statement = this.#shapes.get(shape);
    if (statement === undefined) {
      const names = this.patcher.columns(parts.keys);
      const sets = names.map((name, index) => `${name} = $${index + 1}`).join(", ");
      const at = names.length + 1;
      const text =
        guard === undefined
          ? `WITH patched AS (UPDATE ${this.schema}.${table} SET ${sets} WHERE id = $${at} RETURNING 1) ` +
            `SELECT ${this.schema}.agentd_expect_row(count(*)) FROM patched`
          : `UPDATE ${this.schema}.${table} SET ${sets} WHERE id = $${at} AND owner_id = $${at + 1} AND lease_epoch = $${at + 2}`;
      statement = { name: `agentd_patch_${table}_${this.#shapes.size}`, text };
      this.#shapes.set(shape, statement);
    }
    const values = parts.values;
    values.push(id);
    if (guard !== undefined) values.push(guard.workerId, guard.epoch);
    return { ...statement, values, violation: { missingRow: `${this.noun} ${id} not found` } };
  }
}

export const runPatches = (schema: string) => new PatchBuilder<RunPatch>(schema, "run", RUN_PATCH);
export const sessionPatches = (schema: string) => new PatchBuilder<SessionPatch>(schema, "session", SESSION_PATCH);
