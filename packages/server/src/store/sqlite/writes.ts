import type Database from "better-sqlite3";
import { AgentdError } from "../../errors.js";
import { insertRunQuery } from "../operations/runs.js";
import { RUN_SPANS } from "../schema/tables.js";
import type { CommitBatch, CommitResult, SessionPatch, StoredEvent } from "../types.js";
import { writeError } from "./constraints.js";
import type { SqliteDriver } from "./driver.js";
import type { SqliteLeases } from "./leases.js";
import { runPatchWriter, sessionPatchWriter } from "./patches.js";

/**
 * The group commit of the embedded store, and session patches. The caller
 * runs a commit inside a write transaction (store.ts), one per event-loop
 * turn of the engine's batching: everything here is synchronous.
 */
export class SqliteWrites {
  readonly #runPatches;
  readonly #sessionPatches;
  readonly #insertEvent;
  readonly #upsertSpan;

  constructor(
    db: Database.Database,
    private readonly driver: SqliteDriver,
    private readonly leases: SqliteLeases,
  ) {
    this.#runPatches = runPatchWriter(db);
    this.#sessionPatches = sessionPatchWriter(db);
    // One row per statement run: SQLite has no round trips to save, and a cached single-row INSERT is its fastest write.
    this.#insertEvent = db.prepare<[runId: string, seq: number, type: string, data: string]>(
      "INSERT INTO run_events (run_id, seq, type, data) VALUES (?, ?, ?, ?)",
    );
    // A span is written when it opens and again when it closes: the second write replaces the first.
    this.#upsertSpan = db.prepare<unknown[]>(
      `INSERT INTO run_spans (${RUN_SPANS.insertColumns}) VALUES (${Array.from({ length: RUN_SPANS.insertCount }, () => "?").join(", ")})
       ON CONFLICT (run_id, span_id) DO UPDATE SET parent_span_id = excluded.parent_span_id, name = excluded.name,
       kind = excluded.kind, attempt = excluded.attempt, started_at = excluded.started_at, ended_at = excluded.ended_at,
       status = excluded.status, error = excluded.error, attributes = excluded.attributes`,
    );
  }

  commit(batch: CommitBatch): CommitResult {
    for (const run of batch.newRuns ?? []) this.driver.send(insertRunQuery(run));
    // A zombie's writes (its lease moved on) are left out; the rest of the batch commits.
    const fenced = this.leases.fenced(batch.fences ?? []);
    const skip = new Set(fenced);
    let event: StoredEvent | undefined;
    try {
      for (event of batch.events) {
        if (!skip.has(event.runId)) this.#insertEvent.run(event.runId, event.seq, event.type, event.data);
      }
    } catch (error) {
      // A duplicate seq means two writers think they own the run: the whole
      // batch is refused (rolled back), never written over a log a client may have read.
      throw writeError(error, {
        duplicate: `event ${event?.seq} of run ${event?.runId} is already stored`,
        missingParent: `run ${event?.runId} not found`,
      });
    }
    for (const span of batch.spans ?? []) {
      if (!skip.has(span.runId)) this.#upsertSpan.run(RUN_SPANS.values(span));
    }
    for (const { runId, patch } of batch.runs) {
      if (!skip.has(runId) && this.#runPatches.apply(runId, patch) === 0) throw new AgentdError("not_found", `run ${runId} not found`);
    }
    for (const { sessionId, patch } of batch.sessions) this.patchSession(sessionId, patch);
    return { fenced };
  }

  patchSession(sessionId: string, patch: SessionPatch): void {
    if (this.#sessionPatches.apply(sessionId, patch) === 0) throw new AgentdError("not_found", `session ${sessionId} not found`);
  }
}
