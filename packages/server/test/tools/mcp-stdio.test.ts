import { afterEach, describe, expect, test } from "vitest";
import { AgentdError } from "../../src/errors.js";
import { McpManager } from "../../src/tools/mcp/index.js";
import { ToolError } from "../../src/tools/types.js";
import { context, isRunning, recordingLogger, ref, stdioServer } from "./mcp-helpers.js";

let manager: McpManager;
afterEach(() => manager?.close());

async function call(server: string, tool: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<unknown> {
  return (await manager.tool(ref(server, tool))).execute(args, context(signal));
}

describe("a stdio MCP server", () => {
  test("lists its tools with their schemas", async () => {
    manager = new McpManager({ files: stdioServer() });
    const tools = await manager.listTools("files");
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(["add", "echo", "fail", "slow", "crash"]));
    const add = tools.find((tool) => tool.name === "add");
    expect(add?.description).toBe("Adds two numbers");
    expect(add?.inputSchema).toMatchObject({ type: "object", properties: { a: { type: "number" }, b: { type: "number" } } });
  });

  test("a ref becomes a tool named as the ref says, described by the server unless the ref says otherwise", async () => {
    manager = new McpManager({ files: stdioServer() });
    const plus = await manager.tool(ref("files", "add", { name: "plus" }));
    expect(plus.name).toBe("plus");
    expect(plus.description).toBe("Adds two numbers");
    expect(plus.parameters).toMatchObject({ type: "object", required: ["a", "b"] });
    const custom = await manager.tool(ref("files", "add", { description: "Sum", parameters: { type: "object", properties: {} } }));
    expect(custom.description).toBe("Sum");
    expect(custom.parameters).toEqual({ type: "object", properties: {} });
  });

  test("calls pass the arguments through and return the text", async () => {
    manager = new McpManager({ files: stdioServer() });
    expect(await call("files", "add", { a: 2, b: 40 })).toBe("42");
    expect(await call("files", "echo", { text: "héllo\nworld" })).toBe("héllo\nworld");
  });

  test("structured content is given as JSON, images as a note", async () => {
    manager = new McpManager({ files: stdioServer() });
    expect(await call("files", "weather", { city: "Oslo" })).toBe('{"city":"Oslo","celsius":21}');
    expect(await call("files", "picture")).toBe("a red dot\n[image: image/png]");
  });

  test("isError becomes a ToolError with the tool's own text", async () => {
    manager = new McpManager({ files: stdioServer() });
    const error = await call("files", "fail").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toBe("the tool failed on purpose");
  });

  test("aborting the signal stops a slow call promptly and tells the server", async () => {
    manager = new McpManager({ files: stdioServer() });
    const tool = await manager.tool(ref("files", "slow"));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("run cancelled")), 100);
    await expect(tool.execute({ ms: 10_000 }, context(controller.signal))).rejects.toThrow("run cancelled");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await call("files", "cancellations")).toBe("1");
  });

  test("a call longer than the server's timeoutMs fails naming the server", async () => {
    manager = new McpManager({ files: stdioServer({ timeoutMs: 200 }) });
    await expect(call("files", "slow", { ms: 5_000 })).rejects.toThrow(new ToolError("MCP server 'files' did not answer within 200 ms"));
  });

  test("an unknown server is a request error listing the configured ones", async () => {
    manager = new McpManager({ files: stdioServer(), git: stdioServer() });
    const error = await manager.tool(ref("github", "add")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentdError);
    expect((error as AgentdError).message).toBe("MCP server 'github' is not configured; configured: files, git");
    expect((error as AgentdError).candidates).toEqual(["files", "git"]);
  });

  test("an unknown tool is a request error naming tool and server and listing its tools", async () => {
    manager = new McpManager({ files: stdioServer() });
    const error = await manager.tool(ref("files", "multiply")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentdError);
    expect((error as AgentdError).message).toMatch(/^MCP server 'files' has no tool 'multiply'; its tools: add, echo, fail, /);
    expect((error as AgentdError).candidates).toContain("slow");
  });
});

describe("failures of the server process", () => {
  test("a command that does not exist: the error names the server and the spawn error", async () => {
    const logger = recordingLogger();
    manager = new McpManager({ files: { command: "agentd-no-such-command" } }, { logger });
    await expect(manager.tool(ref("files", "add"))).rejects.toThrow(
      new ToolError("MCP server 'files' could not start: spawn agentd-no-such-command ENOENT"),
    );
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: "error", fields: expect.objectContaining({ server: "files" }) }));
  });

  test("a server that exits while starting", async () => {
    manager = new McpManager({ files: { command: process.execPath, args: ["-e", "process.exit(3)"] } });
    await expect(manager.listTools("files")).rejects.toThrow(new ToolError("MCP server 'files' exited (code 3) while starting"));
  });

  test("aborting while a server is still starting does not wait for it", async () => {
    // Alive while its stdin is open, but never answers `initialize`.
    manager = new McpManager({ mute: { command: process.execPath, args: ["-e", "process.stdin.resume()"] } });
    const started = Date.now();
    const signal = AbortSignal.timeout(200);
    await expect(manager.tool(ref("mute", "echo"), signal)).rejects.toThrow(/timed out|aborted/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("a crash mid-call names the server; the next call starts a fresh process", async () => {
    const logger = recordingLogger();
    manager = new McpManager({ files: stdioServer() }, { logger });
    const before = Number(await call("files", "pid"));
    await expect(call("files", "crash")).rejects.toThrow(new ToolError("MCP server 'files' exited (code 1)"));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: "MCP server exited", fields: expect.objectContaining({ code: 1 }) }),
    );
    const after = Number(await call("files", "pid"));
    expect(after).not.toBe(before);
    expect(await call("files", "add", { a: 1, b: 1 })).toBe("2");
  });

  test("a server killed between calls is restarted by the next call, unseen by the model", async () => {
    manager = new McpManager({ files: stdioServer() });
    const before = Number(await call("files", "pid"));
    process.kill(before, "SIGKILL");
    await expect.poll(() => isRunning(before)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Number(await call("files", "pid"))).not.toBe(before);
  });

  test("close() ends every server process and later calls fail", async () => {
    manager = new McpManager({ one: stdioServer(), two: stdioServer() });
    const pids = [Number(await call("one", "pid")), Number(await call("two", "pid"))];
    expect(pids.every(isRunning)).toBe(true);
    const tool = await manager.tool(ref("one", "echo"));
    await manager.close();
    expect(pids.some(isRunning)).toBe(false);
    await expect(tool.execute({ text: "x" }, context())).rejects.toThrow(new ToolError("MCP server 'one' is shut down"));
  });

  test("nothing is started until a server is used", async () => {
    manager = new McpManager({ files: { command: "agentd-no-such-command" } });
    await manager.close();
  });
});
