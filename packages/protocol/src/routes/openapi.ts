import { z } from "zod";
import { PROTOCOL_VERSION } from "../version.js";
import { ERROR_RESPONSES, errorStatuses } from "./errors.js";
import { pathParameters, type RouteDeclaration, type SuccessResponse } from "./route.js";
import { NAMED_SCHEMAS } from "./schemas.js";
import { ROUTES } from "./table.js";

type JsonObject = Record<string, unknown>;
type Names = z.core.$ZodRegistry<{ id: string }>;

/** Described once for every route that has them. */
export const PATH_PARAMETERS: Record<string, string> = {
  workspace: "The workspace's slug",
  runId: "A run's id (`run_…`)",
  sessionId: "A session's id (`ses_…`)",
};

const TAGS = [
  { name: "system", description: "Probes, metrics and this document; no key" },
  { name: "models", description: "What the workspace can run" },
  { name: "runs", description: "Agent runs: start, follow, answer, decide, cancel" },
  { name: "sessions", description: "Conversations whose messages are runs on a shared history" },
];

const ref = (kind: "schemas" | "responses" | "headers", name: string) => ({ $ref: `#/components/${kind}/${name}` });

/**
 * The OpenAPI 3.1 document, generated from the route table (table.ts) and
 * the same zod schemas the server validates with. Component schemas are
 * named in schemas.ts or after the one operation whose body they are
 * (`componentNames`); an operation writes its own body's fields out (so a
 * reader, and a test, sees them at the operation) under a `title` that is
 * the component's name, and every named schema inside is a `$ref`. Error
 * responses are shared components, each with its headers (`Retry-After` on
 * 429 and 503). `io: "input"`: what a client may send, defaults optional.
 */
export function openApiDocument(): JsonObject {
  const names = componentNames(ROUTES);
  const schemas = namedSchemas(names);
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, names, schemas);
  return {
    openapi: "3.1.0",
    info: { title: "agentd", version: PROTOCOL_VERSION, description: "Self-hostable runtime for LLM agents." },
    tags: TAGS,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas,
      responses: errorResponses(),
      headers: {
        RequestId: {
          description: "This request's id (the one sent as X-Request-Id when valid, else a new one); errors carry it too",
          schema: { type: "string" },
        },
        RetryAfter: { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 0 } },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
  };
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

function namedSchemas(names: Names): Record<string, JsonObject> {
  const { schemas } = z.toJSONSchema(names, { io: "input", unrepresentable: "any", uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
      return [name, rest];
    }),
  );
}

function operation(route: RouteDeclaration, names: Names, schemas: Record<string, JsonObject>): JsonObject {
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
  for (const [status, response] of Object.entries(route.responses)) responses[status] = success(response, names, schemas);
  for (const status of errorStatuses(route)) responses[String(status)] ??= ref("responses", ERROR_RESPONSES[status]!.name);
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === "none" ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.body.required,
            content: { "application/json": { schema: inline(route.body.schema, names, schemas) } },
          },
        }
      : {}),
    responses,
  };
}

function success(response: SuccessResponse, names: Names, schemas: Record<string, JsonObject>): JsonObject {
  const mediaType = response.mediaType ?? "application/json";
  const schema =
    mediaType === "text/event-stream"
      ? ref("schemas", names.get(response.schema!)!.id)
      : response.schema
        ? inline(response.schema, names, schemas)
        : { type: mediaType === "text/plain" ? "string" : "object" };
  return {
    description: response.description,
    headers: { "X-Request-Id": ref("headers", "RequestId") },
    content: { [mediaType]: { schema } },
  };
}

/** A body's own schema, written out with its component name as `title`; what it contains stays `$ref`s. */
function inline(schema: z.ZodType, names: Names, schemas: Record<string, JsonObject>): JsonObject {
  const name = names.get(schema)!.id;
  return { title: name, ...schemas[name] };
}

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
