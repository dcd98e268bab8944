import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SqliteStore } from "./sqlite/index.js";
import type { Store } from "./types.js";

export interface OpenStoreOptions {
  /** Directory holding `agentd.db`, created if missing. @default "./.agentd" */
  dataDir?: string;
  /** Keep everything in memory (tests, demos); nothing survives the process. @default false */
  memory?: boolean;
  /**
   * A PostgreSQL connection string (`postgres://user@host:5432/db`): selects
   * the PostgreSQL store, and `dataDir` and `memory` are not used.
   * @default undefined (the embedded SQLite store)
   */
  databaseUrl?: string;
  /** PostgreSQL only: schema holding agentd's tables. @default "agentd" */
  schema?: string;
  /** PostgreSQL only: most connections held open. @default 10 */
  poolSize?: number;
}

/** PostgreSQL when `databaseUrl` is set; else the embedded store: `<dataDir>/agentd.db`, or an in-memory database. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  if (options.databaseUrl !== undefined) {
    const { databaseUrl, schema, poolSize } = options;
    // Loaded on demand: the embedded default never pays for the pg driver.
    const { PostgresStore } = await import("./postgres/index.js");
    return PostgresStore.open({ databaseUrl, schema, poolSize });
  }
  if (options.memory === true) return new SqliteStore(":memory:");
  const dataDir = options.dataDir ?? ".agentd";
  await mkdir(dataDir, { recursive: true });
  return new SqliteStore(join(dataDir, "agentd.db"));
}
