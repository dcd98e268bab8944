import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ROUTES, WORKSPACE_PATH, pathBuilder, type RouteDeclaration } from "@agentd/protocol";
import { describe, expect, it } from "vitest";
import { ROUTES_FILE, routesSource } from "../scripts/generate-routes.mjs";
import { operations } from "../src/internal/routes.js";

const IDS = ["run_1", "a/b?c#d", "ünï côdé", "..", "%2F"];

describe("the SDK's copy of the route table", () => {
  it("is what scripts/generate-routes.mjs writes from the table today", async () => {
    const stale = readFileSync(ROUTES_FILE, "utf8") !== (await routesSource());
    expect(stale, "src/internal/routes.ts is stale: run `npm run build && npm run generate -w @agentd/client`").toBe(false);
  });

  it("has every workspace operation, with the table's method and path, ids percent-encoded", () => {
    const workspaceRoutes = (ROUTES as readonly RouteDeclaration[]).filter((route) => route.path.startsWith(WORKSPACE_PATH));
    expect(Object.keys(operations).sort()).toEqual(workspaceRoutes.map((route) => route.operationId).sort());
    for (const route of workspaceRoutes) {
      const build = (operations as unknown as Record<string, (...ids: string[]) => { method: string; path: string }>)[route.operationId]!;
      const expected = pathBuilder(route.path.slice(WORKSPACE_PATH.length));
      for (const id of IDS) {
        const ids = route.path.includes("{", WORKSPACE_PATH.length) ? [id] : [];
        expect(build(...ids), `${route.operationId}(${id})`).toEqual({ method: route.method, path: expected(...ids) });
      }
    }
  });

  it("keeps the SDK's JavaScript free of imports from outside it (types only from @agentd/protocol)", () => {
    const src = fileURLToPath(new URL("../src/", import.meta.url));
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((name) => name.endsWith(".ts"));
    const outside = files.flatMap((name) =>
      [...readFileSync(join(src, name), "utf8").matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^".][^"]*)"/gms)].map(
        (match) => `${name}: ${match[1]}`,
      ),
    );
    expect(outside).toEqual([]);
  });
});
