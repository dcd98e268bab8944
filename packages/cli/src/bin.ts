#!/usr/bin/env node
import { main } from "./main.js";
import { loadServerModule } from "./server-module.js";

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  // A second Ctrl-C means "now", not "gracefully".
  if (++signals > 1) process.exit(130);
  controller.abort(new Error(`received ${signal}`));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// `agentd run ... | head` closes the pipe early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const exitCode = await main(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  loadServer: loadServerModule,
});
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
process.exitCode = exitCode;
// Let stdout drain, but do not hang on a handle someone forgot to close.
setTimeout(() => process.exit(exitCode), 2_000).unref();
