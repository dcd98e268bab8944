import { APICallError } from "@ai-sdk/provider";
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

function describe(error: unknown): string {
  if (error instanceof Error) {
    // undici reports a dropped socket as "terminated" with the reason in `cause`.
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  // Error stream parts carry the provider's error object, e.g. Anthropic's
  // `{ type: "overloaded_error", message: "Overloaded" }`.
  if (error !== null && typeof error === "object" && "message" in error && typeof error.message === "string") {
    const type = "type" in error && typeof error.type === "string" ? `${error.type}: ` : "";
    return `${type}${error.message}`;
  }
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
