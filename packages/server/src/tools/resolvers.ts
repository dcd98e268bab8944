import type { ToolRef } from "@agentd/protocol";
import type { AgentdConfig } from "../config/types.js";
import type { ToolResolvers } from "../engine/toolset.js";
import { AgentdError } from "../errors.js";
import { codeTool, type CodeToolDefinition } from "./code.js";
import {
  allowlistFromEnv,
  createHttpTool,
  HTTP_ALLOW_ENV,
  HTTP_REQUEST_ALLOW_ENV,
  parseAllowlist,
  parseRequestAllowlist,
  requestAllowlistFromEnv,
  requestHostRefusal,
  templateHostProblem,
} from "./http/index.js";
import { parseHttpUrl } from "./http/arguments.js";
import type { Logger } from "../logger.js";
import { secretReferences, toolOrigin, type ToolOwner } from "./provenance.js";
import type { ServerTool } from "./types.js";

type ServerToolRef = Exclude<ToolRef, { kind: "local" }>;

export interface ServerTools extends ToolResolvers {
  /**
   * Checks the tools a request defines itself (a run's or session's `tools`,
   * a session message's), before they are merged with a named agent's
   * (issue #8): a secret reference (`{ env }` header) is a 400 naming it
   * (`tools.0.headers.x`), an HTTP tool whose host is a placeholder a 400,
   * one whose host is not in `httpTools.requestAllow` a 403 naming the
   * settings. Definitions a request may not make come first, then the hosts.
   */
  validateRequestTools(tools: ToolRef[]): void;
  /**
   * Checks the refs of a resolved spec when an agent is defined: a 400
   * naming the tool beats a failed run later. `owner` is the spec's agent,
   * which decides which refs are the operator's (tools/provenance.ts).
   */
  validate(tools: ToolRef[], owner: ToolOwner): void;
  close(): Promise<void>;
}

/**
 * Resolves the server tool kinds: code tools from the config by name, MCP
 * tools through one client per configured server (tools/mcp), HTTP
 * tools through the SSRF guard with the outbound allowlist (config
 * `httpTools.allow` plus `AGENTD_HTTP_ALLOW`). HTTP tools a request defined
 * (not the operator's, see tools/provenance.ts) reach only the hosts of
 * `httpTools.requestAllow` plus `AGENTD_HTTP_REQUEST_ALLOW`. Both lists are
 * parsed once here, so a bad entry stops the start.
 */
export async function createServerTools(config: AgentdConfig, env: Record<string, string | undefined>, logger?: Logger): Promise<ServerTools> {
  const mcpServers = config.mcpServers ?? {};
  // The MCP SDK loads only when MCP servers are configured.
  const mcp = Object.keys(mcpServers).length > 0 ? new (await import("./mcp/index.js")).McpManager(mcpServers, logger ? { logger } : {}) : undefined;
  const code = new Map<string, CodeToolDefinition>((config.tools ?? []).map((tool) => [tool.name, tool]));
  const codeTools = new Map<string, ServerTool>();
  const allow = parseAllowlist([...(config.httpTools?.allow ?? []), ...allowlistFromEnv(env[HTTP_ALLOW_ENV]).entries]);
  const requestAllow = parseRequestAllowlist([...(config.httpTools?.requestAllow ?? []), ...requestAllowlistFromEnv(env[HTTP_REQUEST_ALLOW_ENV]).entries]);
  const agents = config.agents ?? {};
  const httpOptions = (ref: ToolRef, owner: ToolOwner) =>
    toolOrigin(ref, owner, agents) === "operator" ? { allow, env } : { allow, env, requestAllow };

  /** The 400s of a request-defined ref: a secret reference, a URL that is not http(s) or whose host is a placeholder. */
  function refuseDefinition(tool: ToolRef, index: number): void {
    for (const { path, message } of secretReferences(tool)) {
      throw new AgentdError("invalid_request", `tools.${index}.${path}: ${message}`, {
        issues: [{ path: `tools.${index}.${path}`, message }],
        hint: "Secrets belong in tools the operator defines in the server config (agents.<id>.tools); run that agent by agentId.",
      });
    }
    if (tool.kind !== "http") return;
    const problem =
      templateHostProblem(tool.url) ?? (parseHttpUrl(tool.url.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, "x")) ? undefined : "url must be an http: or https: URL");
    if (problem) {
      throw new AgentdError("invalid_request", `tools.${index}.url: ${problem}`, { issues: [{ path: `tools.${index}.url`, message: problem }] });
    }
  }

  /** The 403 of a request-defined HTTP tool whose (fixed) host is not in the request allowlist. */
  function refuseHost(tool: ToolRef, index: number): void {
    if (tool.kind !== "http") return;
    const url = parseHttpUrl(tool.url.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, "x"));
    const refused = url && requestHostRefusal(requestAllow, url);
    if (refused) {
      throw new AgentdError("forbidden", `tools.${index}.url: ${refused}`, {
        issues: [{ path: `tools.${index}.url`, message: refused }],
        hint: `HTTP tools in the server config (agents.<id>.tools) are not limited to these hosts; tools defined in a request are, by httpTools.requestAllow or ${HTTP_REQUEST_ALLOW_ENV}.`,
      });
    }
  }

  return {
    validateRequestTools(tools) {
      for (const [index, tool] of tools.entries()) refuseDefinition(tool, index);
      for (const [index, tool] of tools.entries()) refuseHost(tool, index);
    },
    validate(tools, owner) {
      for (const [index, tool] of tools.entries()) {
        if (tool.kind === "code" && !code.has(tool.name)) {
          throw new AgentdError("invalid_request", `tools.${index}.name: no code tool named '${tool.name}' in the server config`, {
            issues: [{ path: `tools.${index}.name`, message: `no code tool named '${tool.name}'` }],
            candidates: [...code.keys()],
          });
        }
        if (tool.kind === "http") {
          const options = httpOptions(tool, owner);
          if (options.requestAllow) {
            // Normally checked already (validateRequestTools); a ref that is not the operator's gets the request's rules here too.
            refuseDefinition(tool, index);
            refuseHost(tool, index);
          }
          try {
            createHttpTool(tool, options);
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
    async resolve(ref: ServerToolRef, owner: ToolOwner) {
      if (ref.kind === "code") {
        let tool = codeTools.get(ref.name);
        if (!tool) {
          const definition = code.get(ref.name);
          if (!definition) throw new AgentdError("invalid_request", `no code tool named '${ref.name}' in the server config`);
          codeTools.set(ref.name, (tool = codeTool(definition)));
        }
        return tool;
      }
      // Decided again at every resolve, from the config as it is now: the stored spec does not say who wrote a ref.
      if (ref.kind === "http") return createHttpTool(ref, httpOptions(ref, owner));
      // validate() refused refs to unconfigured servers, so with an MCP ref there is a manager.
      return mcp!.tool(ref);
    },
    close: async () => mcp?.close(),
  };
}
