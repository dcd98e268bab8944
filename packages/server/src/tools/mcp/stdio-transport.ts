import { spawn, type ChildProcess } from "node:child_process";
import { getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { McpStdioServerConfig } from "../../config/types.js";

/** How long a server may take to exit after its stdin closes, then after SIGTERM (MCP lifecycle, "Shutdown", stdio). */
const EXIT_GRACE_MS = 2_000;
/** Kept for the log when the process dies: the last words are the useful ones. */
const STDERR_TAIL_CHARS = 4_000;

/**
 * The SDK's StdioClientTransport, plus what agentd needs to explain a death:
 * the SDK's hides the exit code, the spawn error and stderr, so "MCP server
 * 'files' exited (code 1)" could not be said. Same protocol (newline-
 * delimited JSON-RPC), same minimal inherited environment (HOME, PATH, ...:
 * agentd's API keys are not passed on), same shutdown (close stdin, then
 * SIGTERM, then SIGKILL). Uses node's spawn without a shell, so on Windows
 * `npx` must be run as `cmd /c npx`.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** Set when the process could not be started (e.g. `spawn nope ENOENT`). */
  spawnError: Error | undefined;
  /** Set once the process has ended. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stderrTail = "";

  private child: ChildProcess | undefined;
  private readonly buffer = new ReadBuffer();

  constructor(private readonly server: McpStdioServerConfig) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.server.command, this.server.args ?? [], {
        env: { ...getDefaultEnvironment(), ...this.server.env },
        cwd: this.server.cwd,
        stdio: ["pipe", "pipe", "pipe"],
        shell: false,
        windowsHide: true,
      });
      this.child = child;
      child.once("error", (error) => {
        this.spawnError ??= error;
        reject(error);
        this.onerror?.(error);
      });
      child.once("spawn", () => resolve());
      // `close` (not `exit`): stdout is drained by then, so a last response is not lost.
      child.once("close", (code, signal) => {
        this.exit = { code, signal };
        this.child = undefined;
        this.onclose?.();
      });
      child.stdout?.on("data", (chunk: Buffer) => this.receive(chunk));
      child.stderr?.on("data", (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS);
      });
      // A write to a dead server's stdin (EPIPE) is reported by `close`; without a listener it would crash agentd.
      child.stdin?.on("error", (error) => this.onerror?.(error));
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error("the MCP server process is not running"));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once("drain", resolve);
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const ended = () => child.exitCode !== null || child.signalCode !== null;
    const exit = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("close", () => resolve());
    });
    const endedWithin = async (ms: number) => {
      if (!ended()) await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
      return ended();
    };
    child.stdin?.end();
    if (!(await endedWithin(EXIT_GRACE_MS))) child.kill("SIGTERM");
    if (!(await endedWithin(EXIT_GRACE_MS))) child.kill("SIGKILL");
    await endedWithin(EXIT_GRACE_MS);
    // A grandchild (`npx` runs the real server) may still hold the pipes open,
    // which would keep `close` (and so `onclose`) from ever firing.
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.buffer.clear();
  }

  private receive(chunk: Buffer): void {
    try {
      this.buffer.append(chunk);
    } catch (error) {
      // A message over the SDK's 10 MB limit: the stream cannot be resynchronised.
      this.onerror?.(error as Error);
      void this.close();
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (error) {
        // A server that logs to stdout: report the line and carry on, as the SDK does.
        this.onerror?.(error as Error);
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }
}
