import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { StoredEvent } from "../store/types.js";
import { closeRedis, connectRedis, whenReady } from "./redis-connection.js";
import type { EventBus, EventListener, SignalListener } from "./types.js";

export interface RedisEventBusOptions {
  url: string;
  /** Prepended to every channel name, so several deployments can share one Redis. */
  prefix?: string;
  /** Names this process's connections in CLIENT LIST (default `<hostname>:<pid>`). */
  name?: string;
  logger?: Logger;
}

/** A subscribed channel: its listeners, and whether its payload is a JSON array of events. */
interface Channel {
  events: boolean;
  listeners: Set<(payload: never) => void>;
}

/**
 * The scale-out bus (docs/scale-out.md): Redis pub/sub, one connection to
 * PUBLISH and one to SUBSCRIBE per process, whatever the number of readers.
 * Channels: `<prefix>run:<runId>` (JSON array of StoredEvents),
 * `<prefix>signal:<topic>`, `<prefix>bus:resync` (internal).
 */
export class RedisEventBus implements EventBus {
  /** A worker killed between its commit and its publish loses the publication, and no reconnect says so. */
  readonly lossy = true;
  readonly prefix: string;
  private readonly logger: Logger | undefined;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly resyncChannel: string;
  /** A channel is subscribed in Redis exactly while it has an entry here (ref counting by set size). */
  private readonly channels = new Map<string, Channel>();
  private readonly reconnectListeners = new Set<() => void>();
  /** The last SUBSCRIBE sent. Replies come in order, so once it settles every earlier one has too. */
  private subscribed: Promise<void> = Promise.resolve();
  private dropping = false;
  private closed = false;

  constructor(options: RedisEventBusOptions) {
    this.prefix = options.prefix ?? "agentd:";
    this.logger = options.logger;
    const name = options.name ?? `${hostname()}:${process.pid}`;
    // ioredis' offline queue stays on with its default bound (a command fails
    // after 20 reconnect attempts, ~10 s): a blip delays publications rather
    // than dropping them, a long outage cannot pile them up in memory.
    // Auto-pipelined: the PUBLISHes of one group commit (one per run) leave in one write.
    this.pub = connectRedis(options.url, `${this.prefix}bus:pub:${name}`, this.logger, { enableAutoPipelining: true });
    // We resubscribe ourselves (not ioredis) to know when subscriptions are
    // live again: only then may readers re-read the store, or a publication
    // between their re-read and the SUBSCRIBE would be missed.
    this.sub = connectRedis(options.url, `${this.prefix}bus:sub:${name}`, this.logger, {
      autoResubscribe: false,
      maxRetriesPerRequest: null,
    });
    this.sub.on("message", (channel: string, message: string) => this.dispatch(channel, message));

    // Publications dropped while *this* publisher was away are invisible to
    // subscribers that stayed connected: after a reconnect the publisher
    // tells every process to re-read the store.
    this.resyncChannel = `${this.prefix}bus:resync`;
    this.listen(this.resyncChannel, false, () => this.reconnected());
    let pubConnected = false;
    this.pub.on("ready", () => {
      this.dropping = false;
      if (pubConnected) this.pub.publish(this.resyncChannel, "").catch(() => undefined);
      pubConnected = true;
    });
    let subConnected = false;
    this.sub.on("ready", () => {
      if (!subConnected) {
        subConnected = true;
        return;
      }
      this.subscribed = this.changeSubscription("subscribe", [...this.channels.keys()]);
      void this.subscribed.then(() => this.reconnected());
    });
  }

  publish(runId: string, events: readonly StoredEvent[]): void {
    if (events.length > 0) this.publishRaw(`${this.prefix}run:${runId}`, JSON.stringify(events));
  }

  subscribe(runId: string, listener: EventListener): () => void {
    return this.listen(`${this.prefix}run:${runId}`, true, listener);
  }

  signal(topic: string, message: string): void {
    this.publishRaw(`${this.prefix}signal:${topic}`, message);
  }

  onSignal(topic: string, listener: SignalListener): () => void {
    return this.listen(`${this.prefix}signal:${topic}`, false, listener);
  }

  async ready(): Promise<void> {
    await Promise.all([whenReady(this.pub), whenReady(this.sub)]);
    // A reconnect while waiting replaces `subscribed`: wait for the newest.
    let pending: Promise<void>;
    do {
      pending = this.subscribed;
      await pending;
    } while (pending !== this.subscribed);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    this.reconnectListeners.clear();
    // QUIT goes after pending PUBLISHes on the same connection: they are flushed first.
    await Promise.all([closeRedis(this.pub), closeRedis(this.sub)]);
  }

  /** Fire and forget: the store is the log, so a failed PUBLISH is logged (once per outage) and dropped. */
  private publishRaw(channel: string, message: string): void {
    if (this.closed) return;
    this.pub.publish(channel, message).catch((error: unknown) => {
      if (this.dropping || this.closed) return;
      this.dropping = true;
      this.logger?.warn({ err: error }, "redis publish failed; readers catch up from the store");
    });
  }

  private listen<T>(name: string, events: boolean, listener: (payload: T) => void): () => void {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { events, listeners: new Set() };
      this.channels.set(name, channel);
      if (!this.closed) this.subscribed = this.changeSubscription("subscribe", [name]);
    }
    const listeners = channel.listeners as Set<(payload: T) => void>;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size > 0 || this.channels.get(name) !== channel) return;
      this.channels.delete(name);
      if (!this.closed) void this.changeSubscription("unsubscribe", [name]);
    };
  }

  private changeSubscription(command: "subscribe" | "unsubscribe", channels: string[]): Promise<void> {
    if (channels.length === 0) return Promise.resolve();
    return this.sub[command](...channels).then(
      () => undefined,
      (error: unknown) => {
        if (!this.closed) this.logger?.warn({ err: error, command }, "redis subscription change failed");
      },
    );
  }

  private dispatch(name: string, message: string): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    let payload: unknown = message;
    if (channel.events) {
      try {
        payload = JSON.parse(message);
      } catch (error) {
        this.logger?.warn({ err: error, channel: name }, "unparseable bus message dropped");
        return;
      }
    }
    // A throwing listener must not starve the others, nor unwind into
    // ioredis' reply parser.
    for (const listener of [...channel.listeners] as Array<(payload: unknown) => void>) {
      try {
        listener(payload);
      } catch (error) {
        this.logger?.error({ err: error, channel: name }, "bus listener threw");
      }
    }
  }

  private reconnected(): void {
    if (this.closed) return;
    for (const listener of [...this.reconnectListeners]) {
      try {
        listener();
      } catch (error) {
        this.logger?.error({ err: error }, "onReconnect listener threw");
      }
    }
  }
}
