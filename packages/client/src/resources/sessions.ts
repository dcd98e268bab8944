import type { CreateRunResponse, CreateSessionResponse, RunEvent, SessionInfo, ToolRef } from "@agentd/protocol";
import { collectResult, driveRun } from "../internal/drive.js";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";
import { toolHandlers, toWireTools, type LocalTool, type ToolInput } from "../tools.js";
import type { RunResult, SendOptions, SessionParams } from "../types.js";

export class Sessions {
  constructor(private readonly transport: Transport) {}

  /** Creates a conversation with the given agent; its local tools answer every message sent through the returned Session. */
  async create(params: SessionParams, options?: RequestOptions): Promise<Session> {
    const created = await this.transport.json<CreateSessionResponse>({
      ...operations.createSession(),
      body: { ...params, tools: toWireTools(params.tools) },
      ...options,
    });
    return new Session(this.transport, created.sessionId, toolHandlers(params.tools), undefined);
  }

  get(sessionId: string, options?: RequestOptions): Promise<SessionInfo> {
    return this.transport.json({ ...operations.getSession(sessionId), ...options });
  }

  /** Ends the session and cancels its run in progress, if any. */
  async end(sessionId: string, options?: RequestOptions): Promise<void> {
    await this.transport.json({ ...operations.endSession(sessionId), ...options });
  }

  /**
   * A handle on an existing session, without a request: a missing session
   * surfaces as NotFoundError on the first call. Handlers are not stored by
   * the server, so pass the local tools again; their definitions are sent
   * with each message to refresh the session's.
   */
  resume(sessionId: string, options: { tools?: ToolInput[] } = {}): Session {
    return new Session(this.transport, sessionId, toolHandlers(options.tools), toWireTools(options.tools));
  }
}

/** One conversation: each `send` is a run that sees the earlier turns. */
export class Session {
  constructor(
    private readonly transport: Transport,
    readonly id: string,
    private readonly handlers: Map<string, LocalTool>,
    private readonly refreshTools: ToolRef[] | undefined,
  ) {}

  /** Sends a message; resolves with the answer, rejects with RunFailedError / RunCancelledError. */
  async send(prompt: string, options: SendOptions = {}): Promise<RunResult> {
    const { runId } = await this.post(prompt, options);
    return collectResult(runId, driveRun(this.transport, runId, this.handlers, options));
  }

  /** Sends a message and yields the run's events, the terminal one included. */
  async *stream(prompt: string, options: SendOptions = {}): AsyncGenerator<RunEvent> {
    const { runId } = await this.post(prompt, options);
    yield* driveRun(this.transport, runId, this.handlers, options);
  }

  info(options?: RequestOptions): Promise<SessionInfo> {
    return this.transport.json({ ...operations.getSession(this.id), ...options });
  }

  async end(options?: RequestOptions): Promise<void> {
    await this.transport.json({ ...operations.endSession(this.id), ...options });
  }

  private post(prompt: string, options: SendOptions): Promise<CreateRunResponse> {
    const { metadata, modelParams, dependencies, onBusy } = options;
    const body = { prompt, tools: this.refreshTools, metadata, modelParams, dependencies, onBusy };
    return this.transport.json({ ...operations.sendSessionMessage(this.id), body, signal: options.signal });
  }
}
