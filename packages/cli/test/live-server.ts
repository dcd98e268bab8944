import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agentd } from "@agentd/client";
import { createApiKey, createLogger, createServer, type AgentdConfig } from "@agentd/server";
import { main } from "../src/index.js";
import { captureContext } from "./helpers.js";

export interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LiveServer {
  /** `agentd <argv>` in-process, over real HTTP to the server, with AGENTD_URL and AGENTD_API_KEY set; `cwd` for relative `--file`s. */
  cli(argv: string[], options?: { cwd?: string }): Promise<Exit>;
  /** The SDK on the same server and key, to set up what a test reads. */
  client: Agentd;
  /** AGENTD_URL and AGENTD_API_KEY of the server, for a spawned `agentd`. */
  env: { AGENTD_URL: string; AGENTD_API_KEY: string };
  /** A fresh directory removed with the server. */
  dir: string;
  close(): Promise<void>;
}

/**
 * A real server on port 0 (SQLite in a temporary directory, the mock model)
 * and the CLI's `main` pointed at it. The CLI context's `loadServer`
 * rejects: a command that reached for `@agentd/server` (SQLite) instead of
 * the SDK fails its test.
 */
export async function liveServer(config: AgentdConfig = {}): Promise<LiveServer> {
  const dir = mkdtempSync(join(tmpdir(), "agentd-cli-live-"));
  const app = await createServer({ dataDir: join(dir, "data"), config, env: {}, logger: createLogger("silent") });
  const { url } = await app.listen(0, "127.0.0.1");
  const { key } = await createApiKey(app.store, { workspace: "default", name: "cli tests" });
  const env = { AGENTD_URL: url, AGENTD_API_KEY: key };
  return {
    env,
    client: new Agentd({ apiKey: key, baseUrl: url, workspace: "default" }),
    dir,
    async cli(argv, options = {}) {
      const io = captureContext({ env, cwd: options.cwd ?? dir });
      const code = await main(argv, io.context);
      return { code, stdout: io.stdout(), stderr: io.stderr() };
    },
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ISO times as the CLI prints them, replaced by a placeholder of the same width (tables stay aligned), for comparing whole outputs. */
export const withoutTimes = (text: string): string => text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/g, "YYYY-MM-DDThh:mm:ssZ");
