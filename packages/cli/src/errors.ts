import { APIConnectionError, APIUserAbortError, AuthenticationError, NotFoundError as ApiNotFoundError } from "@agentd/client";

/** A failure to report as `agentd: <message>` with an exit code (1 unless told). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Bad arguments: exit code 2, as for commander's own usage errors. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

export const EXIT_NOT_FOUND = 3;
export const EXIT_INTERRUPTED = 130;

/** What was asked for does not exist (e.g. `agentd keys revoke` of an unknown id): exit code 3, so scripts can tell it from a failure. */
export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, EXIT_NOT_FOUND);
    this.name = "NotFoundError";
  }
}

/** The message and exit code for any error a command throws, with a next step where there is an obvious one. */
export function describeError(error: unknown, hints: { url: string; workspace: string }): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (APIUserAbortError.isInstance(error)) return { message: "interrupted", exitCode: EXIT_INTERRUPTED };
  const message = error instanceof Error ? error.message : String(error);
  if (AuthenticationError.isInstance(error)) {
    return {
      message: `${message}\n  Check AGENTD_API_KEY, or create a key with: agentd keys create --workspace ${hints.workspace}`,
      exitCode: 1,
    };
  }
  // The server's 404 (an unknown agent, run, tag or revision) exits as the CLI's own "not found" does.
  if (ApiNotFoundError.isInstance(error)) return { message, exitCode: EXIT_NOT_FOUND };
  if (APIConnectionError.isInstance(error)) {
    return {
      message: `cannot reach agentd at ${hints.url}: ${message}\n  Start a server with \`agentd serve\` or point AGENTD_URL at one.`,
      exitCode: 1,
    };
  }
  return { message, exitCode: 1 };
}
