import type * as Server from "@agentd/server";

/** The part of `@agentd/server` the CLI uses; injectable so command tests need no real server. */
export type ServerModule = Pick<typeof Server, "createServer" | "loadConfig" | "resolveDataDir" | "openStore" | "createApiKey" | "DEFAULT_PORT">;

/**
 * Loaded on demand: `agentd run` and `agentd models` are plain HTTP clients
 * and should not pay for SQLite and the provider SDKs at start-up.
 */
export const loadServerModule = (): Promise<ServerModule> => import("@agentd/server");
