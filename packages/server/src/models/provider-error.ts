import { APICallError } from "@ai-sdk/provider";
import { describe as describeValue } from "./http/errors.js";
import { ModelError } from "./types.js";

/**
 * Turns whatever a provider call threw (or put in an `error` stream part) into
 * a ModelError whose message says which provider failed and how, since the
 * engine shows that message to the user as the run's error.
 */
export function toModelError(provider: string, error: unknown, during?: string): ModelError {
  if (error instanceof ModelError) return error;
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    // A 2xx here means the response started fine and then broke (socket
    // closed, unparsable body): the cause says what, the status says nothing.
    if (status !== undefined && status < 300) {
      const cause = error.cause === undefined ? error.message : describe(error.cause);
      return new ModelError(provider, `${provider}: the response from ${error.url} broke off: ${cause}`, { cause: error });
    }
    if (status !== undefined) {
      return new ModelError(provider, `${provider}: HTTP ${status} from ${error.url}: ${error.message}`, { status, cause: error });
    }
    return new ModelError(provider, `${provider}: request to ${error.url} failed: ${error.message}`, { cause: error });
  }
  const what = during === undefined ? "" : `${during}: `;
  return new ModelError(provider, `${provider}: ${what}${describe(error)}`, { cause: error });
}

/** Like the clients' describe(), with the `cause` undici hides a dropped socket's reason in ("terminated"). */
function describe(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
  return describeValue(error);
}
