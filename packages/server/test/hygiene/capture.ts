import { appendFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The test side of the suite-wide log check (suite-logs.ts): what tests see
 * besides the server's log lines (which src/test-capture.ts captures) goes
 * into the same directory — error bodies, and what spawned `agentd`
 * processes print — and the variables that turn capture on are passed to
 * the processes tests spawn with an environment of their own.
 */
const LOG_DIR = process.env.AGENTD_TEST_LOG_DIR;

/** Appends `text` to this process's capture file of `kind` (`error-bodies`, `cli`); a no-op outside the suite's check. */
export function captureOutput(kind: string, text: string): void {
  if (LOG_DIR && text.length > 0) appendFileSync(join(LOG_DIR, `${kind}-${process.pid}.txt`), text.endsWith("\n") ? text : `${text}\n`);
}

/** A response body worth searching: every error body, since an error must never echo a key. */
export function captureErrorBody(status: number, text: string): void {
  if (status >= 400) captureOutput("error-bodies", text);
}

/** The capture variables, for a child process started with an environment of its own. */
export function captureEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.AGENTD_TEST_LOG_DIR) env.AGENTD_TEST_LOG_DIR = process.env.AGENTD_TEST_LOG_DIR;
  return env;
}

/**
 * What a spawned `agentd` printed. Its stderr always; its stdout unless the
 * command is one whose output is a new key (`keys create`, and `serve`,
 * whose banner shows the first key): that is where a key is meant to be
 * shown, once.
 */
export function captureCli(args: readonly string[], stdout: string, stderr: string): void {
  captureOutput("cli", stderr);
  const showsKey = args[0] === "serve" || (args[0] === "keys" && args[1] === "create");
  if (!showsKey) captureOutput("cli", stdout);
}
