import type { HttpToolRef } from "@agentd/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTool, parseAllowlist, type HttpToolOptions } from "../../src/tools/http/index.js";
import { ToolError } from "../../src/tools/types.js";
import { startLoopbackServer, toolContext, type LoopbackServer } from "./http-helpers.js";

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler?: Parameters<typeof startLoopbackServer>[0]): Promise<LoopbackServer> {
  const server = await startLoopbackServer(handler);
  servers.push(server);
  return server;
}

/** A tool whose allowlist admits exactly the given servers. */
function tool(ref: Omit<HttpToolRef, "kind" | "name"> & { name?: string }, allowed: LoopbackServer[], options: Partial<HttpToolOptions> = {}) {
  return createHttpTool(
    { kind: "http", name: "call", ...ref },
    { allow: parseAllowlist(allowed.map((server) => `127.0.0.1:${server.port}`)), env: {}, ...options },
  );
}

const rejection = (promise: Promise<unknown>) => promise.then(() => expect.unreachable("expected a rejection"), (error: unknown) => error);

describe("an HTTP tool", () => {
  it("fills URL placeholders encoded and puts the other arguments in the query of a GET", async () => {
    const server = await serve();
    const get = tool({ method: "GET", url: `${server.url}/users/{id}/posts?fixed=1` }, [server]);
    expect(await get.execute({ id: "a b/c?d#e", tag: "x&y", n: 2, list: [1, "two"], skipped: null }, toolContext())).toBe("ok");
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/users/a%20b%2Fc%3Fd%23e/posts?fixed=1&tag=x%26y&n=2&list=1&list=two", body: "" });
  });

  it("names a placeholder that has no argument, and sends nothing", async () => {
    const server = await serve();
    const get = tool({ method: "GET", url: `${server.url}/users/{id}` }, [server]);
    const error = await rejection(get.execute({ other: 1 }, toolContext()));
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toBe('missing argument "id" for the URL');
    expect(server.requests).toHaveLength(0);
  });

  it("sends the other arguments of a POST as a JSON body", async () => {
    const server = await serve();
    const post = tool({ method: "POST", url: `${server.url}/users/{id}/notes`, headers: { "X-Plain": "yes" } }, [server]);
    await post.execute({ id: 7, text: "hi", tags: ["a"] }, toolContext());
    const [request] = server.requests;
    expect(request).toMatchObject({ method: "POST", url: "/users/7/notes" });
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["x-plain"]).toBe("yes");
    expect(JSON.parse(request!.body)).toEqual({ text: "hi", tags: ["a"] });
  });

  it("reads a secret header from the environment at call time, with its prefix", async () => {
    const server = await serve();
    const env: Record<string, string | undefined> = { API_KEY: "first" };
    const get = tool({ method: "GET", url: server.url, headers: { Authorization: { env: "API_KEY", prefix: "Bearer " } } }, [server], { env });
    await get.execute({}, toolContext());
    env.API_KEY = "rotated";
    await get.execute({}, toolContext());
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(["Bearer first", "Bearer rotated"]);
  });

  it("names a missing environment variable, and sends nothing", async () => {
    const server = await serve();
    const get = tool({ method: "GET", url: server.url, headers: { Authorization: { env: "API_KEY" } } }, [server], { env: { OTHER: "x" } });
    await expect(get.execute({}, toolContext())).rejects.toThrow(/API_KEY/);
    expect(server.requests).toHaveLength(0);
  });

  it("never puts a secret value in an error, even an invalid one", async () => {
    const server = await serve();
    const get = tool({ method: "GET", url: server.url, headers: { "X-Key": { env: "KEY" } } }, [server], { env: { KEY: "s3cret\r\nInjected: 1" } });
    const error = (await rejection(get.execute({}, toolContext()))) as Error;
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).not.toContain("s3cret");
    expect(server.requests).toHaveLength(0);
  });

  it("turns status >= 400 into a ToolError with the host and the first 500 characters of the body", async () => {
    const server = await serve((request, response) => {
      response.statusCode = request.url === "/long" ? 500 : 404;
      response.end(request.url === "/long" ? "é".repeat(3000) : "no such user");
    });
    const get = tool({ method: "GET", url: `${server.url}/{path}` }, [server]);
    await expect(get.execute({ path: "missing" }, toolContext())).rejects.toThrow(new ToolError(`HTTP 404 from 127.0.0.1:${server.port}: no such user`));
    const error = (await rejection(get.execute({ path: "long" }, toolContext()))) as Error;
    expect(error.message).toBe(`HTTP 500 from 127.0.0.1:${server.port}: ${"é".repeat(500)}`);
  });

  it("returns a JSON body as compact JSON text, other bodies as they are", async () => {
    const server = await serve((request, response) => {
      response.setHeader("content-type", request.url === "/json" ? "application/json; charset=utf-8" : "text/plain");
      response.end(JSON.stringify({ a: 1, b: [true, null] }, null, 2));
    });
    const get = tool({ method: "GET", url: `${server.url}/{kind}` }, [server]);
    expect(await get.execute({ kind: "json" }, toolContext())).toBe('{"a":1,"b":[true,null]}');
    expect(await get.execute({ kind: "text" }, toolContext())).toBe(JSON.stringify({ a: 1, b: [true, null] }, null, 2));
  });

  it("stops reading past maxResponseBytes and closes the connection", async () => {
    let closed: Promise<void> = Promise.resolve();
    const server = await serve((request, response) => {
      closed = new Promise((resolve) => response.on("close", () => resolve()));
      // An endless body: only closing the socket stops it.
      const timer = setInterval(() => response.write("x".repeat(256)), 1);
      response.on("close", () => clearInterval(timer));
    });
    const get = tool({ method: "GET", url: server.url }, [server], { maxResponseBytes: 1000 });
    expect(await get.execute({}, toolContext())).toBe(`${"x".repeat(1000)}\n[truncated at 1000 bytes]`);
    await closed;
  });

  it("times out after timeoutMs, whether the head or the body is slow", async () => {
    const server = await serve((request, response) => {
      if (request.url === "/body") response.write("partial");
    });
    const get = tool({ method: "GET", url: `${server.url}/{where}`, timeoutMs: 150 }, [server]);
    const started = Date.now();
    await expect(get.execute({ where: "head" }, toolContext())).rejects.toThrow(new ToolError("timed out after 150 ms"));
    await expect(get.execute({ where: "body" }, toolContext())).rejects.toThrow(new ToolError("timed out after 150 ms"));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("aborts with the context's signal, rejecting with its reason", async () => {
    const server = await serve(() => {});
    const get = tool({ method: "GET", url: server.url }, [server]);
    const controller = new AbortController();
    const reason = new Error("run cancelled");
    setTimeout(() => controller.abort(reason), 50);
    await expect(get.execute({}, toolContext(controller.signal))).rejects.toBe(reason);
    const before = server.requests.length;
    await expect(get.execute({}, toolContext(controller.signal))).rejects.toBe(reason);
    expect(server.requests).toHaveLength(before);
  });

  it("follows redirects: 303 and 301/302 after a POST become a body-less GET, 307 keeps method and body", async () => {
    const server = await serve((request, response) => {
      const [, status, target] = /^\/(\d+)(\/.*)?$/.exec(request.url ?? "") ?? [];
      if (status) {
        response.writeHead(Number(status), { location: target ?? "/done" }).end();
      } else response.end(`${request.method} ${request.url}`);
    });
    const post = tool({ method: "POST", url: `${server.url}/{status}` }, [server]);
    for (const status of ["301", "302", "303"]) {
      expect(await post.execute({ status, x: 1 }, toolContext())).toBe("GET /done");
    }
    expect(await post.execute({ status: "307", x: 1 }, toolContext())).toBe("POST /done");
    expect(server.requests.at(-1)!.body).toBe('{"x":1}');
    const put = tool({ method: "PUT", url: `${server.url}/{status}` }, [server]);
    expect(await put.execute({ status: "302", x: 1 }, toolContext())).toBe("PUT /done");
  });

  it("drops secret headers on a redirect to another origin, keeps them on the same origin", async () => {
    const other = await serve();
    const server = await serve((request, response) => {
      if (request.url === "/away") response.writeHead(302, { location: `${other.url}/landed` }).end();
      else if (request.url === "/here") response.writeHead(302, { location: "/landed" }).end();
      else response.end("ok");
    });
    const get = tool({ method: "GET", url: `${server.url}/{where}`, headers: { Authorization: { env: "KEY" }, "X-Plain": "p" } }, [server, other], {
      env: { KEY: "secret" },
    });
    await get.execute({ where: "here" }, toolContext());
    expect(server.requests.at(-1)!.headers.authorization).toBe("secret");
    await get.execute({ where: "away" }, toolContext());
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
    expect(other.requests[0]!.headers["x-plain"]).toBe("p");
  });

  it("gives up after maxRedirects", async () => {
    const server = await serve((request, response) => response.writeHead(302, { location: "/again" }).end());
    const get = tool({ method: "GET", url: server.url }, [server], { maxRedirects: 2 });
    await expect(get.execute({}, toolContext())).rejects.toThrow(`too many redirects (more than 2) from 127.0.0.1:${server.port}`);
    expect(server.requests).toHaveLength(3);
  });

  it("speaks only http: and https:", async () => {
    expect(() => tool({ method: "GET", url: "file:///etc/passwd" }, [])).toThrow(/http: or https:/);
    const server = await serve((request, response) => response.writeHead(302, { location: "file:///etc/passwd" }).end());
    await expect(tool({ method: "GET", url: server.url }, [server]).execute({}, toolContext())).rejects.toThrow(/not an http\(s\) URL/);
  });

  it("describes its placeholders when the ref gives no parameters", () => {
    const get = tool({ method: "GET", url: "https://api.example.com/{owner}/{repo}/{owner}" }, []);
    expect(get.parameters).toEqual({ type: "object", properties: { owner: { type: "string" }, repo: { type: "string" } }, required: ["owner", "repo"] });
    expect(get.description).toBe("GET https://api.example.com/{owner}/{repo}/{owner}");
  });

  it("reports a connection failure as a ToolError", async () => {
    const server = await serve();
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await expect(tool({ method: "GET", url: server.url }, [server]).execute({}, toolContext())).rejects.toThrow(new ToolError("request failed: ECONNREFUSED"));
  });
});
