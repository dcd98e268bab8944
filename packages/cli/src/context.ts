import { Agentd } from "@agentd/client";
import { CliError } from "./errors.js";
import type { ServerModule } from "./server-module.js";

export interface Writer {
  write(text: string): unknown;
}

/** Everything a command touches outside its arguments, so tests can supply their own. */
export interface CliContext {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: Writer;
  stderr: Writer;
  /** Aborted on SIGINT / SIGTERM. */
  signal: AbortSignal;
  /** Used by the SDK client instead of the global fetch (tests). */
  fetch?: typeof fetch;
  loadServer: () => Promise<ServerModule>;
}

export const DEFAULT_URL = "http://127.0.0.1:7700";
export const DEFAULT_WORKSPACE = "default";

export function workspaceOf(context: CliContext): string {
  return context.env.AGENTD_WORKSPACE?.trim() || DEFAULT_WORKSPACE;
}

export function urlOf(context: CliContext): string {
  return context.env.AGENTD_URL?.trim() || DEFAULT_URL;
}

/** A client configured from AGENTD_URL, AGENTD_API_KEY and AGENTD_WORKSPACE. */
export function clientFrom(context: CliContext): Agentd {
  const apiKey = context.env.AGENTD_API_KEY?.trim();
  if (!apiKey) {
    const workspace = workspaceOf(context);
    throw new CliError(
      `no API key: set AGENTD_API_KEY.\n` +
        `  Create one with: agentd keys create --workspace ${workspace}\n` +
        `  (agentd serve also prints one on its first start)`,
    );
  }
  return new Agentd({ apiKey, baseUrl: urlOf(context), workspace: workspaceOf(context), fetch: context.fetch });
}
