import type { TimeoutKind } from "../types.js";

/** The four limits of one provider call, in milliseconds (provider config `timeouts`). */
export interface ProviderTimeouts {
  /** Opening a new connection (TCP + TLS). */
  connectMs: number;
  /** From the request sent to the response head. */
  firstByteMs: number;
  /** Between two reads of the body. */
  idleMs: number;
  /** The whole call, head to last byte. */
  totalMs: number;
}

/**
 * Defaults that suit real providers: a connection opens in well under 10 s;
 * the head of a streamed answer comes within seconds, but a loaded provider
 * may queue a request for a minute; a reasoning model may think for minutes
 * without sending a byte on some APIs (Chat Completions sends no keep-alive
 * while it reasons); 10 minutes in all is what OpenAI's and Anthropic's own
 * SDKs allow a request.
 */
export const DEFAULT_TIMEOUTS: ProviderTimeouts = { connectMs: 10_000, firstByteMs: 120_000, idleMs: 300_000, totalMs: 600_000 };

const SETTING: Record<TimeoutKind, keyof ProviderTimeouts> = {
  connect: "connectMs",
  firstByte: "firstByteMs",
  idle: "idleMs",
  total: "totalMs",
};

/** The name of the setting behind a timeout, for messages: `timeouts.idleMs`. */
export const timeoutSetting = (kind: TimeoutKind): string => `timeouts.${SETTING[kind]}`;

/** The limit of one kind, in milliseconds. */
export const limitOf = (limits: ProviderTimeouts, kind: TimeoutKind): number => limits[SETTING[kind]];

/**
 * The timeouts of one call on a single timer. It is re-armed only when it
 * fires early (the deadline moved on) or a phase brings the deadline nearer,
 * never per chunk: `touch()` just records the time, so a 200-chunk stream
 * costs one timer, not 200.
 */
export class CallWatchdog {
  private readonly started = Date.now();
  private phase: Exclude<TimeoutKind, "total"> = "connect";
  private phaseStarted = this.started;
  private lastRead = this.started;
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (epoch ms). */
  private armedFor = Number.POSITIVE_INFINITY;
  /** Which limit fired, once one has. */
  fired: TimeoutKind | undefined;

  constructor(
    private readonly limits: ProviderTimeouts,
    private readonly onFire: (kind: TimeoutKind) => void,
  ) {}

  /** Waiting for a connection (a new one, or a free one of the pool). */
  connecting(): void {
    this.enter("connect");
  }

  /** The request is out: waiting for the response head. */
  waitingForHead(): void {
    this.enter("firstByte");
  }

  /** The head arrived: from now on, the idle limit between reads. */
  reading(): void {
    this.lastRead = Date.now();
    this.enter("idle");
  }

  /** A read: the idle clock starts again. */
  touch(): void {
    this.lastRead = Date.now();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private enter(phase: Exclude<TimeoutKind, "total">): void {
    this.phase = phase;
    this.phaseStarted = Date.now();
    if (this.deadline() < this.armedFor) this.arm();
  }

  /** The nearer of the phase's deadline and the call's. */
  private deadline(): number {
    const phase = (this.phase === "idle" ? this.lastRead : this.phaseStarted) + limitOf(this.limits, this.phase);
    return Math.min(phase, this.started + this.limits.totalMs);
  }

  private arm(): void {
    if (this.fired !== undefined) return;
    const deadline = this.deadline();
    const left = deadline - Date.now();
    if (left <= 0) return this.fire(deadline === this.started + this.limits.totalMs ? "total" : this.phase);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      this.arm();
    }, left);
  }

  private fire(kind: TimeoutKind): void {
    this.stop();
    this.fired = kind;
    this.onFire(kind);
  }
}
