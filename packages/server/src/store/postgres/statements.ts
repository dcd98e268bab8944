import { RUN_SPANS } from "../schema/tables.js";
import type { SpanRecord, StoredEvent } from "../types.js";
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
  // Spans likewise, as one INSERT of parallel arrays (RUN_SPANS' column order);
  // a span written again (closed) replaces its row. Fenced runs' spans are
  // kept only while their lease is the one named, as their events are.
  const spanArrays = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
     AS p(run_id, span_id, parent_span_id, name, kind, attempt, started_at, ended_at, status, error, attributes)`;
  const spanUpsert = `ON CONFLICT (run_id, span_id) DO UPDATE SET parent_span_id = excluded.parent_span_id, name = excluded.name,
     kind = excluded.kind, attempt = excluded.attempt, started_at = excluded.started_at, ended_at = excluded.ended_at,
     status = excluded.status, error = excluded.error, attributes = excluded.attributes`;
  const insertSpans = named(
    "insert_spans",
    `INSERT INTO ${s}.run_spans (${RUN_SPANS.insertColumns}) SELECT * FROM ${spanArrays} ${spanUpsert}`,
  );
  const insertFencedSpans = named(
    "insert_fenced_spans",
    `INSERT INTO ${s}.run_spans (${RUN_SPANS.insertColumns}) SELECT p.* FROM ${spanArrays}
     WHERE p.run_id <> ALL($12::text[]) OR EXISTS (
       SELECT 1 FROM ${s}.runs r JOIN unnest($12::text[], $13::text[], $14::integer[]) AS f(run_id, worker_id, epoch) ON r.id = f.run_id
       WHERE r.id = p.run_id AND r.owner_id = f.worker_id AND r.lease_epoch = f.epoch)
     ${spanUpsert}`,
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
    insertSpans: (spans: SpanRecord[], fences: Fence[] = []): Statement => {
      const columns: unknown[][] = Array.from({ length: RUN_SPANS.insertCount }, () => []);
      for (const span of spans) {
        const values = RUN_SPANS.values(span);
        for (let index = 0; index < values.length; index++) columns[index]!.push(values[index]);
      }
      return {
        ...(fences.length === 0 ? insertSpans(columns) : insertFencedSpans([...columns, ...fenceArrays(fences)])),
        violation: { missingParent: `run not found (one of ${[...new Set(spans.map((span) => span.runId))].join(", ")})` },
      };
    },
  };
}

/** `insertRun` -> `insert_run`: statement names as pg_prepared_statements shows them (`agentd_insert_run`). */
const snakeCase = (id: string): string => id.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export type Statements = ReturnType<typeof statements>;
