import { ToolParameters, type McpToolRef } from "@agentd/protocol";
import type { McpServerConfig } from "../../config/types.js";
import { AgentdError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { ToolError, type ServerTool } from "../types.js";
import { untilAborted } from "./abort.js";
import { McpConnection } from "./connection.js";
import { resultText } from "./result.js";

export interface McpManagerOptions {
  /** Where server exits, restarts and transport errors are reported. @default no logging */
  logger?: Pick<Logger, "warn" | "error">;
  /** The `clientInfo.name` sent to servers in `initialize`. @default "agentd" */
  clientName?: string;
}

/** One tool as an MCP server lists it. */
export interface McpToolInfo {
  name: string;
  description: string | undefined;
  inputSchema: Record<string, unknown>;
}

const silent: Pick<Logger, "warn" | "error"> = { warn: () => {}, error: () => {} };

/**
 * The configured MCP servers (`mcpServers` in the config), one client each,
 * started on first use so an agent that never calls a server's tools never
 * spawns it. Turns `{ kind: "mcp" }` tool refs into ServerTools.
 */
export class McpManager {
  private readonly connections = new Map<string, McpConnection>();

  constructor(servers: Record<string, McpServerConfig>, options: McpManagerOptions = {}) {
    for (const [name, config] of Object.entries(servers)) {
      this.connections.set(name, new McpConnection(name, config, options.clientName ?? "agentd", options.logger ?? silent));
    }
  }

  /** The server's tools, listed on first use and then cached. */
  async listTools(server: string): Promise<McpToolInfo[]> {
    const tools = await this.connection(server).listTools();
    return tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema }));
  }

  /**
   * The ServerTool for a ref: named `ref.name` (what the model sees), with the
   * ref's description and parameters if given, else the server's. Unknown
   * servers and tools are request errors listing what exists; a server that
   * cannot be started is a ToolError. `signal` stops waiting for a server
   * that is still starting (the start itself goes on, for the next caller).
   */
  async tool(ref: McpToolRef, signal?: AbortSignal): Promise<ServerTool> {
    const connection = this.connection(ref.server);
    const tools = await (signal ? untilAborted(connection.listTools(), signal) : connection.listTools());
    const listed = tools.find((tool) => tool.name === ref.tool);
    if (!listed) {
      const names = tools.map((tool) => tool.name);
      throw new AgentdError(
        "invalid_request",
        `MCP server '${ref.server}' has no tool '${ref.tool}'; its tools: ${names.join(", ") || "(none)"}`,
        {
          candidates: names,
        },
      );
    }
    const parameters = ref.parameters ?? listed.inputSchema;
    if (!ToolParameters.safeParse(parameters).success) {
      throw new ToolError(`MCP server '${ref.server}' describes tool '${ref.tool}' with a non-object input schema`);
    }
    return {
      name: ref.name,
      description: ref.description ?? listed.description ?? listed.title ?? "",
      parameters,
      async execute(args, context) {
        const result = await connection.callTool(ref.tool, args, context.signal);
        const text = resultText(result);
        // `isError` is the tool's own failure, worded by the tool: hand it to the model as is.
        if (result.isError === true) throw new ToolError(text || `MCP tool '${ref.tool}' on server '${ref.server}' failed`);
        return text;
      },
    };
  }

  /** Closes every client; stdio servers are asked to exit, then killed. Later calls fail. */
  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
  }

  private connection(server: string): McpConnection {
    const connection = this.connections.get(server);
    if (connection) return connection;
    const names = [...this.connections.keys()];
    throw new AgentdError(
      "invalid_request",
      `MCP server '${server}' is not configured; ${names.length > 0 ? `configured: ${names.join(", ")}` : "the config has no mcpServers"}`,
      { candidates: names, hint: "MCP servers come from the server's config file (mcpServers: { ... })." },
    );
  }
}
