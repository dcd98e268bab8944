import { describe, expect, test } from "vitest";
import { validateConfig } from "../../src/config/load.js";

/** The config error's problem lines, as `agentd serve` prints them. */
function problems(mcpServers: unknown): string[] {
  try {
    validateConfig({ mcpServers }, "agentd.config.json");
  } catch (error) {
    return (error as Error).message
      .split("\n")
      .slice(1)
      .map((line) => line.trim());
  }
  throw new Error("expected the config to be rejected");
}

describe("mcpServers in the config", () => {
  test("stdio and streamable HTTP servers are accepted as given", () => {
    const mcpServers = {
      files: {
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-filesystem", "/srv"],
        env: { DEBUG: "1" },
        cwd: "/srv",
        timeoutMs: 30_000,
      },
      "search.web": { url: "https://mcp.example.com/mcp", headers: { authorization: "Bearer x" } },
    };
    expect(validateConfig({ mcpServers }).mcpServers).toEqual(mcpServers);
  });

  test("a server needs a command or a url, not both", () => {
    expect(problems({ files: {} })).toEqual([
      'mcpServers.files: an MCP server needs "command" (a stdio server agentd starts) or "url" (a streamable HTTP server)',
    ]);
    expect(problems({ files: { command: "x", url: "http://127.0.0.1/mcp" } })).toEqual([
      'mcpServers.files: an MCP server takes one of, not both: "command" (a stdio server agentd starts) or "url" (a streamable HTTP server)',
    ]);
  });

  test("fields of the other kind of server are named", () => {
    expect(problems({ web: { url: "http://127.0.0.1/mcp", args: ["x"], cwd: "/tmp" } })).toEqual([
      'mcpServers.web.args: "args" applies only to stdio servers (with a "command")',
      'mcpServers.web.cwd: "cwd" applies only to stdio servers (with a "command")',
    ]);
    expect(problems({ files: { command: "x", headers: { a: "b" } } })).toEqual([
      'mcpServers.files.headers: "headers" applies only to servers with a "url"',
    ]);
  });

  test("wrong values name their field", () => {
    expect(problems({ files: { command: "x", args: "-y" } })).toEqual([
      "mcpServers.files.args: Invalid input: expected array, received string",
    ]);
    expect(problems({ web: { url: "ftp://example.com" } })).toEqual(["mcpServers.web.url: url must be an http:// or https:// URL"]);
    expect(problems({ files: { command: "x", timeoutMs: 0 } })[0]).toMatch(/^mcpServers\.files\.timeoutMs: /);
    expect(problems({ files: { comand: "x" } })).toContain('mcpServers.files: Unrecognized key: "comand"');
    expect(problems({ "my files": { command: "x" } })[0]).toMatch(/^mcpServers\.my files: MCP server names match /);
  });
});
