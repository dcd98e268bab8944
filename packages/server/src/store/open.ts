import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SqliteStore } from "./sqlite/index.js";
import type { Store } from "./types.js";

export interface OpenStoreOptions {
  /** Directory holding `agentd.db`, created if missing. @default "./.agentd" */
  dataDir?: string;
  /** Keep everything in memory (tests, demos); nothing survives the process. @default false */
  memory?: boolean;
}

/** The embedded store: `<dataDir>/agentd.db`, or an in-memory database. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  if (options.memory === true) return new SqliteStore(":memory:");
  const dataDir = options.dataDir ?? ".agentd";
  await mkdir(dataDir, { recursive: true });
  return new SqliteStore(join(dataDir, "agentd.db"));
}
