import { AgentdError } from "../errors.js";
import type { Store } from "../store/types.js";

export interface AdmissionLimits {
  /** Queued + running runs of one workspace. */
  maxActiveRunsPerWorkspace: number;
  /** Paused runs of one workspace (they hold no execution slot, but a row and a deadline each). */
  maxPausedRunsPerWorkspace: number;
  /** Runs queued or running in this process, paused ones not counted (see LimitsConfig.maxQueuedRuns). */
  maxQueuedRuns: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxActiveRunsPerWorkspace: 1_000,
  maxPausedRunsPerWorkspace: 10_000,
  maxQueuedRuns: 10_000,
};

/** How long a workspace's counts read from the store are used before they are read again. */
const FRESH_MS = 1_000;
/** From this share of a cap on, every admission reads the counts again: exact where it matters, free far from it. */
const NEAR = 0.9;

interface Counts {
  active: number;
  paused: number;
  readAt: number;
  /** Runs admitted here since the read (conservative: some may have ended meanwhile). */
  since: number;
}

/**
 * Whether a new run may start (issue #8): a workspace may have at most so
 * many queued + running runs (429 rate_limited) and so many paused ones
 * (429), and the process runs or queues at most so many (503); each answer
 * carries Retry-After, so no burst from one key turns into an unbounded
 * queue. Counts come from the store, so they hold across workers: read at
 * most once a second per workspace while far from a cap, at every
 * admission near it, and shared by concurrent admissions.
 */
export class Admission {
  private readonly counts = new Map<string, Counts>();
  private readonly reading = new Map<string, Promise<Counts>>();
  /** Admitted runs whose row is not committed yet, per workspace: a read of the store cannot see them. */
  private readonly unstored = new Map<string, number>();
  /** Runs admitted and not yet handed to the engine: held, though the engine does not count them yet. */
  private admitting = 0;

  constructor(
    private readonly store: Store,
    /** How many runs are queued or running in this process now (paused ones not counted). */
    private readonly held: () => number,
    private readonly limits: AdmissionLimits,
  ) {}

  /** Admits one run of the workspace or throws; call `stored()` once its row is committed (or its insert failed). */
  async admit(workspaceId: string): Promise<{ stored: () => void }> {
    const { maxQueuedRuns, maxActiveRunsPerWorkspace: maxActive, maxPausedRunsPerWorkspace: maxPaused } = this.limits;
    let counts = this.counts.get(workspaceId);
    if (counts === undefined || Date.now() - counts.readAt > FRESH_MS || counts.active + counts.since >= maxActive * NEAR || counts.paused >= maxPaused * NEAR) {
      counts = await this.read(workspaceId);
    }
    if (counts.active + counts.since >= maxActive) {
      throw new AgentdError("rate_limited", `this workspace has ${maxActive} runs queued or running, its limit; retry when some have ended`, {
        retryAfterSeconds: 1,
        hint: "The limit is limits.maxActiveRunsPerWorkspace in the server config.",
      });
    }
    if (counts.paused >= maxPaused) {
      throw new AgentdError("rate_limited", `this workspace has ${maxPaused} paused runs, its limit; answer or cancel some first`, {
        retryAfterSeconds: 5,
        hint: "Paused runs wait for a tool result or an approval. The limit is limits.maxPausedRunsPerWorkspace in the server config.",
      });
    }
    // After the workspace's own caps, so that one workspace filling the process meets its 429 first.
    if (this.held() + this.admitting >= maxQueuedRuns) {
      throw new AgentdError("unavailable", `agentd is at capacity (${maxQueuedRuns} runs queued or running in this process); retry shortly`, {
        retryAfterSeconds: 2,
        hint: "The limit is limits.maxQueuedRuns in the server config.",
      });
    }
    counts.since++;
    this.admitting++;
    this.unstored.set(workspaceId, (this.unstored.get(workspaceId) ?? 0) + 1);
    let done = false;
    return {
      stored: () => {
        if (done) return;
        done = true;
        this.admitting--;
        const left = (this.unstored.get(workspaceId) ?? 1) - 1;
        if (left > 0) this.unstored.set(workspaceId, left);
        else this.unstored.delete(workspaceId);
      },
    };
  }

  private read(workspaceId: string): Promise<Counts> {
    const pending = this.reading.get(workspaceId);
    if (pending !== undefined) return pending;
    const reading: Promise<Counts> = this.store
        .countActiveRuns(workspaceId)
        .then(({ queued, running, paused }) => {
          const counts: Counts = { active: queued + running, paused, readAt: Date.now(), since: this.unstored.get(workspaceId) ?? 0 };
          // A bounded map: workspaces not seen for a while are read again anyway.
          if (this.counts.size >= 10_000) this.counts.clear();
          this.counts.set(workspaceId, counts);
          return counts;
        })
        .finally(() => this.reading.delete(workspaceId));
    this.reading.set(workspaceId, reading);
    return reading;
  }
}
