import { fileURLToPath } from "node:url";
import type { McpToolRef } from "@agentd/protocol";
import type { McpStdioServerConfig } from "../../src/config/types.js";
import type { ToolContext } from "../../src/tools/types.js";

export const STDIO_SERVER = fileURLToPath(new URL("./fixtures/mcp-stdio-server.mjs", import.meta.url));

/** The fixture MCP server, started with the node running the tests. */
export function stdioServer(extra: Partial<McpStdioServerConfig> = {}): McpStdioServerConfig {
  return { command: process.execPath, args: [STDIO_SERVER], ...extra };
}

export function ref(server: string, tool: string, extra: Partial<McpToolRef> = {}): McpToolRef {
  return { kind: "mcp", name: tool, server, tool, ...extra };
}

export function context(signal: AbortSignal = new AbortController().signal): ToolContext {
  return { signal, runId: "run_1", toolUseId: "call_1", dependencies: {} };
}

/** Logger calls, to assert what an operator would read. */
export function recordingLogger() {
  const lines: Array<{ level: "warn" | "error"; fields: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    warn: (fields: Record<string, unknown>, message: string) => lines.push({ level: "warn", fields, message }),
    error: (fields: Record<string, unknown>, message: string) => lines.push({ level: "error", fields, message }),
  };
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
