import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@agentd/server";
import { eventually, readStream, startTestServer, type TestServer } from "../helpers.js";

// Issue #11: one JSON line per request with its id, method, route template,
// status, duration, workspace and run id; never a key, a prompt, a tool's
// arguments or result, a query string or a body.
const PROMPT_SECRET = "prompt-secret-61c0d9";
const ARG_SECRET = "tool-arg-secret-2b7e44";
const RESULT_SECRET = "tool-result-secret-90fa13";
const QUERY_SECRET = "query-secret-5d18ae";
const clockTool = { kind: "local", name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } };

interface Line {
  level: string;
  time: string;
  msg: string;
  requestId?: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  workspace?: string;
  runId?: string;
  parseError?: string;
}

describe("the request log", () => {
  let t: TestServer;
  const written: string[] = [];
  const lines = (): Line[] => written.map((line) => JSON.parse(line) as Line);
  const requests = (): Line[] => lines().filter((line) => line.msg === "request");
  const byId = (requestId: string) => eventually(() => requests().find((line) => line.requestId === requestId));

  beforeAll(async () => {
    t = await startTestServer({ logger: createLogger("info", (line) => written.push(line)), config: { localToolTimeoutMs: 60_000 } });
  });
  afterAll(() => t?.close());

  it("logs each request once, with its fields, and none of the secrets a request carried", async () => {
    const created = await t.request(
      "POST",
      "/agent-runs",
      { systemPrompt: `Test. ${PROMPT_SECRET}`, modelId: "mock", tools: [clockTool], prompt: `call get_time {"tz":"${ARG_SECRET}"}` },
      { "x-request-id": "client-req.1" },
    );
    expect(created.status).toBe(202);
    expect(created.headers.get("x-request-id")).toBe("client-req.1");
    const runId: string = created.body.runId;
    const call = await eventually(async () => {
      const snapshot = await t.request("GET", `/agent-runs/${runId}`);
      return snapshot.body.status === "paused" ? snapshot.body.pendingToolCalls[0] : undefined;
    });
    expect(call.args).toEqual({ tz: ARG_SECRET });
    const result = await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: call.toolUseId, result: RESULT_SECRET });
    expect(result.status).toBe(200);
    const stream = await readStream(`${t.url}${created.body.streamUrl}?lastSeq=0`, t.key, { "x-request-id": "client-stream.1" });
    expect(stream.raw).toContain(ARG_SECRET); // it is in the run, just not in the log
    const listed = await t.request("GET", `/agent-runs?cursor=${QUERY_SECRET}`, undefined, { "x-request-id": "client-list.1" });
    expect(listed.status).toBe(400);
    const unauthenticated = await fetch(t.api("/agent-runs"), {
      headers: { authorization: "Bearer agentd_nope", "x-request-id": "client-401" },
    });
    expect(unauthenticated.status).toBe(401);

    const api = "/api/v1/workspaces/{workspace}";
    expect(await byId("client-req.1")).toMatchObject({
      level: "info",
      method: "POST",
      route: `${api}/agent-runs`,
      status: 202,
      workspace: t.workspace,
      runId,
    });
    expect(await byId("client-stream.1")).toMatchObject({ method: "GET", route: `${api}/agent-runs/{runId}/stream`, status: 200, runId });
    expect(await byId("client-list.1")).toMatchObject({ method: "GET", route: `${api}/agent-runs`, status: 400, workspace: t.workspace });
    const refused = await byId("client-401");
    expect(refused).toMatchObject({ route: `${api}/agent-runs`, status: 401 });
    expect(refused.workspace).toBeUndefined();
    const toolResult = requests().find((line) => line.route === `${api}/agent-runs/{runId}/tool-results`)!;
    expect(toolResult).toMatchObject({ method: "POST", status: 200, runId });
    for (const line of requests()) {
      expect(typeof line.durationMs).toBe("number");
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(line.requestId).toMatch(/^[\w.-]{1,128}$/);
    }
    // One line per request: none logged twice.
    const ids = requests().map((line) => line.requestId);
    expect(new Set(ids).size).toBe(ids.length);

    const text = written.join("");
    for (const secret of [t.key, PROMPT_SECRET, ARG_SECRET, RESULT_SECRET, QUERY_SECRET, "agentd_nope"]) expect(text).not.toContain(secret);
    expect(text).not.toContain("?");
  });

  it("replaces a hostile X-Request-Id (too long, control characters, spaces) with its own, and echoes what it logged", async () => {
    const long = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "r".repeat(129) } });
    const spaced = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "a b" } });
    const raw = await rawRequest(t.url, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: evil\x01id\x7f\r\nConnection: close\r\n\r\n");
    const echoed = [long.headers.get("x-request-id")!, spaced.headers.get("x-request-id")!, /x-request-id: (\S+)/i.exec(raw)?.[1] ?? ""];
    for (const id of echoed) expect(id).toMatch(/^req_\w+$/);
    for (const id of echoed.slice(0, 2)) expect(await byId(id)).toMatchObject({ method: "GET", route: "/healthz", status: 200 });
    // Node's parser refuses the control characters before any handler: still a line, with the id it was answered with.
    expect(raw).toMatch(/^HTTP\/1.1 400/);
    expect(await byId(echoed[2]!)).toMatchObject({ status: 400, parseError: expect.stringMatching(/^HPE_/) });
    expect(written.join("")).not.toContain("evil");
    expect(written.join("")).not.toContain("r".repeat(129));
  });

  it("logs an unknown path without a route, and a request whose target does not parse", async () => {
    const missing = await fetch(`${t.url}/nowhere/run_123`, { headers: { "x-request-id": "client-404" } });
    expect(missing.status).toBe(404);
    const line = await byId("client-404");
    expect(line).toMatchObject({ method: "GET", status: 404 });
    expect(line.route).toBeUndefined();
    const bad = await rawRequest(
      t.url,
      "GET http://[::1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: client-bad-target\r\nConnection: close\r\n\r\n",
    );
    expect(bad).toMatch(/^HTTP\/1.1 400/);
    expect(await byId("client-bad-target")).toMatchObject({ method: "GET", status: 400 });
    expect(written.join("")).not.toContain("[::1");
  });
});

/** Sends bytes fetch would refuse to send (a control character in a header); resolves with the whole response. */
function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let response = "";
    socket.on("data", (chunk) => (response += chunk.toString("latin1")));
    socket.on("end", () => resolve(response));
    socket.on("error", reject);
  });
}
