import { IDEMPOTENCY_KEY, ROUTES, type OperationId, type RouteDeclaration } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import { requireScope } from "./auth.js";
import type { Handler, Middleware } from "./context.js";
import type { Router } from "./router.js";

/** A handler per operationId of the route table; one left out answers 501. */
export type Handlers = Partial<Record<OperationId, Handler>>;

/** The middleware a route's declaration asks for. */
export interface RouteMiddleware {
  /** For `auth: "key"`: sets ctx.workspace and ctx.key, or 401/404; the route's scope (403) is checked after it. */
  authenticate: Middleware;
  /** For routes that take an Idempotency-Key. */
  idempotent: Middleware;
  /** After authentication: the key's requests per minute (limits/middleware.ts). Absent: no limit. */
  limit?: Middleware;
}

/**
 * Registers every route of the table (protocol's routes/) on the router, in
 * the table's order: its method and path from the declaration, the
 * authentication its `auth` asks for, idempotency where it takes an
 * Idempotency-Key, then its handler, found by operationId. A route without
 * a handler answers 501 not_implemented (after authentication, so it tells
 * nothing to a caller without a key): declared routes are never a 404, and a
 * route is added to the table before it is built. All of this happens once,
 * at startup; dispatch is the router's as before.
 */
export function registerRoutes(router: Router, handlers: Handlers, middleware: RouteMiddleware): void {
  for (const route of ROUTES) {
    const declared: RouteDeclaration = route;
    const handler = handlers[route.operationId];
    const stack: Middleware[] = declared.auth === "key" ? [middleware.authenticate] : [];
    if (declared.auth === "key") {
      if (middleware.limit) stack.push(middleware.limit);
      if (!declared.scope) throw new Error(`route ${declared.operationId} needs a key but declares no scope`);
      stack.push(requireScope(declared.scope));
    }
    if (handler && declared.headers?.includes(IDEMPOTENCY_KEY)) stack.push(middleware.idempotent);
    router.on(declared.method, declared.path, ...stack, handler ?? notImplemented(declared));
  }
}

function notImplemented(route: RouteDeclaration): Handler {
  return () => {
    throw new AgentdError("not_implemented", `${route.method} ${route.path} (${route.operationId}) is declared but not built yet`);
  };
}
