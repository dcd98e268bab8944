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
}

export function registerServe(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  program
    .command("serve")
    .description("start the agentd server (embedded SQLite store; no other services needed)")
    .option("--port <n>", "port to listen on (default: PORT or 7700)")
    .option("--host <host>", "interface to listen on")
    .option("--data <dir>", "data directory (default: AGENTD_DATA_DIR or ./.agentd)")
    .option("--config <file>", "config file (default: ./agentd.config.ts or ./agentd.config.json if present)")
    .action(async (flags: ServeFlags) => done(await serveCommand(flags, context)));
}

/** Runs until `context.signal` aborts (SIGINT / SIGTERM), then closes the server and returns 0. */
export async function serveCommand(flags: ServeFlags, context: CliContext): Promise<number> {
  const requestedPort = flags.port !== undefined ? parsePort(flags.port, "--port") : context.env.PORT ? parsePort(context.env.PORT, "PORT") : undefined;
  const server = await context.loadServer();
  const dataDir = server.resolveDataDir(flags.data, context.env);
  const { config, path: configPath } = await server.loadConfig(flags.config, context.cwd);
  const app = await server.createServer({ dataDir, config, env: context.env });
  let url: string;
  try {
    ({ url } = await app.listen(requestedPort ?? server.DEFAULT_PORT, flags.host));
  } catch (error) {
    await app.close();
    if ((error as { code?: string }).code === "EADDRINUSE") {
      throw new CliError(`port ${requestedPort ?? server.DEFAULT_PORT} is already in use: pass --port or set PORT`);
    }
    throw error;
  }
  // After listen, so a start that fails cannot swallow the only copy of the first key.
  const newKey = (await app.store.countApiKeys()) === 0 ? (await server.createApiKey(app.store, { workspace: "default", name: "first-start" })).key : undefined;
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
  context.stderr.write("agentd: shutting down\n");
  await app.close();
  return 0;
}

export function parsePort(value: string, name: string): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new UsageError(`${name} must be an integer 0-65535`);
  return port;
}
