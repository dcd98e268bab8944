import { z } from "zod";
import { ERROR_RESPONSES } from "./errors.js";
import type { RouteDeclaration } from "./route.js";
import { NAMED_SCHEMAS } from "./schemas.js";

export type JsonObject = Record<string, unknown>;
type Names = z.core.$ZodRegistry<{ id: string }>;

export const ref = (kind: "schemas" | "responses" | "headers", name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** The document's `components`, and the name of each schema in it. */
export interface Components {
  names: Names;
  schemas: Record<string, JsonObject>;
  responses: Record<string, JsonObject>;
  headers: Record<string, JsonObject>;
}

export function components(routes: readonly RouteDeclaration[]): Components {
  const names = componentNames(routes);
  return { names, schemas: schemasOf(names), responses: errorResponses(), headers: HEADERS };
}

/**
 * The name of every component: NAMED_SCHEMAS, then each route body without
 * one after its operation (createRun's body `CreateRunRequest`, a 2xx
 * `CreateRunResponse`), so that a new route's own schemas need no entry.
 */
export function componentNames(routes: readonly RouteDeclaration[]): Names {
  const names: Names = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED_SCHEMAS)) names.add(schema, { id });
  const type = (route: RouteDeclaration, suffix: string) => `${route.operationId[0]!.toUpperCase()}${route.operationId.slice(1)}${suffix}`;
  for (const route of routes) {
    if (route.body && !names.has(route.body.schema)) names.add(route.body.schema, { id: type(route, "Request") });
    for (const [status, { schema }] of Object.entries(route.responses)) {
      if (schema && !names.has(schema)) names.add(schema, { id: type(route, status.startsWith("2") ? "Response" : `Response${status}`) });
    }
  }
  return names;
}

/** JSON Schema of every named schema; a named schema inside another is a `$ref` to its component. */
function schemasOf(names: Names): Record<string, JsonObject> {
  const { schemas } = z.toJSONSchema(names, { io: "input", unrepresentable: "any", uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
      return [name, rest];
    }),
  );
}

const HEADERS = {
  RequestId: {
    description: "This request's id (the one sent as X-Request-Id when valid, else a new one); errors carry it too",
    schema: { type: "string" },
  },
  RetryAfter: { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 0 } },
};

/** One response per error status, shared by the operations: an ErrorBody, and `Retry-After` where a retry should wait. */
function errorResponses(): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(({ name, description, retryAfter }) => [
      name,
      {
        description,
        headers: { "X-Request-Id": ref("headers", "RequestId"), ...(retryAfter ? { "Retry-After": ref("headers", "RetryAfter") } : {}) },
        content: { "application/json": { schema: ref("schemas", "ErrorBody") } },
      },
    ]),
  );
}
