import type { Pool, PoolClient } from "pg";
import { AgentdError } from "../../errors.js";
import { unavailable } from "./errors.js";

/**
 * Makes this process the one executing runs from the database (Store.lockWorker):
 * a session-level advisory lock on a connection of its own, held until released.
 * `schema` is the quoted schema name, which keys the lock.
 */
export async function lockWorker(pool: Pool, schema: string): Promise<() => Promise<void>> {
  const key = `agentd-worker:${schema}`;
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(error);
  }
  try {
    const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS locked", [key]);
    if (!rows[0]?.locked) {
      throw new AgentdError(
        "conflict",
        `another agentd process is serving this database (schema ${schema}); one executing process per database until the engine runs under leases (issue #4)`,
      );
    }
  } catch (error) {
    client.release();
    throw error;
  }
  return async () => {
    try {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]);
    } finally {
      client.release();
    }
  };
}
