import { agentRoutes } from "./agents.js";
import { keyRoutes } from "./keys.js";
import { runRoutes } from "./runs.js";
import { sessionRoutes } from "./sessions.js";
import { settingsRoutes } from "./settings.js";
import { systemRoutes } from "./system.js";
import { traceRoutes } from "./traces.js";
import { usageRoutes } from "./usage.js";

/**
 * Every route of the API, by operationId: the one place a route is spelled.
 * A new route is a declaration in one of the files beside this one and a
 * handler under the same key in the server's routes/ (it answers 501 until
 * then); the document, the router and the SDK's paths follow from here.
 */
export const routes = {
  ...systemRoutes,
  ...runRoutes,
  ...sessionRoutes,
  ...traceRoutes,
  ...usageRoutes,
  ...agentRoutes,
  ...keyRoutes,
  ...settingsRoutes,
} as const;

export type OperationId = keyof typeof routes;
export type AnyRoute = (typeof routes)[OperationId];

/** The table as a list, in declaration order (the document's order). */
export const ROUTES: readonly AnyRoute[] = Object.values(routes);
