import { randomBytes } from "node:crypto";
import { escapeIdentifier, Pool, type PoolClient } from "pg";
import type { Dialect } from "../sql/dialect.js";
import type { Operation } from "../sql/operation.js";
import { SqlStore } from "../sql/sql-store.js";
import type { CommitBatch, CommitResult, SessionPatch, Store } from "../types.js";
import { buildCommit } from "./commit.js";
import { BEGIN, COMMIT, rollback, rows, send, withClient, type Statement } from "./connection.js";
import { postgresDialect } from "./dialect.js";
import { execute } from "./driver.js";
import { idempotencyStatements, PostgresIdempotency } from "./idempotency.js";
import { leaseStatements, PostgresLeases, type LeaseStatements } from "./leases.js";
import { migrate } from "./migrations.js";
import { lockWorker } from "./worker-lock.js";
import { lockTask } from "./task-lock.js";
import { runPatches, sessionPatches } from "./patches.js";
import { statements, type Statements } from "./statements.js";

export interface PostgresStoreOptions {
  /** Connection string, e.g. `postgres://agentd@db.internal:5432/agentd`. */
  databaseUrl: string;
  /** Schema holding agentd's tables, created if missing. Lower-case letters, digits, `_`. @default "agentd" */
  schema?: string;
  /** Most connections this store holds open at once. @default 10 */
  poolSize?: number;
  /** How long to wait for a connection before answering `unavailable`, in milliseconds. @default 5_000 */
  connectTimeoutMs?: number;
}

/**
 * The scale-out store: PostgreSQL through a `pg.Pool` in pipeline mode: the
 * statements of one call go out back to back, so a group commit (BEGIN,
 * writes, COMMIT) is one network round trip. Same semantics and errors as
 * SqliteStore; every instance pointing at one database shares its state.
 * The domain operations are shared (sql/sql-store.ts); what is
 * PostgreSQL's own is here.
 */
export class PostgresStore extends SqlStore implements Store {
  readonly kind = "postgres";
  protected readonly dialect: Dialect;
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #sql: Statements;
  readonly #leaseSql: LeaseStatements;
  protected readonly leases: PostgresLeases;
  protected readonly idempotency: PostgresIdempotency;
  readonly #runPatches;
  readonly #sessionPatches;
  #closed = false;

  private constructor(pool: Pool, quotedSchema: string) {
    super();
    this.#pool = pool;
    this.#schema = quotedSchema;
    this.dialect = postgresDialect(quotedSchema);
    this.#sql = statements(quotedSchema);
    this.#leaseSql = leaseStatements(quotedSchema);
    this.leases = new PostgresLeases(this.#leaseSql, (statement) => this.#rows(statement));
    this.idempotency = new PostgresIdempotency(idempotencyStatements(quotedSchema), (sent) => this.#use((client) => send(client, sent)));
    this.#runPatches = runPatches(quotedSchema);
    this.#sessionPatches = sessionPatches(quotedSchema);
  }

  /** Connects, brings the schema up to date (safe when many processes start at once) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? "agentd";
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new TypeError(`invalid schema name "${schema}": use lower-case letters, digits and _`);
    const pool = new Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      pipeline: true,
    });
    // An idle connection the server drops (restart, idle timeout) is removed
    // by the pool and replaced on next use; without a listener the "error"
    // event would crash the process. Failures of work in progress surface on
    // the call that was using the connection.
    pool.on("error", () => undefined);
    const quotedSchema = escapeIdentifier(schema);
    try {
      await withClient(pool, (client) => migrate(client, quotedSchema, schema));
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool, quotedSchema);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /** A session-level advisory lock on a connection of its own, held until released. */
  async lockWorker(): Promise<() => Promise<void>> {
    return lockWorker(this.#pool, this.#schema);
  }

  /** A transaction-scoped advisory lock on a pooled connection of its own, held until released (task-lock.ts). */
  async lockTask(task: string): Promise<(() => Promise<void>) | undefined> {
    return lockTask(this.#pool, this.#schema, task);
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    const parts = { sql: this.#sql, leases: this.#leaseSql, runPatches: this.#runPatches, sessionPatches: this.#sessionPatches };
    const { writes, result } = buildCommit(parts, batch);
    if (writes.length === 0) return { fenced: [] };
    // One round trip. A duplicate seq, a missing run or a patch that matches
    // no row fails on the server, which turns the COMMIT into a ROLLBACK.
    return result(await this.#transaction((client) => send(client, [BEGIN, ...writes, COMMIT])));
  }

  #pepper: Promise<Buffer> | undefined;

  keyPepper(): Promise<Buffer> {
    // ON CONFLICT DO NOTHING, then read: of workers starting at once, the first insert wins and all read it.
    this.#pepper ??= this.#rows<{ value: string }>({
      text: `WITH made AS (INSERT INTO ${this.#schema}.secrets (name, value) VALUES ('key_pepper', $1) ON CONFLICT (name) DO NOTHING)
             SELECT value FROM ${this.#schema}.secrets WHERE name = 'key_pepper'`,
      values: [randomBytes(32).toString("base64")],
    }).then(
      async (found) => {
        if (found[0]) return Buffer.from(found[0].value, "base64");
        // The CTE's SELECT does not see its own INSERT: read again.
        const again = await this.#rows<{ value: string }>({ text: `SELECT value FROM ${this.#schema}.secrets WHERE name = 'key_pepper'` });
        return Buffer.from(again[0]!.value, "base64");
      },
      (error: unknown) => {
        this.#pepper = undefined;
        throw error;
      },
    );
    return this.#pepper;
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const statement = this.#sessionPatches.build(sessionId, patch);
    if (statement !== undefined) await this.#rows(statement);
  }

  protected execute<T>(operation: Operation<T>, options: { transaction?: boolean } = {}): Promise<T> {
    return execute(this.#pool, this.#sql, operation, options.transaction === true);
  }

  #use<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withClient(this.#pool, work);
  }

  #rows<R extends object>(statement: Statement): Promise<R[]> {
    return this.#use((client) => rows<R>(client, statement));
  }

  /** `work` sends BEGIN with its first statements and COMMIT with its last; any failure rolls back. */
  #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#use(async (client) => {
      try {
        return await work(client);
      } catch (error) {
        await rollback(client);
        throw error;
      }
    });
  }
}
