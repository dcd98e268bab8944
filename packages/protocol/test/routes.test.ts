import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ERROR_RESPONSES,
  IDEMPOTENCY_KEY,
  KEY_SCOPES,
  PATH_PARAMETERS,
  PATH_ROUTES,
  ROUTES,
  componentNames,
  defineRoute,
  errorStatuses,
  openApiDocument,
  pathParameters,
  paths,
  routes,
  type RouteDeclaration,
} from "@agentd/protocol";

const table: readonly RouteDeclaration[] = ROUTES;
type Json = Record<string, any>;

describe("the route table", () => {
  it("keys each route by its operationId, a camelCase verb and noun (getRun, listRuns), once", () => {
    for (const [key, route] of Object.entries(routes)) expect(route.operationId, key).toBe(key);
    for (const route of table) expect(route.operationId).toMatch(/^[a-z]+[A-Z][A-Za-z0-9]*$/);
    const signatures = table.map((route) => `${route.method} ${route.path}`);
    expect(new Set(signatures).size, "two declarations of one method and path").toBe(signatures.length);
  });

  it("describes every path parameter", () => {
    for (const route of table) {
      for (const name of pathParameters(route.path)) expect(PATH_PARAMETERS[name], `${route.operationId}: {${name}}`).toBeTruthy();
    }
  });

  it("names a body after its operation when schemas.ts does not name it", () => {
    const body = z.strictObject({ name: z.string() });
    const reply = z.object({ id: z.string() });
    const route = defineRoute({
      operationId: "createThing",
      method: "POST",
      path: "/things",
      summary: "A thing",
      tag: "system",
      auth: "none",
      body: { schema: body, required: true },
      responses: { 201: { description: "Created", schema: reply } },
    });
    const names = componentNames([...table, route]);
    expect([names.get(body)?.id, names.get(reply)?.id]).toEqual(["CreateThingRequest", "CreateThingResponse"]);
    expect(names.get(routes.submitToolResult.body.schema)?.id).toBe("ToolResultRequest");
  });

  it("documents exactly the query parameters the route's schema accepts, in its order", () => {
    for (const route of table) {
      const schema = route.query?.schema;
      if (!(schema instanceof z.ZodObject)) continue;
      expect(
        route.query!.parameters.map((parameter) => parameter.name),
        route.operationId,
      ).toEqual(Object.keys(schema.shape));
    }
  });

  it("names the scope a key needs on every route that takes a key, and on no other", () => {
    for (const route of table) {
      const scope = route.scope;
      if (route.auth === "key") expect(KEY_SCOPES, route.operationId).toContain(scope);
      else expect(scope, route.operationId).toBeUndefined();
    }
  });

  it("takes an Idempotency-Key on every POST that creates something, and on no other route", () => {
    const keyed = table.filter((route) => route.headers?.includes(IDEMPOTENCY_KEY)).map((route) => route.operationId);
    expect(keyed.sort()).toEqual(["createAgent", "createAgentRevision", "createKey", "createRun", "createSession", "sendSessionMessage"]);
  });

  it("builds the SDK's paths from the table, each parameter percent-encoded", () => {
    expect(paths.workspace("a b")).toBe("/api/v1/workspaces/a%20b");
    expect(paths.run("a/b?c#d")).toBe("/agent-runs/a%2Fb%3Fc%23d");
    expect(paths.runStream("r")).toBe("/agent-runs/r/stream");
    expect(paths.sessionMessages("s")).toBe("/agent-sessions/s/messages");
    for (const [name, operationId] of Object.entries(PATH_ROUTES)) {
      const build = (paths as unknown as Record<string, (...ids: string[]) => string>)[name]!;
      const ids = pathParameters(routes[operationId].path)
        .slice(1)
        .map((param) => `<${param}>`);
      expect(`/api/v1/workspaces/{workspace}${decodeURIComponent(build(...ids))}`, name).toBe(
        routes[operationId].path.replace(/\{(\w+)\}/g, (whole, param: string) => (param === "workspace" ? whole : `<${param}>`)),
      );
    }
  });
});

describe("the OpenAPI document generated from the table", () => {
  const doc = openApiDocument() as Json;
  const operations = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );

  it("has one operation per route, with its operationId, tag and summary", () => {
    expect(operations.map(({ operation }) => operation.operationId).sort()).toEqual(table.map((route) => route.operationId).sort());
    for (const { path, method, operation } of operations) {
      const route = routes[operation.operationId as keyof typeof routes] as RouteDeclaration;
      expect([route.method, route.path]).toEqual([method.toUpperCase(), path]);
      expect(operation.tags).toEqual([route.tag]);
      expect(operation.summary).toBe(route.summary);
      expect(operation.security, route.operationId).toEqual(route.auth === "none" ? [] : undefined);
    }
  });

  it("lists every error a route can answer with, 429 and 503 with Retry-After", () => {
    for (const { operation } of operations) {
      const route = routes[operation.operationId as keyof typeof routes] as RouteDeclaration;
      for (const status of errorStatuses(route))
        expect(operation.responses[String(status)], `${route.operationId} ${status}`).toBeDefined();
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["500", "503"]));
    }
    const responses = doc.components.responses as Record<string, Json>;
    for (const { name, retryAfter } of Object.values(ERROR_RESPONSES)) {
      expect(responses[name]!.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ErrorBody" });
      expect(Object.keys(responses[name]!.headers).includes("Retry-After"), name).toBe(retryAfter === true);
    }
    expect(routes.createRun.errors).toContain(429);
    expect(operations.find(({ operation }) => operation.operationId === "createRun")!.operation.responses["429"]).toEqual({
      $ref: "#/components/responses/TooManyRequests",
    });
  });

  it("declares the request headers: Idempotency-Key on creates, Last-Event-ID and lastSeq on the stream", () => {
    const parameters = (operationId: string) =>
      operations.find(({ operation }) => operation.operationId === operationId)!.operation.parameters.map((p: Json) => `${p.in}:${p.name}`);
    expect(parameters("createRun")).toEqual(["path:workspace", "header:Idempotency-Key"]);
    expect(parameters("streamRun")).toEqual(["path:workspace", "path:runId", "query:lastSeq", "header:Last-Event-ID"]);
  });

  it("names its component schemas, and every $ref points at one that exists", () => {
    const schemas = doc.components.schemas as Record<string, unknown>;
    expect(Object.keys(schemas).length).toBeGreaterThan(30);
    for (const name of ["RunSnapshot", "RunEvent", "ErrorBody", "ToolRef", "CreateRunRequest", "SessionInfo", "ModelCatalog"])
      expect(schemas).toHaveProperty(name);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(50);
    for (const [, kind, name] of refs) expect((doc.components as Json)[kind!]?.[name!], `${kind}/${name}`).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain("#/$defs/");
  });

  it("writes a body's fields at the operation, titled with its component's name", () => {
    const create = (doc.paths as Json)["/api/v1/workspaces/{workspace}/agent-runs"].post.requestBody.content["application/json"].schema;
    expect(create.title).toBe("CreateRunRequest");
    expect(create.properties.tools.items).toEqual({ $ref: "#/components/schemas/ToolRef" });
    const { title: _title, ...fields } = create;
    expect(fields).toEqual((doc.components as Json).schemas.CreateRunRequest);
  });
});
