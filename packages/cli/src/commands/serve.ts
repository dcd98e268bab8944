import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { CliError, UsageError } from "../errors.js";
import { redactUrl } from "./keys.js";
import { serveBanner } from "./serve-banner.js";

interface ServeFlags {
  port?: string;
  host?: string;
  data?: string;
  config?: string;
  graceMs?: string;
  backlog?: string;
}

/** How long a SIGTERM lets in-flight model steps finish: inside the 30 s most orchestrators wait before SIGKILL. */
const DEFAULT_GRACE_MS = 25_000;

export function registerServe(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  program
    .command("serve")
    .description("start the agentd server (embedded SQLite store; no other services needed)")
    .option("--port <n>", "port to listen on (default: PORT or 7700)")
    .option("--host <host>", "interface to listen on")
    .option("--data <dir>", "data directory (default: AGENTD_DATA_DIR or ./.agentd)")
    .option("--config <file>", "config file (default: ./agentd.config.ts or ./agentd.config.json if present)")
    .option(
      "--grace-ms <ms>",
      "on SIGTERM/SIGINT, how long in-flight model steps may finish before the rest is handed back (default: AGENTD_SHUTDOWN_GRACE_MS or 25000)",
    )
    .option(
      "--backlog <n>",
      "connections the kernel may queue before agentd accepts them (default: AGENTD_LISTEN_BACKLOG or 4096; Linux caps it at net.core.somaxconn)",
    )
    .action(async (flags: ServeFlags) => done(await serveCommand(flags, context)));
}

/** Runs until `context.signal` aborts (SIGINT / SIGTERM), then closes the server and returns 0. */
export async function serveCommand(flags: ServeFlags, context: CliContext): Promise<number> {
  const requestedPort =
    flags.port !== undefined ? parsePort(flags.port, "--port") : context.env.PORT ? parsePort(context.env.PORT, "PORT") : undefined;
  const graceMs =
    flags.graceMs !== undefined
      ? parseGrace(flags.graceMs, "--grace-ms")
      : context.env.AGENTD_SHUTDOWN_GRACE_MS
        ? parseGrace(context.env.AGENTD_SHUTDOWN_GRACE_MS, "AGENTD_SHUTDOWN_GRACE_MS")
        : DEFAULT_GRACE_MS;
  // Unset: the server's default (4096).
  const backlog =
    flags.backlog !== undefined
      ? parseBacklog(flags.backlog, "--backlog")
      : context.env.AGENTD_LISTEN_BACKLOG
        ? parseBacklog(context.env.AGENTD_LISTEN_BACKLOG, "AGENTD_LISTEN_BACKLOG")
        : undefined;
  const server = await context.loadServer();
  const dataDir = server.resolveDataDir(flags.data, context.env);
  const { config, path: configPath } = await server.loadConfig(flags.config, context.cwd);
  const app = await server.createServer({ dataDir, config, env: context.env });
  let url: string;
  try {
    ({ url } = await app.listen(requestedPort ?? server.DEFAULT_PORT, flags.host, backlog === undefined ? undefined : { backlog }));
  } catch (error) {
    await app.close();
    if ((error as { code?: string }).code === "EADDRINUSE") {
      throw new CliError(`port ${requestedPort ?? server.DEFAULT_PORT} is already in use: pass --port or set PORT`);
    }
    throw error;
  }
  // After listen, so a start that fails cannot swallow the only copy of the first key.
  const newKey =
    (await app.store.countApiKeys()) === 0
      ? (await server.createApiKey(app.store, { workspace: "default", name: "first-start", env: context.env })).key
      : undefined;
  const catalog = app.models.catalog();
  context.stdout.write(
    serveBanner({
      url,
      dataDir: context.env.DATABASE_URL ? `PostgreSQL at ${redactUrl(context.env.DATABASE_URL)} (DATABASE_URL)` : dataDir,
      configPath,
      defaultModelId: catalog.defaultModelId,
      defaultModelIsMock: catalog.models.some((model) => model.id === catalog.defaultModelId && model.mock === true),
      providerKeySet: Boolean(context.env.OPENAI_API_KEY || context.env.ANTHROPIC_API_KEY),
      agents: app.agents(),
      newKey,
    }),
  );
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  context.stderr.write(`agentd: shutting down (in-flight steps get up to ${graceMs} ms; signal again to stop now)\n`);
  await app.close({ graceMs });
  return 0;
}

function parseGrace(value: string, name: string): number {
  if (!/^\d{1,9}$/.test(value.trim())) throw new UsageError(`${name} must be a whole number of milliseconds (got '${value}')`);
  return Number(value);
}

/** The kernel takes up to 2^31-1 (and caps it at net.core.somaxconn); a million is far past any sensible value. */
function parseBacklog(value: string, name: string): number {
  const backlog = /^\d{1,7}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(backlog >= 1 && backlog <= 1_000_000)) throw new UsageError(`${name} must be a whole number from 1 to 1000000 (got '${value}')`);
  return backlog;
}

export function parsePort(value: string, name: string): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new UsageError(`${name} must be an integer 0-65535`);
  return port;
}
