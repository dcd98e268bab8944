import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { ToolError } from "../types.js";
import { ChildProcessTransport } from "./stdio-transport.js";

/**
 * Words an MCP failure for the model and the run's events, always naming the
 * server. What happened is read from the transport (spawn error, exit code)
 * and the error's class and code, never from its message text.
 */
export function describeFailure(server: string, transport: Transport, error: unknown, phase: "start" | "call"): ToolError {
  const subject = `MCP server '${server}'`;
  const options = { cause: error };
  if (transport instanceof ChildProcessTransport) {
    if (transport.spawnError) return new ToolError(`${subject} could not start: ${transport.spawnError.message}`, options);
    if (transport.exit) {
      const { code, signal } = transport.exit;
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      return new ToolError(`${subject} exited (${how})${phase === "start" ? " while starting" : ""}`, options);
    }
  }
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) {
      const timeout = (error.data as { timeout?: unknown } | undefined)?.timeout;
      const what = phase === "start" ? "did not finish starting" : "did not answer";
      return new ToolError(`${subject} ${what}${typeof timeout === "number" ? ` within ${timeout} ms` : " in time"}`, options);
    }
    if (error.code === ErrorCode.ConnectionClosed) return new ToolError(`${subject} closed the connection`, options);
    return new ToolError(`${subject} returned an error: ${error.message}`, options);
  }
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
    // The SDK's message carries the response body (an HTML error page, say): keep a short start of it.
    return new ToolError(`${subject} answered HTTP ${error.code}: ${error.message.slice(0, 300)}`, options);
  }
  const what = phase === "start" ? "could not be reached" : "failed";
  return new ToolError(`${subject} ${what}: ${detail(error)}`, options);
}

/** `fetch failed` says nothing; its cause says `connect ECONNREFUSED 127.0.0.1:4000`. */
function detail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
