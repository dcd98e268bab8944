import type { AgentSpec, HttpToolRef } from "@agentd/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTool, parseAllowlist, parseRequestAllowlist } from "../../src/tools/http/index.js";
import { redactAgentSpec } from "../../src/tools/redaction.js";
import { ToolError } from "../../src/tools/types.js";
import { startLoopbackServer, toolContext, type LoopbackServer } from "./http-helpers.js";

// Issue #8: a server that echoes what it was sent must not hand the secret
// headers back to the model (and so to the run's events).
const SECRET = "s3cret-token-abcdef";
const LITERAL = "literal-key-123456";

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function serve(handler: Parameters<typeof startLoopbackServer>[0]): Promise<LoopbackServer> {
  const server = await startLoopbackServer(handler);
  servers.push(server);
  return server;
}

function tool(server: LoopbackServer, ref: Partial<HttpToolRef>, options: { maxResponseBytes?: number } = {}) {
  return createHttpTool(
    {
      kind: "http",
      name: "call",
      method: "GET",
      url: `${server.url}/{where}`,
      headers: { Authorization: { env: "TOKEN", prefix: "Bearer " }, "X-Api-Key": LITERAL, Accept: "text/plain" },
      ...ref,
    },
    { allow: parseAllowlist([`127.0.0.1:${server.port}`, `localhost:${server.port}`]), env: { TOKEN: SECRET }, ...options },
  );
}
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable("expected a rejection"),
    (error: Error) => error,
  );

describe("secret values in what an HTTP tool returns", () => {
  it("are redacted from a body that echoes them, verbatim, JSON-escaped or URL-encoded; other values stay", async () => {
    const server = await serve((request, response) => {
      const auth = String(request.headers.authorization);
      response.end(
        `auth=${auth} key=${String(request.headers["x-api-key"])} json=${JSON.stringify(JSON.stringify(auth))} url=${encodeURIComponent(auth)} accept=${String(request.headers.accept)}`,
      );
    });
    const text = (await tool(server, {}).execute({ where: "echo" }, toolContext())) as string;
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(LITERAL);
    expect(text).toBe(`auth=[redacted] key=[redacted] json="\\"[redacted]\\"" url=[redacted] accept=text/plain`);
  });

  it("are redacted from the error of a failed status, a redirect's location, and a body cut at the size cap", async () => {
    const server = await serve((request, response) => {
      const auth = String(request.headers.authorization);
      if (request.url === "/fail") {
        response.statusCode = 401;
        response.end(`bad credentials: ${auth}`);
      } else if (request.url === "/bounce")
        response.writeHead(302, { location: `gopher://x/${String(request.headers["x-api-key"])}` }).end();
      else response.end(`${"x".repeat(100 - `Bearer ${SECRET}`.length + 6)}${auth}`);
    });
    const call = tool(server, {}, { maxResponseBytes: 100 });
    const failed = await failure(call.execute({ where: "fail" }, toolContext()));
    expect(failed).toBeInstanceOf(ToolError);
    expect(failed.message).toBe(`HTTP 401 from 127.0.0.1:${server.port}: bad credentials: [redacted]`);
    expect((await failure(call.execute({ where: "bounce" }, toolContext()))).message).toBe(
      `127.0.0.1:${server.port} redirected to gopher://x/[redacted], which is not an http(s) URL`,
    );
    // the cap cuts the secret six characters before its end: the rest of it is not shown either
    const cut = (await call.execute({ where: "cut" }, toolContext())) as string;
    expect(cut).toMatch(/\[redacted\]\n\[truncated at 100 bytes\]$/);
    expect(cut).not.toContain(SECRET.slice(0, 8));
  });

  it("drops a literal Authorization header on a redirect to another origin, like an env one", async () => {
    const other = await serve((_, response) => response.end("landed"));
    const server = await serve((_, response) => response.writeHead(302, { location: `${other.url}/landed` }).end());
    const call = createHttpTool(
      {
        kind: "http",
        name: "call",
        method: "GET",
        url: server.url,
        headers: { Authorization: "Basic dXNlcjpwYXNz", Cookie: "session=abcdefgh", "X-Plain": "p" },
      },
      { allow: parseAllowlist([`127.0.0.1:${server.port}`, `127.0.0.1:${other.port}`]), env: {} },
    );
    expect(await call.execute({}, toolContext())).toBe("landed");
    expect(other.requests[0]!.headers).not.toHaveProperty("authorization");
    expect(other.requests[0]!.headers).not.toHaveProperty("cookie");
    expect(other.requests[0]!.headers["x-plain"]).toBe("p");
  });

  it("never shows a URL's password in the tool's default description", () => {
    const call = createHttpTool(
      { kind: "http", name: "call", method: "GET", url: "https://robot:hunter2-pass@api.example.com/x" },
      { allow: parseAllowlist([]), env: {} },
    );
    expect(call.description).toBe("GET https://api.example.com/x");
  });
});

describe("a request-defined HTTP tool (createHttpTool with requestAllow)", () => {
  it("may not read the environment, nor have a placeholder host", () => {
    const requestAllow = parseRequestAllowlist(["*"]);
    expect(() =>
      createHttpTool(
        { kind: "http", name: "t", method: "GET", url: "https://a.example/", headers: { x: { env: "TOKEN" } } },
        { allow: parseAllowlist([]), env: { TOKEN: "v" }, requestAllow },
      ),
    ).toThrow(/headers\.x/);
    expect(() =>
      createHttpTool(
        { kind: "http", name: "t", method: "GET", url: "https://{host}/" },
        { allow: parseAllowlist([]), env: {}, requestAllow },
      ),
    ).toThrow(/placeholder/);
  });

  it("is refused at call time on a host that is not listed, before anything is sent", async () => {
    const server = await serve((_, response) => response.end("reached"));
    const call = createHttpTool(
      { kind: "http", name: "t", method: "GET", url: `http://localhost:${server.port}/` },
      {
        allow: parseAllowlist([`localhost:${server.port}`]),
        env: {},
        requestAllow: parseRequestAllowlist([`127.0.0.1:${server.port}`]),
      },
    );
    await expect(call.execute({}, toolContext())).rejects.toThrow(/localhost.*requestAllow/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("agent specs in snapshots", () => {
  it("show HTTP header values and URL credentials as [redacted]; { env } references keep the variable's name", () => {
    const spec: AgentSpec = {
      systemPrompt: "x",
      tools: [
        {
          kind: "http",
          name: "a",
          method: "GET",
          url: "https://u:p4ss@api.example.com/{id}",
          headers: { Authorization: { env: "TOKEN", prefix: "Bearer " }, "X-Key": LITERAL },
        },
        { kind: "local", name: "b" },
      ],
    };
    const copy = JSON.parse(JSON.stringify(spec));
    const redacted = redactAgentSpec(spec);
    expect(redacted.tools).toEqual([
      {
        kind: "http",
        name: "a",
        method: "GET",
        url: "https://[redacted]@api.example.com/{id}",
        headers: { Authorization: { env: "TOKEN", prefix: "Bearer " }, "X-Key": "[redacted]" },
      },
      { kind: "local", name: "b" },
    ]);
    // the stored spec itself is left alone
    expect(spec).toEqual(copy);
  });
});
