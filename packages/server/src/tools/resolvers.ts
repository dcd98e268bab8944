import type { ToolRef } from "@agentd/protocol";
import type { AgentdConfig } from "../config/types.js";
import type { ToolResolvers } from "../engine/toolset.js";
import { AgentdError } from "../errors.js";
import { codeTool, type CodeToolDefinition } from "./code.js";
import { allowlistFromEnv, createHttpTool, HTTP_ALLOW_ENV, parseAllowlist } from "./http/index.js";
import type { Logger } from "../logger.js";
import type { ServerTool } from "./types.js";

type ServerToolRef = Exclude<ToolRef, { kind: "local" }>;

export interface ServerTools extends ToolResolvers {
  /** Checks refs when an agent is defined: a 400 naming the tool beats a failed run later. */
  validate(tools: ToolRef[]): void;
  close(): Promise<void>;
}

/**
 * Resolves the server tool kinds: code tools from the config by name, MCP
 * tools through one client per configured server (tools/mcp), HTTP
 * tools through the SSRF guard with the outbound allowlist (config
 * `httpTools.allow` plus `AGENTD_HTTP_ALLOW`, parsed once here so a bad
 * entry stops the start).
 */
export async function createServerTools(config: AgentdConfig, env: Record<string, string | undefined>, logger?: Logger): Promise<ServerTools> {
  const mcpServers = config.mcpServers ?? {};
  // The MCP SDK loads only when MCP servers are configured.
  const mcp = Object.keys(mcpServers).length > 0 ? new (await import("./mcp/index.js")).McpManager(mcpServers, logger ? { logger } : {}) : undefined;
  const code = new Map<string, CodeToolDefinition>((config.tools ?? []).map((tool) => [tool.name, tool]));
  const codeTools = new Map<string, ServerTool>();
  const allow = parseAllowlist([...(config.httpTools?.allow ?? []), ...allowlistFromEnv(env[HTTP_ALLOW_ENV]).entries]);
  return {
    validate(tools) {
      for (const [index, tool] of tools.entries()) {
        if (tool.kind === "code" && !code.has(tool.name)) {
          throw new AgentdError("invalid_request", `tools.${index}.name: no code tool named '${tool.name}' in the server config`, {
            issues: [{ path: `tools.${index}.name`, message: `no code tool named '${tool.name}'` }],
            candidates: [...code.keys()],
          });
        }
        if (tool.kind === "http") {
          try {
            createHttpTool(tool, { allow, env });
          } catch (error) {
            throw new AgentdError("invalid_request", `tools.${index}.url: ${(error as Error).message}`, {
              issues: [{ path: `tools.${index}.url`, message: (error as Error).message }],
            });
          }
        }
        if (tool.kind === "mcp" && !Object.hasOwn(mcpServers, tool.server)) {
          const configured = Object.keys(mcpServers);
          throw new AgentdError(
            "invalid_request",
            `tools.${index}.server: no MCP server named '${tool.server}' in the server config${configured.length > 0 ? ` (configured: ${configured.join(", ")})` : ""}`,
            { issues: [{ path: `tools.${index}.server`, message: `unknown MCP server '${tool.server}'` }], candidates: configured },
          );
        }
      }
    },
    async resolve(ref: ServerToolRef) {
      if (ref.kind === "code") {
        let tool = codeTools.get(ref.name);
        if (!tool) {
          const definition = code.get(ref.name);
          if (!definition) throw new AgentdError("invalid_request", `no code tool named '${ref.name}' in the server config`);
          codeTools.set(ref.name, (tool = codeTool(definition)));
        }
        return tool;
      }
      if (ref.kind === "http") return createHttpTool(ref, { allow, env });
      // validate() refused refs to unconfigured servers, so with an MCP ref there is a manager.
      return mcp!.tool(ref);
    },
    close: async () => mcp?.close(),
  };
}
