import type { Pool } from "pg";
import type { Answer, Operation } from "../sql/operation.js";
import { BEGIN, COMMIT, rollback, send, withClient } from "./connection.js";
import type { Statements } from "./statements.js";

/**
 * Runs a shared operation on one pooled connection: each batch it yields is
 * one pipelined, corked round trip (connection.ts `send`). In a
 * transaction, BEGIN goes out with the first batch and COMMIT with the one
 * marked `last` (or after the operation returns); any failure rolls back.
 */
export async function execute<T>(pool: Pool, sql: Statements, operation: Operation<T>, transaction: boolean): Promise<T> {
  return withClient(pool, async (client) => {
    let begun = false;
    let committed = false;
    try {
      let step = operation.next();
      while (!step.done) {
        if (committed) throw new TypeError("an operation sent statements after the last of its transaction");
        const { queries, last } = step.value;
        const statements = queries.map(sql.query);
        const begin: boolean = transaction && !begun;
        const commit: boolean = transaction && last === true;
        if (begin) statements.unshift(BEGIN);
        if (commit) statements.push(COMMIT);
        begun ||= begin;
        committed ||= commit;
        const results = await send(client, statements);
        const answers: Answer[] = results
          .slice(begin ? 1 : 0, commit ? -1 : undefined)
          .map((result) => ({ rows: result.rows, changes: result.rowCount ?? 0 }));
        step = operation.next(answers);
      }
      if (begun && !committed) await send(client, [COMMIT]);
      return step.value;
    } catch (error) {
      if (transaction) await rollback(client);
      throw error;
    }
  });
}
