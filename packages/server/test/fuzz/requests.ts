import fc from "fast-check";
import type { OperationId } from "@agentd/protocol";
import type { Body, FuzzRequest } from "./http.js";
import { bodyBytes } from "./http.js";
import { deep, hugeString, jsonText, percentEncode } from "./json-text.js";
import { mutatedBody } from "./mutations.js";
import { templateParams, type Parameter, type Route } from "./routes.js";
import { resolver, schemaValue, type JsonSchema } from "./schema-values.js";
import { weirdString } from "./values.js";

/** What the fuzz knows of the server it attacks: keys, and ids that exist. */
export interface World {
  /** The attacked workspace, another one whose traffic must not suffer, and a third whose key is used against A. */
  a: { slug: string; key: string };
  b: { slug: string; key: string };
  c: { slug: string; key: string };
  /** Runs of A: finished, paused on a local tool, paused for an approval; runs of B. */
  runs: { a: string[]; pausedLocal: string[]; pausedApproval: string[]; b: string[] };
  toolUseIds: string[];
  sessions: { a: string[]; ended: string[]; b: string[] };
  /** Real `nextCursor`s of A and B. */
  cursors: string[];
  agentId: string;
  codeTool: string;
  maxBodyBytes: number;
}

export interface RouteHint {
  /** Valid cores of the body; schema-generated optional fields are merged under them. */
  body?: (w: World) => fc.Arbitrary<Record<string, unknown>>;
  /** Values of query parameters better than the schema's (real cursors). */
  query?: Record<string, (w: World) => fc.Arbitrary<string>>;
  /** Ids the path parameters should mostly name. */
  ids?: (w: World) => Partial<Record<string, string[]>>;
}

const prompt = (w: World) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 30 }).map((text) => `hello ${text}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "call get_time {}",
        "call approve_me {}",
        `call ${w.codeTool} {"n":1}`,
        `call ${w.codeTool} {}\ncall get_time {}`,
      ),
    },
  );
const toolSets = (w: World) =>
  fc.constantFrom<unknown[]>(
    [],
    [{ kind: "local", name: "get_time", description: "the time", parameters: { type: "object", properties: {} } }],
    [{ kind: "local", name: "approve_me", requiresApproval: true }],
    [{ kind: "code", name: w.codeTool, parameters: { type: "object", properties: { n: { type: "number" } } } }],
    [
      { kind: "code", name: w.codeTool },
      { kind: "local", name: "get_time" },
    ],
  );
const modelId = fc.constantFrom("mock", "provider:mock", "provider:mock:mock");
const spec = (w: World) =>
  fc.oneof(
    fc.record({ systemPrompt: fc.constantFrom("You are terse.", "s"), modelId, tools: toolSets(w) }, { requiredKeys: ["systemPrompt"] }),
    fc.record({ agentId: fc.constant(w.agentId), tools: toolSets(w) }, { requiredKeys: ["agentId"] }),
  );
const messages = fc.array(fc.record({ role: fc.constantFrom("user", "assistant", "system"), content: fc.string({ maxLength: 20 }) }), {
  minLength: 1,
  maxLength: 3,
});

/**
 * One entry per operation of the route table, by operationId: a route
 * without one is a type error, and the fuzz refuses to run when the
 * document has an operation without one. The body and query schemas come
 * from the document; these only add what a schema cannot say.
 */
export const ROUTE_HINTS: Record<OperationId, RouteHint> = {
  getHealth: {},
  getReadiness: {},
  getMetrics: {},
  getOpenApiDocument: {},
  listModels: {},
  listRuns: {
    query: {
      cursor: (w) => fc.constantFrom(...w.cursors),
      agentId: (w) => fc.constant(w.agentId),
      sessionId: (w) => fc.constantFrom(...w.sessions.a),
    },
  },
  createRun: {
    body: (w) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.tuple(spec(w), prompt(w)).map(([s, p]) => ({ ...s, prompt: p })) },
        { weight: 1, arbitrary: fc.tuple(spec(w), messages).map(([s, m]) => ({ ...s, messages: m })) },
        // A run that pauses on a local tool call: paused runs pile up towards the caps.
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            { systemPrompt: "s", prompt: "call get_time {}", tools: [{ kind: "local", name: "get_time" }] },
            { systemPrompt: "s", prompt: "call approve_me {}", tools: [{ kind: "local", name: "approve_me", requiresApproval: true }] },
          ),
        },
      ),
  },
  getRun: {},
  streamRun: {},
  submitToolResult: {
    body: (w) =>
      fc.record(
        { toolUseId: fc.constantFrom(...w.toolUseIds), result: fc.string({ maxLength: 20 }), error: fc.string({ maxLength: 20 }) },
        { requiredKeys: ["toolUseId"] },
      ),
    ids: (w) => ({ runId: w.runs.pausedLocal }),
  },
  continueRun: {
    body: (w) =>
      fc.record({
        approvals: fc.array(
          fc.record(
            { toolUseId: fc.constantFrom(...w.toolUseIds), approved: fc.boolean(), reason: fc.string({ maxLength: 20 }) },
            { requiredKeys: ["toolUseId", "approved"] },
          ),
          {
            minLength: 1,
            maxLength: 2,
          },
        ),
      }),
    ids: (w) => ({ runId: w.runs.pausedApproval }),
  },
  cancelRun: { body: () => fc.record({ reason: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }) },
  // Mostly paused runs (409: not ended); the known mix still deletes an ended run now and then.
  deleteRun: { ids: (w) => ({ runId: [...w.runs.pausedLocal, ...w.runs.pausedApproval] }) },
  createSession: { body: (w) => spec(w) },
  getSession: {},
  endSession: {},
  sendSessionMessage: {
    body: (w) => fc.record({ prompt: prompt(w), onBusy: fc.constantFrom("reject", "enqueue") }, { requiredKeys: ["prompt"] }),
  },
  listTraces: {
    query: {
      cursor: (w) => fc.constantFrom(...w.cursors),
      agentId: (w) => fc.constant(w.agentId),
      sessionId: (w) => fc.constantFrom(...w.sessions.a),
      status: () => fc.constantFrom("error", "completed,error", "paused", "ok"),
    },
  },
  getTrace: {},
  deleteTrace: {},
  // Windows that parse, mostly (the schema's strings rarely do): some around now, some too wide, some backwards.
  getUsage: {
    query: {
      from: () => fc.constantFrom(new Date(Date.now() - 86_400_000).toISOString(), "2020-01-01", "2099-01-01T00:00:00Z"),
      to: () => fc.constantFrom(new Date(Date.now() + 60_000).toISOString(), "2020-02-01T00:00:00+02:00"),
      groupBy: () => fc.constantFrom("agent", "model", "day", "key", "week"),
    },
  },
  createAgent: {
    body: (w) => fc.record({ id: fc.constantFrom("support", "fuzz-agent", w.agentId, "x_1"), systemPrompt: prompt(w) }),
  },
  listAgents: {},
  getAgent: {},
  deleteAgent: {},
  createAgentRevision: { body: (w) => fc.record({ systemPrompt: prompt(w) }) },
  listAgentRevisions: {},
  getAgentRevision: {},
  listAgentTags: {},
  putAgentTag: {
    body: (w) => fc.record({ agentId: fc.constantFrom("support", "fuzz-agent", w.agentId), revision: fc.constantFrom(1, 2, 3) }),
  },
  deleteAgentTag: {},
  // Keys (issue #12): bodies from the schema; ids unknown or bad only, so no request revokes the key the fuzz attacks with.
  createKey: {
    body: () =>
      fc.record(
        { name: fc.string({ minLength: 1, maxLength: 10 }), scopes: fc.subarray(["runs:read", "runs:write", "*"], { minLength: 1 }) },
        { requiredKeys: ["name"] },
      ),
  },
  listKeys: {},
  getKey: {},
  updateKey: { body: () => fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }) }) },
  deleteKey: {},
  getWorkspaceSettings: {},
  // Days of at least one: the fuzz's runs are all younger, so the sweep (every 5 minutes) deletes none of them.
  putWorkspaceSettings: {
    body: () =>
      fc.oneof(
        fc.record({ retention: fc.record({ days: fc.oneof(fc.integer({ min: 1, max: 3650 }), fc.constant(null)) }) }),
        fc.constant({ retention: null }),
      ),
  },
};

/** A path segment as sent, and the value the server should decode it to (undefined: it should refuse it). */
interface Segment {
  text: string;
  decoded?: string;
}

const plain = (value: string): Segment => ({ text: percentEncode(value), decoded: value });

/** Percent-encoding in bad shape, truncated sequences, encoded lone surrogates, overlong forms, NUL. */
const badSegment: fc.Arbitrary<Segment> = fc.oneof(
  fc.constantFrom("%", "%E0%A4%A", "%zz", "%ED%A0%80", "%C0%AF", "%FF", "%2", "%%41").map((text) => ({ text })),
  fc
    .constantFrom("%00", "a%2Fb", "%2e%2e", "%20", "+", "run_%00x", "%F0%9F%98%80", "%EF%BF%BF", "%E2%80%AE")
    .map((text) => ({ text, decoded: decodeURIComponent(text) })),
  weirdString.filter((s) => s.length > 0).map(plain),
  fc.constantFrom(300, 2_000, 6_000).map((n) => plain("r".repeat(n))),
);

const unknownId = (prefix: string) => fc.stringMatching(/^[A-Za-z0-9]{20}$/).map((id) => plain(`${prefix}_${id}`));

/** Fully percent-encoded: the same id, spelled differently. */
const spelledOut = (id: string): Segment => ({
  text: [...Buffer.from(id, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join(""),
  decoded: id,
});

function segment(name: string, w: World, preferred: string[] | undefined): fc.Arbitrary<Segment> {
  switch (name) {
    case "workspace":
      return fc.oneof(
        { weight: 40, arbitrary: fc.constant(plain(w.a.slug)) },
        { weight: 1, arbitrary: fc.constant(spelledOut(w.a.slug)) },
        { weight: 2, arbitrary: fc.constantFrom(plain(w.b.slug), plain(w.c.slug), plain("nope"), plain(w.a.slug.toUpperCase())) },
        { weight: 1, arbitrary: badSegment },
      );
    case "runId": {
      const known = [...w.runs.a, ...w.runs.pausedLocal, ...w.runs.pausedApproval];
      return fc.oneof(
        ...(preferred && preferred.length > 0 ? [{ weight: 8, arbitrary: fc.constantFrom(...preferred).map(plain) }] : []),
        { weight: 8, arbitrary: fc.constantFrom(...known).map(plain) },
        { weight: 1, arbitrary: fc.constantFrom(...known).map(spelledOut) },
        { weight: 2, arbitrary: fc.constantFrom(...w.runs.b, ...w.sessions.a).map(plain) },
        { weight: 2, arbitrary: unknownId("run") },
        { weight: 2, arbitrary: badSegment },
      );
    }
    case "sessionId":
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...w.sessions.a).map(plain) },
        { weight: 2, arbitrary: fc.constantFrom(...w.sessions.ended).map(plain) },
        { weight: 1, arbitrary: fc.constantFrom(...w.sessions.a).map(spelledOut) },
        { weight: 2, arbitrary: fc.constantFrom(...w.sessions.b, ...w.runs.a).map(plain) },
        { weight: 2, arbitrary: unknownId("ses") },
        { weight: 2, arbitrary: badSegment },
      );
    // The agents registry (issue #11): a registry agent the world may have created, the config's agent, unknown and bad ones.
    case "agentId":
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("support", "fuzz-agent", w.agentId).map(plain) },
        { weight: 2, arbitrary: fc.constantFrom("nope", "Upper", "-lead", "a".repeat(65)).map(plain) },
        { weight: 2, arbitrary: badSegment },
      );
    case "tag":
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("production", "staging").map(plain) },
        { weight: 2, arbitrary: fc.constantFrom("Prod", "_x", "a".repeat(65), "nope").map(plain) },
        { weight: 2, arbitrary: badSegment },
      );
    case "revision":
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("1", "2").map(plain) },
        { weight: 2, arbitrary: fc.constantFrom("0", "-1", "1.5", "abc", "99999999999", "01").map(plain) },
        // Not `%2e%2e`: a dot segment, which URL parsing resolves, so `/revisions/%2e%2e` is GET /agents/{agentId}, another route answering.
        { weight: 2, arbitrary: badSegment.filter((segment) => segment.text !== "%2e%2e") },
      );
    case "keyId":
      return fc.oneof({ weight: 4, arbitrary: unknownId("key") }, { weight: 1, arbitrary: badSegment });
    default:
      throw new Error(`no generator for the path parameter {${name}}: add one to segment() in requests.ts`);
  }
}

/** Who the request claims to be: the workspace the key is valid for, if it is. */
interface Auth {
  headers: Record<string, string | string[]>;
  workspace?: string;
  tag: string;
}

function authArb(w: World): fc.Arbitrary<Auth> {
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  return fc.oneof(
    {
      weight: 40,
      arbitrary: fc.constantFrom<Auth>(
        { headers: bearer(w.a.key), workspace: w.a.slug, tag: "key:a" },
        { headers: { "x-api-key": w.a.key }, workspace: w.a.slug, tag: "key:a(x-api-key)" },
        { headers: { authorization: `bearer   ${w.a.key}  ` }, workspace: w.a.slug, tag: "key:a(spaced)" },
        {
          headers: { "x-api-key": w.a.key, authorization: "Bearer agd_wrongwrongwrongwrongwrongwrong12" },
          workspace: w.a.slug,
          tag: "key:a(x-api-key wins)",
        },
      ),
    },
    { weight: 2, arbitrary: fc.constant<Auth>({ headers: {}, tag: "key:none" }) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<Record<string, string>>(
          { authorization: "Bearer" },
          { authorization: "Bearer " },
          { authorization: `Bearer ${w.a.key} extra` },
          { authorization: `Basic ${Buffer.from(`u:${w.a.key}`).toString("base64")}` },
          { authorization: `Token ${w.a.key}` },
          { authorization: `Bearer ${w.a.key.slice(0, -1)}` },
          { authorization: `Bearer ${w.a.key}x` },
          { authorization: `Bearer ${w.a.key.toUpperCase()}` },
          {
            authorization:
              "Bearer agd_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
          },
          { authorization: `Bearer ${"k".repeat(4000)}` },
          { "x-api-key": " " },
          { "x-api-key": "%00" },
        )
        .map((headers): Auth => ({ headers, tag: "key:malformed" })),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Auth>(
        { headers: bearer(w.b.key), workspace: w.b.slug, tag: "key:b" },
        { headers: { "x-api-key": w.c.key }, workspace: w.c.slug, tag: "key:c" },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.stringMatching(/^[A-Za-z0-9]{32}$/).map((id): Auth => ({ headers: bearer(`agd_${id}`), tag: "key:unknown" })),
    },
  );
}

/** A query-string piece: percent-encoded when sent, unless `verbatim` (deliberately broken encoding). */
interface QueryPart {
  name: string;
  value?: string;
  verbatim?: boolean;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
const WHEN = "2026-01-01T00:00:00.000Z";

function badCursor(w: World): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "",
      "=",
      "====",
      "a",
      "!!!",
      "a".repeat(600),
      b64("x|y"),
      b64(`${WHEN}|`),
      b64("|run_x"),
      b64(`${WHEN}|run_x`),
      b64(`9999-99-99T99:99:99.999Z|run_x`),
      b64(`${WHEN}|\u0000`),
      b64(`${WHEN}|\ud800`),
      b64(`${WHEN}|' OR 1=1 --`),
      b64(`${WHEN}|${"x".repeat(380)}`),
      b64(`${WHEN}|a|b`),
      b64(`+275760-09-13T00:00:00.000Z|x`),
      Buffer.from([0xff, 0xfe, 0x7c, 0x80]).toString("base64url"),
    ),
    fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("")), maxLength: 64 }),
    fc.tuple(fc.constantFrom(...w.cursors), fc.nat(), fc.constantFrom("", "=", "==", "A", "+", "/", ".")).map(([cursor, at, insert]) => {
      const i = at % (cursor.length + 1);
      return `${cursor.slice(0, i)}${insert}${cursor.slice(i + (insert === "" ? 1 : 0))}`;
    }),
    fc.string({ maxLength: 40 }).map(b64),
  );
}

function queryMutation(w: World, route: Route): fc.Arbitrary<{ parts: QueryPart[]; tag: string }> {
  const names = route.params.filter((p) => p.in === "query").map((p) => p.name);
  const anyName = names.length > 0 ? fc.constantFrom(...names) : fc.constantFrom("limit", "cursor");
  const one = (tag: string, parts: fc.Arbitrary<QueryPart[]>) => parts.map((p) => ({ parts: p, tag }));
  return fc.oneof(
    one(
      "query:repeat",
      fc.tuple(anyName, fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([name, x, y]) => [
        { name, value: x },
        { name, value: y },
      ]),
    ),
    one(
      "query:unknown",
      fc
        .tuple(
          fc.constantFrom(
            "__proto__",
            "constructor",
            "prototype",
            "stauts",
            "LIMIT",
            "limit[]",
            "",
            "toString",
            "a".repeat(300),
            "hasOwnProperty",
          ),
          fc.string({ maxLength: 8 }),
        )
        .map(([name, value]) => [{ name, value }]),
    ),
    // At most 4 KB encoded each (3 of them stay under node's 16 KB header limit; raw:huge-header goes past it).
    one(
      "query:huge",
      fc
        .tuple(anyName, fc.constantFrom(300, 1_000, 4_000), fc.constantFrom("x", "é", "%"))
        .map(([name, n, unit]) => [{ name, value: unit.repeat(Math.min(n, Math.floor(4_000 / percentEncode(unit).length))) }]),
    ),
    one(
      "query:bad-percent",
      fc
        .tuple(anyName, fc.constantFrom("%", "%zz", "%E0%A4", "%ED%A0%80", "%00", "%C0%AF", "%FF%FE", "%%", "%2", "%u0041", "a%"))
        .map(([name, value]) => [{ name, value, verbatim: true }]),
    ),
    one(
      "query:limit",
      fc
        .constantFrom(
          "-1",
          "0",
          "NaN",
          "1e2",
          "101",
          "1.5",
          "",
          "Infinity",
          "0x10",
          " 5",
          "00001",
          "99999999999999999999",
          "-0",
          "+5",
          "5abc",
          "\u0661",
          "100",
          "1",
        )
        .map((value) => [{ name: "limit", value }]),
    ),
    one(
      "query:cursor",
      badCursor(w).map((value) => [{ name: "cursor", value }]),
    ),
    one(
      "query:date",
      fc
        .tuple(
          fc.constantFrom("createdAfter", "createdBefore"),
          fc.constantFrom(
            "2026-02-30",
            "2026-01-01T25:00:00Z",
            "+275760-09-13T00:00:00Z",
            "0000-01-01",
            "9999-12-31T23:59:59.999999999Z",
            "2026-01-01T00:00:00",
            "1e10",
            "now",
            "",
            "2026-01-01T00:00:00.000+99:99",
          ),
        )
        .map(([name, value]) => [{ name, value }]),
    ),
    one(
      "query:status",
      fc
        .constantFrom("nope", "", ",", "paused,,running", "PAUSED", "queued,".repeat(200), "__proto__")
        .map((value) => [{ name: "status", value }]),
    ),
    one(
      "query:lastSeq",
      fc
        .constantFrom("-1", "abc", "1e3", "", "9".repeat(20), "007", "999999999999999", "1.5", " 3")
        .map((value) => [{ name: "lastSeq", value }]),
    ),
    one(
      "query:metadata",
      fc
        .constantFrom<QueryPart[]>(
          [{ name: "metadata", value: "x" }],
          [{ name: "metadata", value: ":v" }],
          [{ name: "metadata", value: "__proto__:x" }],
          [{ name: "metadata", value: "constructor:prototype" }],
          [{ name: "metadata", value: `k:${"v".repeat(300)}` }],
          Array.from({ length: 20 }, (_, i) => ({ name: "metadata", value: `k${i}:v` })),
          [
            { name: "metadata", value: "k:v" },
            { name: "metadata", value: "k:w" },
          ],
          [{ name: "metadata", value: "a\u0000:b" }],
          [{ name: "metadata", value: "k:\ud800" }],
        )
        .map((parts) => parts),
    ),
    one(
      "query:shape",
      fc.constantFrom("&&&", "=x", "a=b=c", ";", "+", "%26", "?", "&=&", "limit").map((name) => [{ name, verbatim: true }]),
    ),
  );
}

function paramValue(param: Parameter, w: World, hint: RouteHint, resolve: ReturnType<typeof resolver>): fc.Arbitrary<string[]> {
  const override = hint.query?.[param.name];
  if (override) return override(w).map((value) => [value]);
  const schema = param.schema;
  if (schema.type === "array" && schema.items) {
    return fc
      .array(schemaValue(schema.items, resolve), { minLength: 1, maxLength: 3 })
      .chain((values) => (param.explode ? fc.constant(values.map(String)) : fc.constant([values.map(String).join(",")])));
  }
  return schemaValue(schema, resolve).map((value) => [String(value)]);
}

function queryArb(
  route: Route,
  w: World,
  hint: RouteHint,
  resolve: ReturnType<typeof resolver>,
): fc.Arbitrary<{ parts: QueryPart[]; tags: string[] }> {
  const params = route.params.filter((p) => p.in === "query");
  const valid = fc
    .tuple(
      ...params.map((p) =>
        fc.option(
          paramValue(p, w, hint, resolve).map((values) => values.map((value) => ({ name: p.name, value }))),
          { freq: 2 },
        ),
      ),
    )
    .map((chosen) => chosen.flatMap((parts) => parts ?? []));
  const mutations = fc.array(queryMutation(w, route), { maxLength: 3 });
  const mutationWeight = route.method === "GET" ? 3 : 1;
  return fc
    .tuple(valid, fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: mutationWeight, arbitrary: mutations }))
    .map(([parts, changes]) => ({ parts: [...parts, ...changes.flatMap((c) => c.parts)], tags: changes.map((c) => c.tag) }));
}

function queryString(parts: QueryPart[]): string {
  if (parts.length === 0) return "";
  return `?${parts.map((p) => (p.verbatim ? (p.value === undefined ? p.name : `${percentEncode(p.name)}=${p.value}`) : `${percentEncode(p.name)}=${percentEncode(p.value ?? "")}`)).join("&")}`;
}

/** Whole bodies that are not the JSON object a route wants. */
function oddBody(maxBodyBytes: number, valid: unknown): fc.Arbitrary<{ body: Body; tag: string }> {
  const text = (t: string, tag: string) => ({ body: { kind: "text", text: t } as Body, tag });
  const validText = jsonText(valid);
  return fc.oneof(
    fc.constantFrom(
      text("", "body:empty"),
      text("  \n\t", "body:blank"),
      text("null", "body:null"),
      text("[]", "body:array"),
      text("1", "body:number"),
      text('"s"', "body:string"),
      text("true", "body:true"),
      text("not json", "body:text"),
      text("{", "body:truncated"),
      text('{"prompt":', "body:truncated"),
      text(validText.slice(0, Math.max(1, validText.length - 1)), "body:truncated-valid"),
      text(`${validText}x`, "body:trailing-garbage"),
      text(`${validText}${validText}`, "body:twice"),
      text(`\ufeff${validText}`, "body:bom"),
      text("{'a':1}", "body:single-quotes"),
      text("{a:1}", "body:bare-keys"),
      text("NaN", "body:nan"),
      text('{"a":1,}', "body:trailing-comma"),
      text("systemPrompt=x&prompt=y", "body:form"),
      text("<run/>", "body:xml"),
      text('{"prompt":"a\u0000b","systemPrompt":"s"}', "body:raw-nul-in-string"),
      text(`[${validText}]`, "body:wrapped-in-array"),
    ),
    fc.constantFrom(
      { body: { kind: "bytes", bytes: [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00], label: "<utf-16 bytes>" } as Body, tag: "body:utf16" },
      { body: { kind: "bytes", bytes: [0xc3, 0x28, 0xa0, 0xa1], label: "<invalid utf-8>" } as Body, tag: "body:invalid-utf8" },
      {
        body: {
          kind: "bytes",
          bytes: [...Buffer.from('{"systemPrompt":"s","prompt":"'), 0xed, 0xa0, 0x80, 0xc0, 0xaf, ...Buffer.from('"}')],
          label: '{"systemPrompt":"s","prompt":"<ED A0 80 C0 AF>"}',
        } as Body,
        tag: "body:cesu-surrogate-bytes",
      },
    ),
    fc
      .tuple(
        fc.constantFrom(1_000, 100_000),
        fc.constantFrom("array", "object", "unclosed") as fc.Arbitrary<"array" | "object" | "unclosed">,
      )
      .map(([depth, style]) => ({ body: { kind: "json", value: deep(depth, style) } as Body, tag: `body:deep-${style}-${depth}` })),
    fc
      .constantFrom(maxBodyBytes + 1, maxBodyBytes - 2)
      .map((size) => ({ body: { kind: "json", value: hugeString("a", size - 2) } as Body, tag: `body:huge-${size}` })),
  );
}

const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "APPLICATION/JSON",
  "application/jsonx",
  "application/merge-patch+json",
  "application/json, text/plain",
  "json",
  "",
  "*/*",
  "application/json; charset=\u00e9",
];

function headerArb(route: Route, hasBody: boolean): fc.Arbitrary<{ headers: Record<string, string | string[]>; tags: string[] }> {
  // Header parameters the document declares get them often; other routes now and then.
  const declares = (name: string) => route.params.some((p) => p.in === "header" && p.name.toLowerCase() === name);
  const contentType = hasBody
    ? fc.oneof(
        { weight: 12, arbitrary: fc.constant<string | undefined>("application/json") },
        { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
        { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES) },
      )
    : fc.oneof(
        { weight: 12, arbitrary: fc.constant<string | undefined>(undefined) },
        { weight: 1, arbitrary: fc.constantFrom<string | undefined>("application/json", "text/plain") },
      );
  const idempotency = fc.oneof(
    { weight: declares("idempotency-key") ? 12 : 60, arbitrary: fc.constant<string | string[] | undefined>(undefined) },
    // A small pool: the same key comes back with other bodies and other paths.
    { weight: 1, arbitrary: fc.constantFrom<string | string[]>("k1", "k2", "k3") },
    {
      weight: 1,
      arbitrary: fc.constantFrom<string | string[]>(
        "",
        "a".repeat(255),
        "a".repeat(256),
        "k\u00e9",
        " k1 ",
        "k1,k2",
        ["k1", "k2"],
        "\u00ff".repeat(200),
      ),
    },
    { weight: 1, arbitrary: fc.uuid() },
  );
  const lastEventId = fc.oneof(
    { weight: declares("last-event-id") ? 3 : 40, arbitrary: fc.constant<string | string[] | undefined>(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<string | string[]>(
        "0",
        "1",
        "3",
        "-1",
        "abc",
        "1e3",
        "",
        "9".repeat(20),
        " 7 ",
        "0x10",
        "1.5",
        "007",
        "999999999999999",
        ["1", "2"],
      ),
    },
  );
  const misc = fc.oneof(
    { weight: 30, arbitrary: fc.constant<Record<string, string>>({}) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Record<string, string>>(
        { "x-request-id": "../../etc" },
        { "x-request-id": "r".repeat(200) },
        { "x-request-id": "my-request.1" },
        { accept: "text/event-stream" },
        { accept: "application/xml" },
        { "content-encoding": "gzip" },
        { "x-http-method-override": "DELETE" },
        { expect: "100-continue" },
        { connection: "close" },
        { "accept-encoding": "br, gzip" },
        { range: "bytes=0-1" },
        { "if-none-match": "*" },
      ),
    },
  );
  return fc.record({ contentType, idempotency, lastEventId, misc }).map(({ contentType, idempotency, lastEventId, misc }) => {
    const headers: Record<string, string | string[]> = { ...misc };
    const tags: string[] = [];
    if (contentType !== undefined) headers["content-type"] = contentType;
    if (hasBody && contentType !== "application/json") tags.push(`content-type:${contentType ?? "none"}`);
    if (idempotency !== undefined) {
      headers["idempotency-key"] = idempotency;
      tags.push("idempotency-key");
    }
    if (lastEventId !== undefined) {
      headers["last-event-id"] = lastEventId;
      tags.push("last-event-id");
    }
    for (const name of Object.keys(misc)) tags.push(`header:${name}`);
    return { headers, tags };
  });
}

const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"];

/** Requests node:http would refuse or correct: written to a socket as bytes. */
type RawTweak =
  | "absolute-url"
  | "bad-absolute-url"
  | "asterisk"
  | "no-leading-slash"
  | "latin1-path"
  | "space-in-path"
  | "ctl-in-header"
  | "latin1-header"
  | "huge-header"
  | "many-headers"
  | "duplicate-content-length"
  | "content-length-and-chunked"
  | "bad-chunk"
  | "obs-fold"
  | "crlf-in-header"
  | "http10"
  | "unknown-method"
  | "lowercase-method"
  | "expect-bogus"
  | "bad-version"
  | "truncated-body"
  | "upgrade"
  | "pipelined";

const RAW_TWEAKS: RawTweak[] = [
  "absolute-url",
  "bad-absolute-url",
  "asterisk",
  "no-leading-slash",
  "latin1-path",
  "space-in-path",
  "ctl-in-header",
  "latin1-header",
  "huge-header",
  "many-headers",
  "duplicate-content-length",
  "content-length-and-chunked",
  "bad-chunk",
  "obs-fold",
  "crlf-in-header",
  "http10",
  "unknown-method",
  "lowercase-method",
  "expect-bogus",
  "bad-version",
  "truncated-body",
  "upgrade",
  "pipelined",
];

function rawRequest(req: FuzzRequest, tweak: RawTweak, pick: number): FuzzRequest {
  const bytes = (): Buffer => {
    let method = req.method;
    let target = req.path;
    let version = "HTTP/1.1";
    const lines: string[] = [];
    const body = bodyBytes(req.body) ?? Buffer.alloc(0);
    let payload: Buffer = body;
    const headers: [string, string][] = [["host", "agentd"]];
    for (const [name, value] of Object.entries(req.headers))
      for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v]);
    let framing: [string, string][] = body.length > 0 || req.method === "POST" ? [["content-length", String(body.length)]] : [];
    switch (tweak) {
      case "absolute-url":
        target = `http://agentd${req.path}`;
        break;
      case "bad-absolute-url":
        target = ["http://[::1", "http://a:99999/x", "http://%zz/", "http://a b/", "https://[/healthz", "http://agentd:-1/"][pick % 6]!;
        break;
      case "asterisk":
        target = "*";
        break;
      case "no-leading-slash":
        target = req.path.slice(1);
        break;
      case "latin1-path":
        target = `${req.path}\u00e9\u00ff`;
        break;
      case "space-in-path":
        target = `${req.path} x`;
        break;
      case "ctl-in-header":
        headers.push(["x-fuzz", "a\u0001b\u0000c"]);
        break;
      case "latin1-header":
        headers.push(["x-fuzz", "\u00ff\u00fe"], ["idempotency-key", "k\u00ff"]);
        break;
      case "huge-header":
        headers.push(["x-fuzz", "h".repeat(20_000)]);
        break;
      case "many-headers":
        for (let i = 0; i < 3_000; i++) headers.push([`x-h${i}`, "v"]);
        break;
      case "duplicate-content-length":
        framing = [
          ["content-length", String(body.length)],
          ["content-length", String(body.length + 1)],
        ];
        break;
      case "content-length-and-chunked":
        framing = [
          ["content-length", String(body.length)],
          ["transfer-encoding", "chunked"],
        ];
        break;
      case "bad-chunk":
        framing = [["transfer-encoding", "chunked"]];
        payload = Buffer.concat([Buffer.from("zz\r\n"), body, Buffer.from("\r\n0\r\n\r\n")]);
        break;
      case "obs-fold":
        headers.push(["x-fuzz", "a\r\n  folded"]);
        break;
      case "crlf-in-header": {
        // A bare CR or LF in a header agentd reads (X-Request-Id it echoes), then a header of the attacker's: check.ts fails on any Set-Cookie.
        const name = ["x-request-id", "idempotency-key", "last-event-id"][pick % 3]!;
        headers.push([name, `1${["\r", "\n", "\r\n", "\n\r"][Math.floor(pick / 3) % 4]}set-cookie: fuzz=1`]);
        break;
      }
      case "http10":
        version = "HTTP/1.0";
        headers.shift();
        break;
      case "unknown-method":
        method = "FUZZ";
        break;
      case "lowercase-method":
        method = method.toLowerCase();
        break;
      case "expect-bogus":
        headers.push(["expect", "fuzz"]);
        break;
      case "bad-version":
        version = ["HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTX/1.1"][pick % 4]!;
        break;
      case "truncated-body":
        framing = [["content-length", String(body.length + 100)]];
        break;
      case "upgrade":
        headers.push(["connection", "upgrade"], ["upgrade", "websocket"]);
        break;
      case "pipelined":
        break;
    }
    lines.push(`${method} ${target} ${version}`);
    for (const [name, value] of [...headers, ...framing]) lines.push(`${name}: ${value}`);
    // (node:http refuses anything after a `connection: close` request: the pipelined one closes the second.)
    if (tweak !== "http10" && tweak !== "pipelined") lines.push("connection: close");
    const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    // Pipelined: a second request right behind the first on the same socket; the first is the one checked.
    const tail =
      tweak === "pipelined" ? Buffer.from("GET /healthz HTTP/1.1\r\nhost: agentd\r\nconnection: close\r\n\r\n", "latin1") : Buffer.alloc(0);
    return Buffer.concat([head, payload, tail]);
  };
  return { ...req, raw: { label: tweak, bytes, expectResponse: tweak !== "truncated-body" }, tags: [...req.tags, `raw:${tweak}`] };
}

/** `arbitrary` once in `every` times, else null. */
function rarely<T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** Path changes that should miss the route or hit it another way. */
const pathTweak = fc.constantFrom(
  (p: string) => `${p}/`,
  (p: string) => p.replace("/api/", "//api/"),
  (p: string) => p.replace("/api/v1/", "/API/v1/"),
  (p: string) => `${p}/extra`,
  (p: string) => p.slice(0, p.lastIndexOf("/")) || "/",
  (p: string) => p.replace("/api/", "/./api/"),
  (p: string) => `${p}/../${p.split("/").pop() ?? ""}`,
  (p: string) => `${p}%2F`,
  (p: string) => `${p}#fragment`,
);

/** Requests of one operation: its parameters and body from the document, with the mutations above. */
export function routeRequests(route: Route, w: World, doc: Record<string, unknown>): fc.Arbitrary<FuzzRequest> {
  const hint = (ROUTE_HINTS as Record<string, RouteHint | undefined>)[route.operationId];
  if (hint === undefined) throw new Error(`no generator for ${route.id} (${route.operationId}): add it to ROUTE_HINTS in requests.ts`);
  const resolve = resolver(doc);
  const names = templateParams(route.template);
  const ids = hint.ids?.(w) ?? {};
  const segments = fc.tuple(...names.map((name) => segment(name, w, ids[name])));
  const schema = route.body?.schema;
  const core: fc.Arbitrary<unknown> = (() => {
    if (!schema) return fc.constant(undefined);
    const generated = schemaValue(schema, resolve) as fc.Arbitrary<Record<string, unknown>>;
    if (!hint.body) return generated;
    const valid = hint.body(w);
    // The valid core alone, or schema-generated optional fields under it.
    return fc.oneof(
      { weight: 2, arbitrary: valid },
      { weight: 1, arbitrary: fc.tuple(generated, valid).map(([extra, base]) => ({ ...extra, ...base })) },
    );
  })();
  const body: fc.Arbitrary<{ body?: Body; tags: string[] }> = schema
    ? core.chain((valid) =>
        fc.oneof(
          {
            weight: 10,
            arbitrary: mutatedBody(fc.constant(valid), schema, w.maxBodyBytes).map(({ body, tags }): { body?: Body; tags: string[] } =>
              body === undefined ? { tags: [...tags, "body:none"] } : { body: { kind: "json", value: body }, tags },
            ),
          },
          {
            weight: 2,
            arbitrary: oddBody(w.maxBodyBytes, valid).map(({ body, tag }): { body?: Body; tags: string[] } => ({ body, tags: [tag] })),
          },
          { weight: route.body?.required ? 1 : 3, arbitrary: fc.constant<{ body?: Body; tags: string[] }>({ tags: ["body:none"] }) },
        ),
      )
    : fc.oneof(
        { weight: 20, arbitrary: fc.constant<{ body?: Body; tags: string[] }>({ tags: [] }) },
        {
          weight: 1,
          arbitrary: fc.constant<{ body?: Body; tags: string[] }>({
            body: { kind: "json", value: { unexpected: "body" } },
            tags: ["body:unexpected"],
          }),
        },
      );
  return fc
    .record({
      auth: authArb(w),
      segments,
      query: queryArb(route, w, hint, resolve),
      body,
      headers: headerArb(route, schema !== undefined),
      method: fc.oneof({ weight: 25, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
      pathTweak: rarely(pathTweak, 25),
      chunked: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      raw: rarely(fc.tuple(fc.constantFrom(...RAW_TWEAKS), fc.nat()), 25),
    })
    .map(({ auth, segments: values, query, body, headers, method, pathTweak: tweakPath, chunked, raw }) => {
      let path = route.template;
      names.forEach((name, i) => (path = path.replace(`{${name}}`, values[i]!.text)));
      if (tweakPath) path = tweakPath(path);
      path += queryString(query.parts);
      const workspaceAt = names.indexOf("workspace");
      const decodedWorkspace = workspaceAt >= 0 ? values[workspaceAt]!.decoded : undefined;
      const tags = [auth.tag, ...body.tags, ...query.tags, ...headers.tags];
      if (method !== route.method) tags.push(`method:${method}`);
      if (tweakPath) tags.push("path-tweak");
      for (const [i, name] of names.entries()) if (values[i]!.decoded === undefined) tags.push(`bad-segment:${name}`);
      const req: FuzzRequest = {
        route: route.id,
        method,
        path,
        headers: { ...auth.headers, ...headers.headers },
        ...(body.body ? { body: body.body } : {}),
        ...(chunked && body.body ? { chunked: true } : {}),
        tags,
        ...(route.secured && auth.workspace !== decodedWorkspace ? { unauthorized: true } : {}),
      };
      return raw ? rawRequest(req, raw[0], raw[1]) : req;
    });
}

/** Paths no route has. */
export function strayRequests(w: World): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          "/",
          "/api",
          "/api/v1",
          "/api/v1/workspaces",
          `/api/v1/workspaces/${w.a.slug}`,
          "/healthz/x",
          "/openapi.json/",
          "/favicon.ico",
          "/%",
          "/%00",
          "/..%2F..%2Fetc",
          "//",
          "/api/v2/workspaces/a/agent-runs",
        ),
        fc.string({ maxLength: 20 }).map((s) => `/api/v1/workspaces/${w.a.slug}/${percentEncode(s)}`),
      ),
      fc.constantFrom(...OTHER_METHODS),
    )
    .map(([path, method]): FuzzRequest => ({
      route: "(no route)",
      method,
      path,
      headers: { authorization: `Bearer ${w.a.key}` },
      tags: ["stray"],
    }));
}

/** The next request of the whole fuzz: any operation, weighted towards those with bodies and queries. */
export function fuzzRequests(routes: Route[], w: World, doc: Record<string, unknown>): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    ...routes.map((route) => ({
      weight: route.body ? 3 : route.params.some((p) => p.in === "query") ? 2 : 1,
      arbitrary: routeRequests(route, w, doc),
    })),
    { weight: 1, arbitrary: strayRequests(w) },
  );
}

/** One line per request for a report: method, path, headers and body, cut short. */
export function describe(req: FuzzRequest): string {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
  const headers = Object.entries(req.headers)
    .map(([name, value]) => `${name}: ${cut(JSON.stringify(value), 120)}`)
    .join("; ");
  let body = "";
  if (req.body?.kind === "json") body = cut(jsonText(req.body.value, true), 600);
  else if (req.body?.kind === "text") body = cut(JSON.stringify(req.body.text), 600);
  else if (req.body?.kind === "bytes") body = req.body.label;
  return [
    `${req.method} ${cut(req.path, 400)}${req.raw ? ` (raw socket: ${req.raw.label})` : ""}${req.chunked ? " (chunked)" : ""}`,
    `  route: ${req.route}; mutations: ${req.tags.join(", ")}`,
    `  headers: ${headers}`,
    ...(body ? [`  body: ${body}`] : []),
  ].join("\n");
}

export type { JsonSchema };
