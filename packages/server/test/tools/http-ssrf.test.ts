import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns";
import type { HttpToolRef } from "@agentd/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpTool, parseAllowlist, type Resolver } from "../../src/tools/http/index.js";
import { ToolError } from "../../src/tools/types.js";
import { startLoopbackServer, toolContext, type LoopbackServer } from "./http-helpers.js";

// The SENTINEL: a server on 127.0.0.1 that no request of the corpus may reach.
let sentinel: LoopbackServer;
// An allowlisted server that redirects wherever its `to` query says, with the `status` it says (302 by default).
let redirector: LoopbackServer;

beforeAll(async () => {
  sentinel = await startLoopbackServer((_, response) => response.end("SENTINEL REACHED"));
  redirector = await startLoopbackServer((request, response) => {
    const query = new URL(request.url ?? "/", "http://x").searchParams;
    const to = query.get("to");
    if (to) response.writeHead(Number(query.get("status") ?? 302), { location: to }).end();
    else response.end("redirector");
  });
});
afterAll(async () => {
  await sentinel.close();
  await redirector.close();
});

// Offline stand-in for DNS: names an attacker controls, pointing at us.
const resolver: Resolver = (hostname, options, callback) => {
  const table: Record<string, LookupAddress[]> = {
    "evil.test": [{ address: "127.0.0.1", family: 4 }],
    "mapped.test": [{ address: "::ffff:127.0.0.1", family: 6 }],
    "mixed.test": [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ],
    "metadata.test": [{ address: "169.254.169.254", family: 4 }],
  };
  const answer = table[hostname];
  if (answer) callback(null, answer);
  else dnsLookup(hostname, options, callback);
};

function callTool(url: string, allow: string[] = [], method: HttpToolRef["method"] = "GET") {
  const tool = createHttpTool(
    { kind: "http", name: "fetch", method, url, timeoutMs: 5_000 },
    { allow: parseAllowlist(allow), env: {}, lookup: resolver },
  );
  return tool.execute({}, toolContext());
}

describe("the SSRF guard", () => {
  it("relies on the URL parser to canonicalise odd IPv4 spellings, as WHATWG specifies", () => {
    for (const spelling of ["2130706433", "0x7f.1", "017700000001", "127.1", "0177.0.0.1", "0x7f000001", "127.0.0.1."]) {
      expect(new URL(`http://${spelling}/`).hostname).toBe("127.0.0.1");
    }
    expect(new URL("http://[::ffff:127.0.0.1]/").hostname).toBe("[::ffff:7f00:1]");
  });

  const corpus = (port: () => number) => [
    "http://169.254.169.254/latest/meta-data",
    `http://[::ffff:127.0.0.1]:${port()}/`,
    `http://[::ffff:7f00:1]:${port()}/`,
    `http://2130706433:${port()}/`,
    `http://0x7f.1:${port()}/`,
    `http://017700000001:${port()}/`,
    `http://127.1:${port()}/`,
    `http://127.0.0.1:${port()}/`,
    `http://0.0.0.0:${port()}/`,
    `http://[::]:${port()}/`,
    `http://[::1]:${port()}/`,
    `http://localhost:${port()}/`,
    `http://LOCALHOST:${port()}/`,
    `http://evil.test:${port()}/`,
    `http://mapped.test:${port()}/`,
    `http://mixed.test:${port()}/`,
    `http://metadata.test/latest/meta-data`,
    `http://[64:ff9b::7f00:1]:${port()}/`,
    `http://10.0.0.1:${port()}/`,
    `http://192.168.1.1:${port()}/`,
    `http://100.64.0.1:${port()}/`,
  ];

  it("refuses every destination of the corpus without reaching the sentinel", async () => {
    const urls = corpus(() => sentinel.port);
    for (const url of urls) {
      const error = await callTool(url).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(error, url).toBeInstanceOf(ToolError);
      expect((error as Error).message, url).toMatch(/^refused to connect to /);
    }
    expect(sentinel.requests).toHaveLength(0);
  });

  it("refuses redirects from an allowlisted server to any corpus destination", async () => {
    const allow = [`127.0.0.1:${redirector.port}`];
    for (const target of corpus(() => sentinel.port)) {
      const url = `${redirector.url}/?to=${encodeURIComponent(target)}`;
      await expect(callTool(url, allow), target).rejects.toThrow(/^refused to connect to /);
      // 307 keeps the POST body, so a refusal there matters as much.
      await expect(callTool(`${url}&status=307`, allow, "POST"), target).rejects.toThrow(/^refused to connect to /);
    }
    expect(redirector.requests.length).toBeGreaterThan(0);
    expect(sentinel.requests).toHaveLength(0);
  });

  it("follows a redirect back to the allowlisted host:port itself", async () => {
    const allow = [`127.0.0.1:${redirector.port}`];
    expect(await callTool(`${redirector.url}/?to=${encodeURIComponent("/home")}`, allow)).toBe("redirector");
  });

  it("reaches a private destination once it is allowlisted, by host:port or by CIDR (so the corpus test can fail)", async () => {
    expect(await callTool(`http://127.0.0.1:${sentinel.port}/`, [`127.0.0.1:${sentinel.port}`])).toBe("SENTINEL REACHED");
    expect(await callTool(`http://2130706433:${sentinel.port}/`, [`127.0.0.1:${sentinel.port}`])).toBe("SENTINEL REACHED");
    expect(await callTool(`http://evil.test:${sentinel.port}/`, ["127.0.0.0/8"])).toBe("SENTINEL REACHED");
    expect(await callTool(`http://evil.test:${sentinel.port}/`, [`evil.test:${sentinel.port}`])).toBe("SENTINEL REACHED");
    expect(await callTool(`${redirector.url}/?to=${encodeURIComponent(sentinel.url)}`, [`127.0.0.1:${redirector.port}`, `127.0.0.1:${sentinel.port}`])).toBe(
      "SENTINEL REACHED",
    );
    expect(sentinel.requests).toHaveLength(5);
  });

  it("does not let a host:port entry stand for another port on the same host", async () => {
    await expect(callTool(`http://127.0.0.1:${sentinel.port}/`, [`127.0.0.1:${redirector.port}`])).rejects.toThrow(/^refused/);
    await expect(callTool(`http://evil.test:${sentinel.port}/`, [`evil.test:${sentinel.port + 1}`])).rejects.toThrow(/^refused/);
  });
});
