import type { Pool, PoolClient } from "pg";
import { unavailable } from "./errors.js";

/** The first half of the two-part advisory lock key, as migrations.ts LOCK_CLASS; the second is the task's and schema's hash. */
const LOCK_CLASS = 0x61_67_64; // "agd"

/**
 * A housekeeping task's lock (Store.lockTask) across every process on the
 * database: a transaction-scoped advisory lock, tried (never waited for) on
 * a pooled connection that stays in its transaction until released. Not a
 * session lock: through a transaction-mode pooler (PgBouncer) a session
 * lock can be taken and released on different server connections and stay
 * held (docs/scaling.md); a transaction keeps its server connection, and
 * the lock ends with it, also when this process dies. The transaction only
 * ran a SELECT, under READ COMMITTED: it holds no snapshot between
 * statements, so it does not hold back VACUUM while it waits.
 * `schema` is the quoted schema name.
 */
export async function lockTask(pool: Pool, schema: string, task: string): Promise<(() => Promise<void>) | undefined> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(error);
  }
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on("error", onError);
  const done = (destroy: boolean) => {
    client.off("error", onError);
    client.release(destroy || lost);
  };
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked", [
      LOCK_CLASS,
      `${task}:${schema}`,
    ]);
    if (rows[0]?.locked !== true) {
      await client.query("ROLLBACK");
      done(false);
      return undefined;
    }
  } catch (error) {
    done(true);
    throw lost ? unavailable(error) : error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // COMMIT ends the lock; if it fails the connection is dropped, which ends it too.
    const ended = await client.query("COMMIT").then(
      () => true,
      () => false,
    );
    done(!ended);
  };
}
