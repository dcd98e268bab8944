import type Database from "better-sqlite3";
import { AgentdError } from "../../errors.js";
import type { CommitBatch, CommitResult, RunRecord, SessionPatch, StoredEvent } from "../types.js";
import { writeError } from "./constraints.js";
import type { SqliteLeases } from "./leases.js";
import { runPatchWriter, sessionPatchWriter } from "./patches.js";
import { RUNS } from "../schema/tables.js";
import type { Statements } from "./statements.js";

/**
 * The multi-statement writes of the store: a group commit and a run insert
 * that claims its session. Callers run them inside a transaction.
 */
export class SqliteWrites {
  readonly #runPatches;
  readonly #sessionPatches;

  constructor(
    db: Database.Database,
    private readonly sql: Statements,
    private readonly leases: SqliteLeases,
  ) {
    this.#runPatches = runPatchWriter(db);
    this.#sessionPatches = sessionPatchWriter(db);
  }

  commit(batch: CommitBatch): CommitResult {
    for (const run of batch.newRuns ?? []) this.insertRun(run, undefined);
    // A zombie's writes (its lease moved on) are left out; the rest of the batch commits.
    const fenced = this.leases.fenced(batch.fences ?? []);
    const skip = new Set(fenced);
    let event: StoredEvent | undefined;
    try {
      for (event of batch.events) {
        if (!skip.has(event.runId)) this.sql.insertEvent.run(event.runId, event.seq, event.type, event.data);
      }
    } catch (error) {
      // A duplicate seq means two writers think they own the run: the whole
      // batch is refused (rolled back), never written over a log a client may have read.
      throw writeError(error, {
        duplicate: `event ${event?.seq} of run ${event?.runId} is already stored`,
        missingParent: `run ${event?.runId} not found`,
      });
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

  insertRun(run: RunRecord, claimSession: string | undefined): void {
    if (claimSession !== undefined) {
      const session = this.sql.sessionClaimState.get(run.workspaceId, claimSession);
      if (session === undefined) throw new AgentdError("not_found", `session ${claimSession} not found`);
      if (session.status === "ended") throw new AgentdError("session_ended", `session ${claimSession} has ended`);
      if (session.activeRunId !== null) {
        throw new AgentdError("session_busy", `session ${claimSession} already has a run in progress (${session.activeRunId})`);
      }
      this.sql.claimSession.run(run.id, claimSession);
    }
    try {
      this.sql.insertRun.run(...RUNS.values(run));
    } catch (error) {
      throw writeError(error, { duplicate: `run ${run.id} already exists`, missingParent: `workspace ${run.workspaceId} not found` });
    }
  }
}
