import type { JsonSchema } from "./schema-values.js";

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: JsonSchema;
  /** `style: form, explode: true` on an array: the parameter repeated. */
  explode: boolean;
}

/** One operation of the OpenAPI document. */
export interface Route {
  /** `POST /api/v1/workspaces/{workspace}/agent-runs` */
  id: string;
  /** `createRun`: the route table's key. */
  operationId: string;
  method: string;
  template: string;
  params: Parameter[];
  body?: { required: boolean; schema: JsonSchema };
  /** False for `/healthz` and `/openapi.json` (`security: []`). */
  secured: boolean;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

/** Every path and method of the document, with its parameters and JSON request body. */
export function routesOf(doc: Record<string, unknown>): Route[] {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const globalSecurity = (doc.security as unknown[] | undefined) ?? [];
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = [...((item.parameters as unknown as Record<string, unknown>[]) ?? []), ...((operation.parameters as Record<string, unknown>[]) ?? [])].map(
        (p): Parameter => ({
          name: String(p.name),
          in: p.in as Parameter["in"],
          required: p.required === true,
          schema: (p.schema ?? {}) as JsonSchema,
          explode: p.explode === true,
        }),
      );
      const requestBody = operation.requestBody as { required?: boolean; content?: Record<string, { schema?: JsonSchema }> } | undefined;
      const schema = requestBody?.content?.["application/json"]?.schema;
      const security = (operation.security as unknown[] | undefined) ?? globalSecurity;
      routes.push({
        id: `${method.toUpperCase()} ${template}`,
        operationId: String(operation.operationId),
        method: method.toUpperCase(),
        template,
        params,
        ...(schema ? { body: { required: requestBody?.required === true, schema } } : {}),
        secured: security.length > 0,
      });
    }
  }
  return routes;
}

/** Path parameters named in the template, in order. */
export function templateParams(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
}
