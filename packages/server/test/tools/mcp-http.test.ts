import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { McpManager } from "../../src/tools/mcp/index.js";
import { ToolError } from "../../src/tools/types.js";
// @ts-expect-error -- a plain .mjs fixture without type declarations
import { startHttpMcpServer } from "./fixtures/mcp-http-server.mjs";
import { context, ref } from "./mcp-helpers.js";

interface HttpMcpServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const TOKEN = "s3cret";
let server: HttpMcpServer;
let manager: McpManager | undefined;

beforeEach(async () => {
  server = await startHttpMcpServer({ token: TOKEN });
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await server.close();
});

function webManager(headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): McpManager {
  manager = new McpManager({ web: { url: server.url, headers } });
  return manager;
}

async function call(tool: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<unknown> {
  return (await manager!.tool(ref("web", tool))).execute(args, context(signal));
}

describe("a streamable HTTP MCP server", () => {
  test("lists and calls tools, sending the configured headers", async () => {
    webManager();
    expect((await manager!.listTools("web")).map((tool) => tool.name)).toContain("add");
    expect(await call("add", { a: 20, b: 22 })).toBe("42");
    expect(await call("echo", { text: "over http" })).toBe("over http");
  });

  test("isError becomes a ToolError with the tool's text", async () => {
    webManager();
    await expect(call("fail")).rejects.toThrow(new ToolError("the tool failed on purpose"));
  });

  test("aborting the signal stops a slow call promptly", async () => {
    webManager();
    const tool = await manager!.tool(ref("web", "slow"));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("run cancelled")), 100);
    await expect(tool.execute({ ms: 10_000 }, context(controller.signal))).rejects.toThrow("run cancelled");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("a rejected token fails naming the server and the HTTP status", async () => {
    webManager({ authorization: "Bearer wrong" });
    const error = await manager!.tool(ref("web", "add")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toMatch(/^MCP server 'web' answered HTTP 401: .*unauthorized/);
  });

  test("an endpoint that refuses connections fails naming the server", async () => {
    webManager();
    await server.close();
    const error = await manager!.tool(ref("web", "add")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toBe(
      `MCP server 'web' could not be reached: fetch failed (connect ECONNREFUSED 127.0.0.1:${server.port})`,
    );
  });

  test("a server that goes away fails the call; once it is back the next call reconnects", async () => {
    webManager();
    const add = await manager!.tool(ref("web", "add"));
    expect(await add.execute({ a: 1, b: 2 }, context())).toBe("3");
    await server.close();
    await expect(add.execute({ a: 1, b: 2 }, context())).rejects.toThrow(/^MCP server 'web' failed: fetch failed/);
    server = await startHttpMcpServer({ token: TOKEN, port: server.port });
    expect(await add.execute({ a: 2, b: 2 }, context())).toBe("4");
  });
});
