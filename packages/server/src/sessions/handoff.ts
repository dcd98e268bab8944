import type { ConversationMessage } from "../models/types.js";
import type { RunRecord, Store } from "../store/types.js";

/**
 * Hands an idle session to its oldest queued run (messages sent with
 * `onBusy: "enqueue"`). Serialised per session in this process, so two
 * callers never hand one session to two runs. The queued run's conversation
 * is rebuilt from the session's history as it is now — it includes the
 * turns of the runs that went before it.
 */
export class SessionHandoff {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly start: (record: RunRecord) => void,
  ) {}

  next(workspaceId: string, sessionId: string): Promise<void> {
    const previous = this.chains.get(sessionId) ?? Promise.resolve();
    const current = previous.then(() => this.handOff(workspaceId, sessionId)).catch(() => undefined);
    this.chains.set(sessionId, current);
    void current.finally(() => {
      if (this.chains.get(sessionId) === current) this.chains.delete(sessionId);
    });
    return current;
  }

  /** Runs waiting in a session, oldest first. */
  async queued(workspaceId: string, sessionId: string): Promise<RunRecord[]> {
    const newestFirst = await this.store.listRuns(workspaceId, { sessionId, statuses: ["queued"] }, { limit: 100 });
    return newestFirst.reverse();
  }

  private async handOff(workspaceId: string, sessionId: string): Promise<void> {
    const session = await this.store.getSession(workspaceId, sessionId);
    if (!session || session.status !== "active" || session.activeRunId !== null) return;
    const [next] = await this.queued(workspaceId, sessionId);
    if (!next) return;
    const checkpoint = next.checkpoint;
    const input = checkpoint.messages.slice(checkpoint.inputStart);
    const history: ConversationMessage[] = session.messages.map((message) => ({ role: message.role, content: message.content }));
    checkpoint.messages = [...history, ...input];
    checkpoint.inputStart = history.length;
    await this.store.updateSession(sessionId, { activeRunId: next.id });
    this.start(next);
  }
}
