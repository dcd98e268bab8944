export { main, buildProgram } from "./main.js";
export type { CliContext, Writer } from "./context.js";
export { CliError, NotFoundError, UsageError } from "./errors.js";
export type { ServerModule } from "./server-module.js";
