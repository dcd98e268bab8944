import { DatabaseError, type Pool, type PoolClient, type QueryResult } from "pg";
import { AgentdError } from "../../errors.js";
import { isUnavailableCode, statementError, unavailable, type ViolationMessages } from "./errors.js";

/** One SQL statement, plus what to say if it breaks a unique or foreign key rule or finds no row. */
export interface Statement {
  /** Name of a server-side prepared statement: parsed once per connection, not per call. */
  name?: string;
  text: string;
  values?: unknown[];
  violation?: ViolationMessages;
}

export const BEGIN: Statement = { text: "BEGIN" };
export const COMMIT: Statement = { text: "COMMIT" };

/**
 * Runs `work` on one pooled connection. Failing to get a connection, or
 * losing it mid-way (the client emits "error"), is `unavailable`; a
 * connection that is lost or left inside a transaction is destroyed, never
 * handed to the next caller.
 */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    // Refused, timed out, server starting or full: retrying later can work.
    // A rejected login (28P01) or a missing database (3D000) is a
    // configuration error instead, kept as is for the operator.
    throw error instanceof DatabaseError && !isUnavailableCode(error.code) ? error : unavailable(error);
  }
  let lost: Error | undefined;
  // Without a listener, a socket error on a checked-out client would be an
  // uncaught exception (pg-pool only listens while the client is idle).
  const onError = (error: Error) => {
    lost = error;
  };
  client.on("error", onError);
  try {
    return await work(client);
  } catch (error) {
    // A domain error was decided from the server's answer before the loss.
    throw lost !== undefined && !(error instanceof AgentdError) ? unavailable(lost) : error;
  } finally {
    client.off("error", onError);
    const status = client.getTransactionStatus();
    client.release(lost ?? (status === "T" || status === "E"));
  }
}

/**
 * Sends the statements back to back and waits for all of them. The pool is
 * in pg's pipeline mode, so this is one network round trip however many
 * statements there are. Throws the first failure, mapped to a domain error:
 * the statements after a failed one inside a transaction fail too (25P02),
 * which says nothing about the cause.
 */
export async function send(client: PoolClient, statements: Statement[]): Promise<QueryResult[]> {
  // pg writes each pipelined statement with a syscall of its own; corked, the
  // whole batch (BEGIN ... COMMIT) leaves in one write. Measured on the
  // cluster benchmark: these writes were the largest single cost of a run.
  // `connection.stream` is pg's socket, not public API: without it, this is a no-op.
  const socket = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  const corked = statements.length > 1 && typeof socket?.cork === "function" && typeof socket.uncork === "function";
  if (corked) socket!.cork!();
  let queries: Array<Promise<QueryResult>>;
  try {
    queries = statements.map(({ name, text, values }) => client.query(name === undefined ? { text, values } : { name, text, values }));
  } finally {
    if (corked) socket!.uncork!();
  }
  const settled = await Promise.allSettled(queries);
  const failed = settled.findIndex((outcome) => outcome.status === "rejected");
  if (failed >= 0) throw statementError((settled[failed] as PromiseRejectedResult).reason, statements[failed]!.violation);
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<QueryResult>).value);
}

/** Sends one statement and returns its rows. */
export async function rows<R>(client: PoolClient, statement: Statement): Promise<R[]> {
  const [result] = await send(client, [statement]);
  return result!.rows as R[];
}

/**
 * Ends a failed transaction, if it is still open (a COMMIT sent after a
 * failed statement already ended it as a rollback). If even ROLLBACK fails,
 * the connection is left inside the transaction and `withClient` destroys it
 * on release.
 */
export async function rollback(client: PoolClient): Promise<void> {
  const status = client.getTransactionStatus();
  if (status === "T" || status === "E") await client.query("ROLLBACK").catch(() => undefined);
}
