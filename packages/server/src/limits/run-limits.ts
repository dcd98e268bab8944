import type { KeyLimits } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import type { Store } from "../store/types.js";
import type { LimitState } from "./headers.js";

/** The config's defaults for keys without their own (`limits.keyConcurrentRuns`, `limits.keyTokensPerDay`). */
export interface KeyRunDefaults {
  concurrentRuns?: number | undefined;
  tokensPerDay?: number | undefined;
}

/** The key of a run creation, as far as its limits go. */
export interface LimitedKey {
  id: string;
  workspaceId: string;
  limits: KeyLimits;
}

/** A run admitted under its key's limits: call `stored()` once its row is committed (or its insert failed). */
export interface KeyAdmission {
  stored(): void;
}

/** How long a key's tokens of the day read from the store are used before they are read again. */
const FRESH_MS = 1_000;
/** From this share of a budget on, every admission reads the tokens again. */
const NEAR = 0.9;
const DAY_MS = 86_400_000;

interface Tokens {
  day: string;
  used: number;
  readAt: number;
}

/** A run admitted here: `storedAt` is the sequence number of its commit, undefined until then. */
interface Slot {
  storedAt: number | undefined;
}

/**
 * A key's concurrentRuns and tokensPerDay (issue #12), checked before a run
 * is stored. Both are counted in the store, the source of truth every
 * worker shares and that outlives any of them:
 *
 * - concurrentRuns: the key's runs `queued` or `running` (runs.key_id among
 *   the workspace's active runs). A slot is free the moment the run's row
 *   leaves those states, whichever way it ended, on whichever worker; a
 *   worker that dies leaves its runs `running` until the sweep resumes them
 *   elsewhere (they still run) or ends them, so nothing leaks and nothing
 *   needs a lease of its own. Paused runs hold no execution slot (as in
 *   runs/admission.ts) and do not count; a paused run that resumes may take
 *   the key over its limit for a while. Read at every admission of a
 *   limited key, plus the runs this process admitted that the read could
 *   not see yet (`slots`), so one process never admits past the limit; two
 *   workers admitting the key's last slot in the same few milliseconds
 *   both may (one store read's window).
 * - tokensPerDay: input + output tokens of the key's runs created this UTC
 *   day, live ones' so far, charged from the usage columns every run's
 *   writes keep (so a run ending is charged with no write of its own), plus
 *   those of its runs deleted since (key_usage_days). Checked before a run
 *   starts: a run that starts under the budget may end over it. Read at
 *   most once a second per key while far from the budget or past it, at
 *   every admission near it (90 % on); a restart reads the same rows.
 *
 * A key with neither limit (nor a default) costs nothing: `admit` answers
 * undefined synchronously, without a read.
 */
export class KeyRunLimits {
  private readonly tokens = new Map<string, Tokens>();
  private readonly reading = new Map<string, Promise<Tokens>>();
  private readonly slots = new Map<string, { slots: Slot[]; reads: number }>();
  private commits = 0;

  constructor(
    private readonly store: Store,
    private readonly defaults: KeyRunDefaults,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined when no limit applies to the key; else admits one run or throws 429 rate_limited naming the limit. */
  admit(key: LimitedKey | undefined, report?: (state: LimitState) => void): Promise<KeyAdmission> | undefined {
    if (key === undefined) return undefined;
    const concurrentRuns = key.limits.concurrentRuns ?? this.defaults.concurrentRuns;
    const tokensPerDay = key.limits.tokensPerDay ?? this.defaults.tokensPerDay;
    if (concurrentRuns === undefined && tokensPerDay === undefined) return undefined;
    return this.check(key, concurrentRuns, tokensPerDay, report ?? (() => {}));
  }

  private async check(
    key: LimitedKey,
    concurrentRuns: number | undefined,
    tokensPerDay: number | undefined,
    report: (state: LimitState) => void,
  ): Promise<KeyAdmission> {
    if (tokensPerDay !== undefined) await this.checkTokens(key.id, tokensPerDay, report);
    if (concurrentRuns === undefined) return { stored: () => {} };
    return this.takeSlot(key, concurrentRuns, report);
  }

  private async checkTokens(keyId: string, perDay: number, report: (state: LimitState) => void): Promise<void> {
    const now = this.now();
    const day = new Date(now).toISOString().slice(0, 10);
    let tokens = this.tokens.get(keyId);
    // Near the budget, read every time; past it the sum only grows within the day, so a refused key's retries cost no read.
    const near = tokens !== undefined && tokens.used >= perDay * NEAR && tokens.used < perDay;
    if (tokens === undefined || tokens.day !== day || now - tokens.readAt > FRESH_MS || near) {
      tokens = await this.readTokens(keyId, day);
    }
    const reset = Math.max(1, Math.ceil((Date.parse(`${day}T00:00:00.000Z`) + DAY_MS - now) / 1000));
    report({ policy: `"tokens";q=${perDay};w=86400`, state: `"tokens";r=${Math.max(0, perDay - tokens.used)};t=${reset}` });
    if (tokens.used >= perDay) {
      throw new AgentdError(
        "rate_limited",
        `this API key's runs used ${tokens.used} model tokens today (UTC), its budget is ${perDay} (limit: tokensPerDay)`,
        {
          retryAfterSeconds: reset,
          hint: "The budget starts again at midnight UTC (Retry-After), or raise the key's limits.tokensPerDay (PATCH /keys/{keyId}).",
        },
      );
    }
  }

  private readTokens(keyId: string, day: string): Promise<Tokens> {
    const pending = this.reading.get(keyId);
    if (pending !== undefined) return pending;
    const reading = this.store
      .keyTokensOfDay(keyId, day)
      .then((used) => {
        const tokens: Tokens = { day, used, readAt: this.now() };
        // A bounded map: keys not seen for a while are read again anyway.
        if (this.tokens.size >= 10_000) this.tokens.clear();
        this.tokens.set(keyId, tokens);
        return tokens;
      })
      .finally(() => this.reading.delete(keyId));
    this.reading.set(keyId, reading);
    return reading;
  }

  private async takeSlot(key: LimitedKey, limit: number, report: (state: LimitState) => void): Promise<KeyAdmission> {
    let held = this.slots.get(key.id);
    if (held === undefined) this.slots.set(key.id, (held = { slots: [], reads: 0 }));
    const readFrom = this.commits;
    held.reads++;
    let active: number;
    try {
      active = await this.store.countKeyActiveRuns(key.workspaceId, key.id);
    } finally {
      held.reads--;
    }
    // Runs admitted here whose commit came after the read began: it may not have seen them.
    active += held.slots.filter((slot) => slot.storedAt === undefined || slot.storedAt > readFrom).length;
    const admitted = active < limit;
    report({
      policy: `"runs";q=${limit};qu="concurrent-requests"`,
      state: admitted ? `"runs";r=${limit - active - 1}` : `"runs";r=0;t=1`,
    });
    if (!admitted) {
      this.forget(key.id, held);
      throw new AgentdError(
        "rate_limited",
        `this API key has ${active} runs queued or running, its limit is ${limit} (limit: concurrentRuns)`,
        {
          retryAfterSeconds: 1,
          hint: "Retry when one of its runs has ended (paused runs do not count), or raise the key's limits.concurrentRuns (PATCH /keys/{keyId}).",
        },
      );
    }
    const slot: Slot = { storedAt: undefined };
    held.slots.push(slot);
    this.forget(key.id, held);
    return {
      stored: () => {
        if (slot.storedAt !== undefined) return;
        slot.storedAt = ++this.commits;
        this.forget(key.id, held);
      },
    };
  }

  /** Drops the slots every later read will see (committed, and no read of the key in flight). */
  private forget(keyId: string, held: { slots: Slot[]; reads: number }): void {
    if (held.reads > 0) return;
    held.slots = held.slots.filter((slot) => slot.storedAt === undefined);
    if (held.slots.length === 0 && this.slots.get(keyId) === held) this.slots.delete(keyId);
  }
}
