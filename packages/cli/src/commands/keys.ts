import type { Command } from "commander";
import { DEFAULT_WORKSPACE, type CliContext } from "../context.js";

interface KeysCreateFlags {
  workspace?: string;
  name?: string;
  data?: string;
}

export function registerKeys(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  const keys = program.command("keys").description("manage API keys (works whether or not the server is running)");
  keys
    .command("create")
    .description("create an API key; prints the key alone on the last line of stdout")
    .option("--workspace <slug>", `workspace the key belongs to (default: AGENTD_WORKSPACE or ${DEFAULT_WORKSPACE})`)
    .option("--name <name>", "a label to recognise the key by")
    .option("--data <dir>", "data directory (default: AGENTD_DATA_DIR or ./.agentd)")
    .action(async (flags: KeysCreateFlags) => done(await keysCreateCommand(flags, context)));
}

export async function keysCreateCommand(flags: KeysCreateFlags, context: CliContext): Promise<number> {
  const server = await context.loadServer();
  const dataDir = server.resolveDataDir(flags.data, context.env);
  const workspace = flags.workspace ?? (context.env.AGENTD_WORKSPACE?.trim() || DEFAULT_WORKSPACE);
  const databaseUrl = context.env.DATABASE_URL;
  const schema = context.env.AGENTD_DB_SCHEMA;
  const store = await server.openStore(databaseUrl ? { databaseUrl, ...(schema ? { schema } : {}) } : { dataDir });
  try {
    const created = await server.createApiKey(store, { workspace, ...(flags.name !== undefined ? { name: flags.name } : {}) });
    context.stderr.write(
      `Created API key ${created.id} for workspace "${created.workspace}" (${databaseUrl ? `database: ${redactUrl(databaseUrl)}` : `data: ${dataDir}`}).\nIt is shown only once; store it now:\n`,
    );
    // Alone on the last line so scripts can take it with `| tail -n 1`.
    context.stdout.write(`${created.key}\n`);
  } finally {
    await store.close();
  }
  return 0;
}

/** A connection string without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}
