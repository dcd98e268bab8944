import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { ERROR_STATUS } from "@agentd/protocol";
import type { FuzzRequest, FuzzResponse, Outcome } from "./http.js";
import { jsonText } from "./json-text.js";
import { describe } from "./requests.js";
import type { Route } from "./routes.js";

export interface Failure {
  /** What went wrong, as a class: the report counts by it. */
  kind: string;
  detail: string;
  request: FuzzRequest;
  response?: FuzzResponse;
}

const STATUSES: Record<string, number> = ERROR_STATUS;

/** How many successes were validated against the document (a check that never runs proves nothing). */
export const checked = { successes: 0 };

/**
 * The documented 2xx body of every operation, compiled from the OpenAPI
 * document: a success must look like what the document promises.
 */
export function successSchemas(doc: Record<string, unknown>, routes: Route[]): Map<string, Map<number, ValidateFunction>> {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  ajv.addSchema({ components: (doc as { components?: unknown }).components }, "doc");
  const paths = doc.paths as Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }> }>>;
  const byRoute = new Map<string, Map<number, ValidateFunction>>();
  for (const route of routes) {
    if (route.body) BODY_ROUTES.add(route.id);
    const responses = paths[route.template]?.[route.method.toLowerCase()]?.responses ?? {};
    const byStatus = new Map<number, ValidateFunction>();
    for (const [status, response] of Object.entries(responses)) {
      const schema = response.content?.["application/json"]?.schema;
      if (!status.startsWith("2") || !schema) continue;
      // `#/components/...` of the document, from inside a schema compiled on its own.
      const { $schema: _ignored, ...rest } = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Record<string, unknown>;
      byStatus.set(Number(status), ajv.compile(rest));
    }
    byRoute.set(route.id, byStatus);
  }
  return byRoute;
}

/**
 * What every response must be, whatever was sent: an answer (no reset, no
 * hang); no 5xx but a 503 with Retry-After (load shed); every error in the
 * documented shape with a code whose status it has; no success for a key
 * that is not the workspace's; a success in the documented shape.
 */
export function check(req: FuzzRequest, outcome: Outcome, schemas: Map<string, Map<number, ValidateFunction>>): Failure | undefined {
  if (!outcome.ok) {
    const kind = outcome.error.startsWith("client refused")
      ? "harness: node:http refused to send the request"
      : /no answer within/.test(outcome.error)
        ? "no answer (hang)"
        : "connection reset / closed without an answer";
    return { kind, detail: outcome.error, request: req };
  }
  const res = outcome.response;
  const fail = (kind: string, detail: string): Failure => ({ kind, detail, request: req, response: res });
  if (res.status === 0) return undefined; // raw request sent incomplete on purpose: no answer owed
  // agentd sets no cookie: one in a response is a header a request injected (raw tweak crlf-in-header).
  if (res.headers["set-cookie"] !== undefined) return fail("a header injected into the response", JSON.stringify(res.headers["set-cookie"]));
  const fromNode = res.headers["x-request-id"] === undefined;
  if (res.status >= 500 && !(res.status === 503 && res.headers["retry-after"] !== undefined)) {
    return fail(fromNode ? `${res.status} written by node:http, not agentd` : `${res.status} from agentd`, res.text.slice(0, 300));
  }
  if (res.status < 200 || (res.status >= 300 && res.status < 400)) return fail(`unexpected status ${res.status}`, res.text.slice(0, 300));
  const head = req.method === "HEAD";
  if (res.status >= 400) {
    if (head) return undefined;
    if (fromNode) return fail(`${res.status} written by node:http without the error body`, JSON.stringify(res.text.slice(0, 200)));
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      return fail("error body is not JSON", res.text.slice(0, 300));
    }
    const missing = ["error", "code", "message", "requestId"].filter((field) => typeof body[field] !== "string");
    if (missing.length > 0) return fail("error body not in the documented shape", `missing ${missing.join(", ")}`);
    if (body.error !== body.message) return fail("error body: error and message differ", "");
    const expected = STATUSES[body.code as string];
    if (expected === undefined) return fail("error body: unknown code", String(body.code));
    if (expected !== res.status) return fail(`status ${res.status} with code ${String(body.code)} (documented ${expected})`, "");
    if (body.requestId !== res.headers["x-request-id"]) return fail("error body: requestId differs from X-Request-Id", "");
    return undefined;
  }
  // 2xx
  if (req.unauthorized && req.route !== "(no route)") return fail("success with a key that is not the workspace's", "");
  if (req.body && req.method === req.route.split(" ")[0] && BODY_ROUTES.has(req.route) && hasLoneSurrogate(req)) {
    return fail("success for a body with a lone surrogate (stored as U+FFFD: what comes back is not what was sent)", "");
  }
  if (head || res.streamCut || String(res.headers["content-type"] ?? "").startsWith("text/event-stream")) return undefined;
  // The one text route (documented as text/plain): Prometheus' exposition format.
  if (req.route === "GET /metrics" && res.status === 200 && String(res.headers["content-type"] ?? "").startsWith("text/plain")) return undefined;
  const validate = schemas.get(req.route)?.get(res.status);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return fail("success body is not JSON", res.text.slice(0, 300));
  }
  if (req.method !== req.route.split(" ")[0] || req.tags.includes("path-tweak")) return undefined; // another route answered
  if (validate) checked.successes++;
  if (validate && !validate(body)) return fail("success body does not match the OpenAPI document", JSON.stringify(validate.errors?.slice(0, 2)));
  return undefined;
}

/** Operations whose body the server parses (filled by successSchemas from the document). */
const BODY_ROUTES = new Set<string>();

/**
 * A lone surrogate in what the server reads from the body: in a string of
 * the body as JSON.parse gives it. Not in the text as sent: a body with a
 * key twice keeps the last value only, so a lone surrogate in the value it
 * drops is never read, and a success is right (seed 863896 found that). A
 * text that is not JSON falls back to the escape in the text: jsonText
 * writes strings with JSON.stringify, which escapes only lone surrogates (a
 * pair is written as the character), so any such escape not itself escaped
 * is one.
 */
function hasLoneSurrogate(req: FuzzRequest): boolean {
  const text = req.body?.kind === "json" ? jsonText(req.body.value) : req.body?.kind === "text" ? req.body.text : "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return /(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}/.test(text);
  }
  return hasIllFormedString(parsed);
}

function hasIllFormedString(value: unknown): boolean {
  if (typeof value === "string") return !value.isWellFormed();
  if (value === null || typeof value !== "object") return false;
  return Object.entries(value).some(([key, item]) => !key.isWellFormed() || hasIllFormedString(item));
}

/** The report: counts by class, then the first few failing requests of each with their responses. */
export function report(failures: Failure[], perClass = 3, total = 15): string {
  const byKind = new Map<string, Failure[]>();
  for (const failure of failures) byKind.set(failure.kind, [...(byKind.get(failure.kind) ?? []), failure]);
  const lines = [`${failures.length} failing requests in ${byKind.size} classes:`];
  for (const [kind, list] of [...byKind].sort((x, y) => y[1].length - x[1].length)) {
    // Which kind of request: a raw one by its tweak, else by its route.
    const by = new Map<string, number>();
    for (const failure of list) {
      const what = failure.request.raw ? `raw:${failure.request.raw.label}` : failure.request.route;
      by.set(what, (by.get(what) ?? 0) + 1);
    }
    const top = [...by].sort((x, y) => y[1] - x[1]).slice(0, 8);
    lines.push(`  ${String(list.length).padStart(6)}  ${kind}  (${top.map(([what, n]) => `${what}×${n}`).join(", ")}${by.size > top.length ? ", …" : ""})`);
  }
  let shown = 0;
  for (const [kind, list] of byKind) {
    for (const failure of list.slice(0, perClass)) {
      if (shown++ >= total) break;
      lines.push("", `[${kind}] ${failure.detail}`.slice(0, 600), describe(failure.request));
      if (failure.response) {
        lines.push(`  → ${failure.response.status} ${JSON.stringify(failure.response.headers["content-type"] ?? "")} ${failure.response.text.slice(0, 400)}`);
      }
    }
  }
  return lines.join("\n");
}
