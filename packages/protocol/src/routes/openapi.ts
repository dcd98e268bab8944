import type { z } from "zod";
import { PROTOCOL_VERSION } from "../version.js";
import { components, ref, type Components, type JsonObject } from "./components.js";
import { ERROR_RESPONSES, errorStatuses } from "./errors.js";
import { pathParameters, TAGS, type RouteDeclaration, type SuccessResponse } from "./route.js";
import { ROUTES } from "./table.js";

/** Described once for every route that has them. */
export const PATH_PARAMETERS: Record<string, string> = {
  workspace: "The workspace's slug",
  runId: "A run's id (`run_…`)",
  sessionId: "A session's id (`ses_…`)",
  agentId: "A registry agent's id (`^[a-z0-9][a-z0-9_-]{0,63}$`) or a config agent's",
  revision: "A revision number (1, 2, …)",
  tag: "A tag's name (`^[a-z0-9][a-z0-9\\-_]*$`)",
  keyId: "An API key's id (`key_…`)",
};

/**
 * The OpenAPI 3.1 document, generated from the route table (table.ts) and
 * the same zod schemas the server validates with. Component schemas are
 * named in schemas.ts or after the one operation whose body they are
 * (components.ts); an operation writes its own body's fields out (so a
 * reader, and a test, sees them at the operation) under a `title` that is
 * the component's name, and every named schema inside is a `$ref`. Error
 * responses are shared components, each with its headers (`Retry-After` on
 * 429 and 503). `io: "input"`: what a client may send, defaults optional.
 */
export function openApiDocument(): JsonObject {
  const shared = components(ROUTES);
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, shared);
  return {
    openapi: "3.1.0",
    info: { title: "agentd", version: PROTOCOL_VERSION, description: "Self-hostable runtime for LLM agents." },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas: shared.schemas,
      responses: shared.responses,
      headers: shared.headers,
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
  };
}

function operation(route: RouteDeclaration, shared: Components): JsonObject {
  const parameters = [
    ...pathParameters(route.path).map((name) => ({
      name,
      in: "path",
      required: true,
      description: PATH_PARAMETERS[name],
      schema: { type: "string" },
    })),
    ...(route.query?.parameters ?? []).map(({ name, description, schema, repeated }) =>
      repeated
        ? { name, in: "query", required: false, description, schema: { type: "array", items: schema }, style: "form", explode: true }
        : { name, in: "query", required: false, description, schema },
    ),
    ...(route.headers ?? []).map(({ name, description, schema }) => ({ name, in: "header", required: false, description, schema })),
  ];
  const responses: Record<string, JsonObject> = {};
  for (const [status, response] of Object.entries(route.responses)) responses[status] = success(response, shared);
  for (const status of errorStatuses(route)) responses[String(status)] ??= ref("responses", ERROR_RESPONSES[status]!.name);
  const body = route.body && {
    required: route.body.required,
    content: { "application/json": { schema: inline(route.body.schema, shared) } },
  };
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === "none" ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

function success(response: SuccessResponse, shared: Components): JsonObject {
  const mediaType = response.mediaType ?? "application/json";
  const schema =
    mediaType === "text/event-stream"
      ? ref("schemas", shared.names.get(response.schema!)!.id)
      : response.schema
        ? inline(response.schema, shared)
        : { type: mediaType === "text/plain" ? "string" : "object" };
  return {
    description: response.description,
    headers: { "X-Request-Id": ref("headers", "RequestId") },
    content: { [mediaType]: { schema } },
  };
}

/** A body's own schema, written out with its component name as `title`; what it contains stays `$ref`s. */
function inline(schema: z.ZodType, shared: Components): JsonObject {
  const name = shared.names.get(schema)!.id;
  return { title: name, ...shared.schemas[name] };
}
