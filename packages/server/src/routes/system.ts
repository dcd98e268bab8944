import { openApiDocument } from "@agentd/protocol";
import { json, workspaceOf, type Middleware } from "../http/context.js";
import type { Router } from "../http/router.js";
import type { AppDeps } from "./deps.js";

export function systemRoutes(router: Router, base: string, authenticate: Middleware, deps: AppDeps): void {
  let openapi: unknown;
  router.on("GET", "/healthz", () => json(200, { ok: true }));
  router.on("GET", "/openapi.json", () => json(200, (openapi ??= openApiDocument())));
  router.on("GET", `${base}/models`, authenticate, (ctx) => {
    workspaceOf(ctx);
    return json(200, deps.models.catalog());
  });
}
