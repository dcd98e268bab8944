import { PROTOCOL_VERSION } from "@agentd/protocol";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { McpServerConfig } from "../../config/types.js";
import type { Logger } from "../../logger.js";
import { ToolError } from "../types.js";
import { untilAborted } from "./abort.js";
import { describeFailure } from "./failure.js";
import { ChildProcessTransport } from "./stdio-transport.js";

/** @default 60_000 */
export const DEFAULT_MCP_TIMEOUT_MS = 60_000;

/** One client and its transport; `dead` once the transport has closed. */
interface Live {
  client: Client;
  transport: Transport;
  dead: boolean;
}

/**
 * One configured MCP server: connects on first use, keeps one client, and
 * replaces it when it dies. Each call makes at most one connection attempt,
 * so a server that keeps crashing costs one spawn per call, not a loop.
 */
export class McpConnection {
  private attempt: Promise<Live> | undefined;
  private current: Live | undefined;
  /** The newest client, connected or still connecting: what close() must end. */
  private latest: Live | undefined;
  private tools: Promise<Tool[]> | undefined;
  private closed = false;
  private readonly timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly config: McpServerConfig,
    private readonly clientName: string,
    private readonly logger: Pick<Logger, "warn" | "error">,
  ) {
    this.timeoutMs = config.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS;
  }

  /**
   * The server's tools, listed once: agentd does not follow
   * `notifications/tools/list_changed`, the list is read on first use.
   */
  listTools(): Promise<Tool[]> {
    this.tools ??= this.fetchTools().catch((error: unknown) => {
      this.tools = undefined;
      throw error;
    });
    return this.tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    // Starting a server can take a while (`npx -y`): a cancelled run should not wait for it.
    const live = await untilAborted(this.live(), signal);
    try {
      return (await live.client.callTool({ name: tool, arguments: args }, undefined, {
        signal,
        timeout: this.timeoutMs,
      })) as CallToolResult;
    } catch (error) {
      // The SDK turns an abort into a RequestTimeout McpError; give the caller its own reason back.
      if (signal.aborted) throw signal.reason;
      throw this.failed(live, error);
    }
  }

  /** Ends the client, and a start in progress: its waiters fail with "is shut down". */
  async close(): Promise<void> {
    this.closed = true;
    const live = this.latest;
    this.attempt = this.current = this.latest = undefined;
    if (live) {
      live.dead = true;
      await live.client.close().catch(() => undefined);
    }
  }

  private async fetchTools(): Promise<Tool[]> {
    const live = await this.live();
    const tools: Tool[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await live.client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: this.timeoutMs });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    } catch (error) {
      throw this.failed(live, error);
    }
    return tools;
  }

  /** The live client, connecting if there is none or the last one died. */
  private live(): Promise<Live> {
    if (this.closed) return Promise.reject(new ToolError(`MCP server '${this.name}' is shut down`));
    if (this.current?.dead) {
      this.logger.warn({ server: this.name }, "MCP server connection lost; reconnecting");
      this.current = undefined;
      this.attempt = undefined;
    }
    this.attempt ??= this.connect().then(
      (live) => (this.current = live),
      (error: unknown) => {
        this.attempt = undefined;
        throw error;
      },
    );
    return this.attempt;
  }

  private async connect(): Promise<Live> {
    const transport: Transport =
      "command" in this.config
        ? new ChildProcessTransport(this.config)
        : new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers: this.config.headers ?? {} } });
    const client = new Client({ name: this.clientName, version: PROTOCOL_VERSION });
    const live: Live = { client, transport, dead: false };
    this.latest = live;
    client.onclose = () => {
      // Already dead means agentd closed it on purpose: only an unexpected exit is worth a log line.
      const expected = live.dead || this.closed;
      live.dead = true;
      if (!expected && transport instanceof ChildProcessTransport && transport.exit) {
        const { code, signal } = transport.exit;
        this.logger.warn({ server: this.name, code, signal, stderr: transport.stderrTail }, "MCP server exited");
      }
    };
    client.onerror = (error) => this.logger.warn({ server: this.name, err: error }, "MCP server transport error");
    try {
      // Starting may mean `npx` downloading a package: never allow it less than the default.
      await client.connect(transport, { timeout: Math.max(this.timeoutMs, DEFAULT_MCP_TIMEOUT_MS) });
    } catch (error) {
      if (this.closed) throw new ToolError(`MCP server '${this.name}' is shut down`, { cause: error });
      // Worded before closing: the close kills the process, whose exit would then read as the cause.
      const failure = describeFailure(this.name, transport, error, "start");
      live.dead = true;
      await client.close().catch(() => undefined);
      this.logger.error({ server: this.name, err: error }, failure.message);
      throw failure;
    }
    if (this.closed) {
      await client.close();
      throw new ToolError(`MCP server '${this.name}' is shut down`);
    }
    return live;
  }

  /**
   * Words a failed request for the model. Anything but an error the server
   * answered with (a JSON-RPC error, a timeout) may have left the client
   * unusable (a dropped HTTP session, a dead process), so it is discarded
   * and the next call starts afresh.
   */
  private failed(live: Live, error: unknown): ToolError {
    if (!(error instanceof McpError) || live.dead) {
      live.dead = true;
      void live.client.close().catch(() => undefined);
    }
    return describeFailure(this.name, live.transport, error, "call");
  }
}
