import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import type { Operation } from "../sql/operation.js";
import { SqlStore } from "../sql/sql-store.js";
import type { CommitBatch, CommitResult, SessionPatch, Store } from "../types.js";
import { SqliteDriver } from "./driver.js";
import { SQLITE } from "./dialect.js";
import { SqliteIdempotency } from "./idempotency.js";
import { lockDataFile } from "./worker-lock.js";
import { lockTask } from "./task-lock.js";
import { SqliteLeases } from "./leases.js";
import { migrate } from "./migrations.js";
import { SqliteWrites } from "./writes.js";

let memoryStores = 0;

/**
 * The embedded store. better-sqlite3 is synchronous; the methods are async
 * only because the Store interface is shared with network-backed stores.
 * Each call runs to completion before the event loop moves on, so
 * the transactions below never interleave within a process. The domain
 * operations are shared (sql/sql-store.ts); what is SQLite's own is here.
 */
export class SqliteStore extends SqlStore implements Store {
  readonly kind = "sqlite";
  protected readonly dialect = SQLITE;
  readonly #db: Database.Database;
  readonly #driver: SqliteDriver;
  readonly #writes: SqliteWrites;
  protected readonly leases: SqliteLeases;
  protected readonly idempotency: SqliteIdempotency;
  readonly #commit: (batch: CommitBatch) => CommitResult;

  readonly #file: string;
  /** Tells in-memory databases apart (task-lock.ts). */
  readonly #memoryId = ++memoryStores;

  /** @param file a database file path (created if missing) or `:memory:`. */
  constructor(file: string) {
    super();
    this.#file = file;
    this.#db = new Database(file);
    try {
      // WAL: readers (stream replays) never block the writer. synchronous=NORMAL
      // in WAL mode fsyncs at checkpoints, not at every commit: a commit is an
      // append to the WAL, which is what makes many small group commits of token
      // deltas cheap. A process crash loses nothing; a power loss can drop the
      // last commits but never corrupts the database.
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = NORMAL");
      this.#db.pragma("foreign_keys = ON");
      // Another process (e.g. a CLI reading the same file) may hold the write lock briefly.
      this.#db.pragma("busy_timeout = 5000");
      migrate(this.#db);
      this.#driver = new SqliteDriver(this.#db);
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.leases = new SqliteLeases(this.#db);
    this.idempotency = new SqliteIdempotency(this.#db);
    const writes = (this.#writes = new SqliteWrites(this.#db, this.#driver, this.leases));
    // IMMEDIATE: the write lock is taken at BEGIN, so no other connection can
    // claim a run between the fence check and the writes it guards (and a
    // read-first transaction cannot fail to upgrade to a writer).
    const commit = this.#db.transaction((batch: CommitBatch) => writes.commit(batch));
    this.#commit = (batch) => commit.immediate(batch);
  }

  protected execute<T>(operation: Operation<T>, options: { transaction?: boolean } = {}): T {
    return options.transaction === true ? this.#driver.transaction(operation) : this.#driver.run(operation);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async lockWorker(): Promise<() => Promise<void>> {
    if (this.#file === ":memory:") return async () => undefined;
    const release = lockDataFile(this.#file);
    return async () => release();
  }

  #pepper: Buffer | undefined;

  async keyPepper(): Promise<Buffer> {
    if (this.#pepper) return this.#pepper;
    if (this.#file === ":memory:") return (this.#pepper = randomBytes(32));
    const file = join(dirname(this.#file), "key-pepper");
    try {
      // `wx`: of two processes starting on a new data directory, one writes it and the other reads it.
      writeFileSync(file, randomBytes(32).toString("base64") + "\n", { flag: "wx", mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pepper = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (pepper.length < 32)
      throw new Error(`${file} does not hold a key pepper (32 bytes, base64); restore it or remove it (every API key then stops working)`);
    return (this.#pepper = pepper);
  }

  /** Within this process: one process executes runs from a database file (lockWorker). */
  async lockTask(task: string): Promise<(() => Promise<void>) | undefined> {
    return lockTask(this.#file === ":memory:" ? `:memory:${this.#memoryId}` : this.#file, task);
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    return this.#commit(batch);
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    this.#writes.patchSession(sessionId, patch);
  }
}
