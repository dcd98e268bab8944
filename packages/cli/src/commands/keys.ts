import type { Store } from "@agentd/server";
import { CreateKeyRequest, KEY_SCOPES, type KeyLimits } from "@agentd/protocol";
import type { Command } from "commander";
import { DEFAULT_WORKSPACE, type CliContext } from "../context.js";
import { NotFoundError, UsageError } from "../errors.js";

interface StoreFlags {
  data?: string;
}

interface KeysCreateFlags extends StoreFlags {
  workspace?: string;
  name?: string;
  scopes?: string;
  agents?: string;
  expiresAt?: string;
}

interface KeysListFlags extends StoreFlags {
  workspace?: string;
  json?: boolean;
}

const DATA_HELP = "data directory (default: AGENTD_DATA_DIR or ./.agentd)";

export function registerKeys(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  const keys = program
    .command("keys")
    .description("manage API keys (works whether or not the server is running; DATABASE_URL and AGENTD_DB_SCHEMA select PostgreSQL)");
  keys
    .command("create")
    .description("create an API key; prints the key alone on the last line of stdout")
    .option("--workspace <slug>", `workspace the key belongs to (default: AGENTD_WORKSPACE or ${DEFAULT_WORKSPACE})`)
    .option("--name <name>", "a label to recognise the key by")
    .option("--scopes <list>", `comma-separated scopes (${KEY_SCOPES.join(", ")}, or *); default: * (every scope)`)
    .option("--agents <list>", "comma-separated agent ids the key may run (default: every agent)")
    .option("--expires-at <time>", "when the key stops working (ISO 8601, e.g. 2027-01-01T00:00:00Z)")
    .option("--data <dir>", DATA_HELP)
    .action(async (flags: KeysCreateFlags) => done(await keysCreateCommand(flags, context)));
  keys
    .command("list")
    .description("list API keys, newest first, revoked ones included (never the keys themselves)")
    .option("--workspace <slug>", "only the keys of this workspace (default: all workspaces)")
    .option("--json", "print one JSON object per key and line")
    .option("--data <dir>", DATA_HELP)
    .action(async (flags: KeysListFlags) => done(await keysListCommand(flags, context)));
  keys
    .command("revoke")
    .description("revoke an API key: every server refuses it within a second; exit code 3 if no key has this id")
    .argument("<id>", "the key's id (key_..., as `agentd keys list` shows)")
    .option("--data <dir>", DATA_HELP)
    .action(async (id: string, flags: StoreFlags) => done(await keysRevokeCommand(id, flags, context)));
}

export async function keysCreateCommand(flags: KeysCreateFlags, context: CliContext): Promise<number> {
  const workspace = flags.workspace ?? (context.env.AGENTD_WORKSPACE?.trim() || DEFAULT_WORKSPACE);
  const shape = createShape(flags);
  return withStore(flags, context, async (store, server, where) => {
    const created = await server.createApiKey(store, {
      workspace,
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...shape,
      env: context.env,
    });
    context.stderr.write(
      `Created API key ${created.id} for workspace "${created.workspace}" (${where}).\nIt is shown only once; store it now:\n`,
    );
    // Alone on the last line so scripts can take it with `| tail -n 1`.
    context.stdout.write(`${created.key}\n`);
    return 0;
  });
}

export async function keysListCommand(flags: KeysListFlags, context: CliContext): Promise<number> {
  return withStore(flags, context, async (store) => {
    let workspaceId: string | undefined;
    if (flags.workspace !== undefined) {
      // A mistyped slug is said so, not shown as a workspace without keys.
      const workspace = await store.getWorkspaceBySlug(flags.workspace);
      if (workspace === undefined) throw new NotFoundError(`workspace "${flags.workspace}" not found`);
      workspaceId = workspace.id;
    }
    const keys = (await store.listApiKeys(workspaceId)).map(shownKey);
    if (flags.json) {
      for (const key of keys) context.stdout.write(`${JSON.stringify(key)}\n`);
      return 0;
    }
    context.stdout.write(keys.length === 0 ? "no keys\n" : formatKeyTable(keys));
    return 0;
  });
}

export async function keysRevokeCommand(id: string, flags: StoreFlags, context: CliContext): Promise<number> {
  return withStore(flags, context, async (store, _server, where) => {
    const asked = Date.now();
    const revoked = await store.revokeApiKey(id);
    if (revoked === undefined) throw new NotFoundError(`no API key with id "${id}" (${where}); see \`agentd keys list\``);
    const slug = (await store.listApiKeys(revoked.workspaceId)).find((key) => key.id === id)?.workspaceSlug ?? revoked.workspaceId;
    // The store keeps the first revocation's instant (this process's clock): an earlier one means it was revoked already.
    const already = Date.parse(revoked.revokedAt!) < asked;
    context.stdout.write(
      already
        ? `API key ${id} (workspace "${slug}", name "${plain(revoked.name)}") was already revoked at ${revoked.revokedAt}.\n`
        : `Revoked API key ${id} (workspace "${slug}", name "${plain(revoked.name)}"). Servers refuse it within a second.\n`,
    );
    return 0;
  });
}

/** The scopes, agents and expiry flags of `keys create`, checked as `POST /keys` checks its body (a bad one names its flag). */
function createShape(flags: KeysCreateFlags): { scopes?: string[]; agents?: string[]; expiresAt?: string } {
  const list = (value: string) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  const body = {
    name: flags.name ?? "default",
    ...(flags.scopes !== undefined ? { scopes: list(flags.scopes) } : {}),
    ...(flags.agents !== undefined ? { agents: list(flags.agents) } : {}),
    ...(flags.expiresAt !== undefined ? { expiresAt: flags.expiresAt } : {}),
  };
  if (body.agents?.length === 0) throw new UsageError("--agents: name at least one agent (leave the flag out for every agent)");
  const parsed = CreateKeyRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = { scopes: "--scopes", agents: "--agents", expiresAt: "--expires-at", name: "--name" }[String(issue.path[0])] ?? "a flag";
    throw new UsageError(`${flag}: ${issue.message}`);
  }
  if (parsed.data.expiresAt !== undefined && Date.parse(parsed.data.expiresAt) <= Date.now())
    throw new UsageError("--expires-at: must lie in the future");
  const { scopes, agents, expiresAt } = parsed.data;
  return {
    ...(scopes ? { scopes } : {}),
    ...(agents ? { agents } : {}),
    ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
  };
}

/** What `keys list` shows of a key: never its hash. */
interface ShownKey {
  id: string;
  workspace: string;
  workspaceId: string;
  name: string;
  displayPrefix: string;
  scopes: string[];
  agents: string[];
  expiresAt: string | null;
  limits: KeyLimits;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Field by field, so nothing else of the record (the hash) can reach the output. */
function shownKey(key: Awaited<ReturnType<Store["listApiKeys"]>>[number]): ShownKey {
  return {
    id: key.id,
    workspace: key.workspaceSlug,
    workspaceId: key.workspaceId,
    name: key.name,
    displayPrefix: key.displayPrefix,
    scopes: key.scopes,
    agents: key.agents,
    expiresAt: key.expiresAt,
    limits: key.limits,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}

/** `2026-01-31T12:00:00.123Z` → `2026-01-31T12:00:00Z`: milliseconds only widen the table. */
const shortTime = (iso: string | null): string => (iso === null ? "-" : iso.replace(/\.\d+Z$/, "Z"));

/** A name as one line of printable text: control characters (newlines, terminal escapes) become spaces. */
const plain = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");

/** Columns padded to their widest cell, as `agentd runs list`. */
export function formatKeyTable(keys: ShownKey[]): string {
  const rows = [
    ["ID", "WORKSPACE", "NAME", "PREFIX", "SCOPES", "AGENTS", "CREATED", "EXPIRES", "REVOKED"],
    ...keys.map((key) => [
      key.id,
      key.workspace,
      plain(key.name) || "-",
      `${key.displayPrefix}…`,
      key.scopes.join(","),
      key.agents.length === 0 ? "*" : plain(key.agents.join(",")),
      shortTime(key.createdAt),
      shortTime(key.expiresAt),
      shortTime(key.revokedAt),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

type ServerModule = Awaited<ReturnType<CliContext["loadServer"]>>;

/**
 * Opens the store the server uses, offline: PostgreSQL when DATABASE_URL is
 * set (schema AGENTD_DB_SCHEMA), else the SQLite file in the data directory;
 * runs `work` with it and a description of where it is, then closes it.
 */
async function withStore<T>(
  flags: StoreFlags,
  context: CliContext,
  work: (store: Store, server: ServerModule, where: string) => Promise<T>,
): Promise<T> {
  const server = await context.loadServer();
  const dataDir = server.resolveDataDir(flags.data, context.env);
  const databaseUrl = context.env.DATABASE_URL;
  const schema = context.env.AGENTD_DB_SCHEMA;
  const store = await server.openStore(databaseUrl ? { databaseUrl, ...(schema ? { schema } : {}) } : { dataDir });
  try {
    return await work(store, server, databaseUrl ? `database: ${redactUrl(databaseUrl)}` : `data: ${dataDir}`);
  } finally {
    await store.close();
  }
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
