import type { StoredEvent } from "../types.js";
import type { Query } from "../sql/operation.js";
import { statements as sharedStatements, type StatementId } from "../sql/statements.js";
import type { Statement } from "./connection.js";
import { postgresDialect } from "./dialect.js";
import type { Fence } from "../sql/fences.js";
import { fenceArrays } from "./leases.js";

/**
 * The shared statements (sql/statements.ts) rendered for PostgreSQL, plus
 * the group commit's event insert, which is PostgreSQL's own: all named
 * prepared statements, so each connection parses and plans one once, then
 * only binds values. `s` is the quoted schema name.
 */
export function statements(s: string) {
  const named =
    (name: string, text: string) =>
    (values: unknown[]): Statement => ({ name: `agentd_${name}`, text, values });
  const dialect = postgresDialect(s);
  const shared = Object.fromEntries(
    Object.entries(sharedStatements(dialect)).map(([id, text]) => [id, named(snakeCase(id), dialect.placeholders(text))]),
  ) as Record<StatementId, (values: unknown[]) => Statement>;
  // The whole batch is one INSERT: four arrays unnested side by side into rows.
  const insertEvents = named(
    "insert_events",
    `INSERT INTO ${s}.run_events (run_id, seq, type, data) SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[])`,
  );
  // With fences (issue #4): an event of a fenced run is kept only if the run's
  // lease is still the one named (leases.ts `hold` explains why this
  // re-check agrees with it); events of other runs go in unconditionally.
  const insertFencedEvents = named(
    "insert_fenced_events",
    `INSERT INTO ${s}.run_events (run_id, seq, type, data)
     SELECT e.run_id, e.seq, e.type, e.data FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[]) AS e(run_id, seq, type, data)
     WHERE e.run_id <> ALL($5::text[]) OR EXISTS (
       SELECT 1 FROM ${s}.runs r JOIN unnest($5::text[], $6::text[], $7::integer[]) AS f(run_id, worker_id, epoch) ON r.id = f.run_id
       WHERE r.id = e.run_id AND r.owner_id = f.worker_id AND r.lease_epoch = f.epoch)`,
  );
  return {
    ...shared,
    /** A shared operation's query as the statement to send. */
    // A statement built per call (run listing) is sent unnamed: its text varies with the filters given.
    query: (query: Query): Statement =>
      query.text === undefined
        ? { ...shared[query.statement](query.params), violation: query.violation }
        : { text: query.text, values: query.params, violation: query.violation },
    insertEvents: (events: StoredEvent[], fences: Fence[] = []): Statement => {
      const runIds = [...new Set(events.map((event) => event.runId))].join(", ");
      const columns = [events.map((e) => e.runId), events.map((e) => e.seq), events.map((e) => e.type), events.map((e) => e.data)];
      return {
        ...(fences.length === 0 ? insertEvents(columns) : insertFencedEvents([...columns, ...fenceArrays(fences)])),
        // Which event broke the rule is only in the error's message text,
        // which is not parsed: the message names the batch's runs.
        violation: {
          duplicate: `an event of this batch is already stored (runs ${runIds})`,
          missingParent: `run not found (one of ${runIds})`,
        },
      };
    },
  };
}

/** `insertRun` -> `insert_run`: statement names as pg_prepared_statements shows them (`agentd_insert_run`). */
const snakeCase = (id: string): string => id.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export type Statements = ReturnType<typeof statements>;
