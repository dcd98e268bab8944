import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { closeRedis, connectRedis, settlesWithin, whenReady } from "../bus/redis-connection.js";
import type { Logger } from "../logger.js";
import { REQUEUE_SCRIPT, call, delay, failOnClose, interrupt } from "./redis-helpers.js";
import type { RunQueue } from "./types.js";

export interface RedisRunQueueOptions {
  url: string;
  /** Prepended to every key, so several deployments can share one Redis. */
  prefix?: string;
  /**
   * Names this worker's processing list. Give the same id across restarts
   * (the engine's lease worker id) so a restarted worker requeues what it
   * held when it died; never share one between live workers.
   */
  workerId?: string;
  /** How long one BLMOVE blocks before it is re-issued. An arriving item ends the block at once. */
  blockSeconds?: number;
  logger?: Logger;
}

interface Delivery {
  runId: string;
  acked: boolean;
}

/**
 * The scale-out queue: the reliable-queue pattern on Redis lists
 * (docs/scale-out.md). Producers LPUSH to `<prefix>queue`; a worker with a
 * free slot BLMOVEs the oldest item to `<prefix>processing:<workerId>` and
 * LREMs it when the handler settles, so an item taken by a worker that dies
 * stays in that worker's list until `requeueFrom` (or its restart) puts it back.
 */
export class RedisRunQueue implements RunQueue {
  readonly workerId: string;
  private readonly prefix: string;
  private readonly queueKey: string;
  private readonly processingKey: string;
  private readonly logger: Logger | undefined;
  private readonly cmd: Redis;
  private block: Redis | undefined;
  private blockId: number | undefined;
  private loop: Promise<void> | undefined;
  private handler: ((runId: string) => Promise<void>) | undefined;
  private concurrency = 1;
  private running = 0;
  private slotFreed: (() => void) | undefined;
  /** Deliveries still in our processing list: taken, LREM not yet confirmed. */
  private readonly held: Delivery[] = [];
  private readonly handlers = new Set<Promise<void>>();
  /** Enqueues and acks being written (retried until they succeed or the queue ends). */
  private readonly writes = new Set<Promise<void>>();
  private lastDepth = 0;
  private depthAt = 0;
  private closed = false;
  /** False once stopTaking() began: the worker loop ends, writes go on. */
  private taking = true;
  private stopping: Promise<void> | undefined;
  private ended = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RedisRunQueueOptions) {
    this.prefix = options.prefix ?? "agentd:";
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    this.queueKey = `${this.prefix}queue`;
    this.processingKey = `${this.prefix}processing:${this.workerId}`;
    this.logger = options.logger;
    // Commands wait out an outage in ioredis' offline queue instead of failing.
    // Auto-pipelined: enqueues and acks made in one turn of the event loop leave in one write.
    this.cmd = connectRedis(options.url, `${this.prefix}queue:${this.workerId}`, this.logger, {
      maxRetriesPerRequest: null,
      enableAutoPipelining: true,
    });
  }

  get depth(): number {
    // A getter cannot wait: report the last length seen, refreshed at most once a second.
    if (!this.closed && this.cmd.status === "ready" && Date.now() - this.depthAt > 1_000) {
      this.depthAt = Date.now();
      this.cmd.llen(this.queueKey).then(
        (n) => (this.lastDepth = n),
        () => undefined,
      );
    }
    return this.lastDepth;
  }

  enqueue(runId: string): void {
    if (!this.closed) void this.write("enqueue", runId, () => this.cmd.lpush(this.queueKey, runId));
  }

  process(handler: (runId: string) => Promise<void>, options: { concurrency: number }): void {
    if (this.handler) throw new Error("RedisRunQueue.process() was already called");
    if (this.closed) return;
    this.handler = handler;
    this.concurrency = Math.max(1, options.concurrency);
    // Its own connection: a blocked connection can send nothing else. No
    // offline queue and no resend: after a disconnect the loop decides what
    // to send (see take()).
    const block = connectRedis(this.options.url, `${this.prefix}block:${this.workerId}`, this.logger, {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
    });
    block.on("close", () => (this.blockId = undefined));
    this.block = block;
    this.loop = this.take(block);
  }

  ack(runId: string): void {
    const delivery = this.held.find((d) => d.runId === runId && !d.acked);
    if (delivery) this.acknowledge(delivery);
  }

  requeueFrom(workerId: string): Promise<number> {
    // Our own list: what is in flight here stays.
    const keep = workerId === this.workerId ? this.held.map((d) => d.runId) : [];
    return this.requeue(`${this.prefix}processing:${workerId}`, keep);
  }

  stopTaking(): Promise<void> {
    this.stopping ??= this.endLoop(5_000);
    return this.stopping;
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? 30_000);
    return this.closing;
  }

  /** The worker loop: one BLMOVE at a time, only while a slot is free. */
  private async take(block: Redis): Promise<void> {
    // What our list holds at start was taken by a previous life of this worker.
    let orphans = true;
    let failures = 0;
    while (!this.closed && this.taking) {
      if (this.running >= this.concurrency) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      try {
        await whenReady(block);
        if (orphans)
          await this.requeue(
            this.processingKey,
            this.held.map((d) => d.runId),
          );
        orphans = false;
        // Its id lets close() end the block with CLIENT UNBLOCK (no item moved) instead of a disconnect.
        this.blockId ??= await block.client("ID");
        if (this.closed || !this.taking) break;
        const runId = await failOnClose(
          block,
          block.blmove(this.queueKey, this.processingKey, "RIGHT", "LEFT", this.options.blockSeconds ?? 5),
        );
        failures = 0;
        // Taken as close() began: left in our list, which close() requeues.
        if (runId !== null && !this.closed && this.taking) this.start(runId);
      } catch (error) {
        if (this.closed || !this.taking) break;
        // The connection dropped under a BLMOVE: Redis may have moved an item
        // whose reply is lost. Requeue such orphans before blocking again.
        orphans = true;
        if (failures === 0) this.logger?.warn({ err: error, workerId: this.workerId }, "redis queue worker interrupted, retrying");
        await delay(Math.min(100 * 2 ** failures++, 5_000));
      }
    }
  }

  private start(runId: string): void {
    const delivery: Delivery = { runId, acked: false };
    this.held.push(delivery);
    this.running++;
    const handled: Promise<void> = call(this.handler!, runId)
      .catch((error: unknown) => this.logger?.error({ err: error, runId }, "run queue handler failed"))
      .finally(() => {
        this.running--;
        this.handlers.delete(handled);
        this.acknowledge(delivery);
        this.slotFreed?.();
        this.slotFreed = undefined;
      });
    this.handlers.add(handled);
  }

  private acknowledge(delivery: Delivery): void {
    if (delivery.acked) return;
    delivery.acked = true;
    void this.write("ack", delivery.runId, () => this.cmd.lrem(this.processingKey, 1, delivery.runId)).finally(() => {
      const index = this.held.indexOf(delivery);
      if (index >= 0) this.held.splice(index, 1);
    });
  }

  private async requeue(processingKey: string, keep: string[]): Promise<number> {
    const moved = Number(await this.cmd.eval(REQUEUE_SCRIPT, 2, processingKey, this.queueKey, ...keep));
    if (moved > 0) this.logger?.info({ from: processingKey, runs: moved }, "requeued unacknowledged runs");
    return moved;
  }

  /** A write that must not be lost: retried with backoff until it succeeds or the queue has ended. */
  private write(what: string, runId: string, op: () => Promise<unknown>): Promise<void> {
    const task = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await op();
          return;
        } catch (error) {
          if (this.ended) return this.logger?.error({ err: error, runId }, `redis ${what} dropped: queue closed`);
          if (attempt === 0) this.logger?.warn({ err: error, runId }, `redis ${what} failed, retrying`);
          await delay(Math.min(100 * 2 ** attempt, 5_000));
        }
      }
    })();
    this.writes.add(task);
    return task.finally(() => this.writes.delete(task));
  }

  /** Ends the worker loop and requeues what its last BLMOVE took as it stopped. */
  private async endLoop(timeoutMs: number): Promise<void> {
    this.taking = false;
    this.slotFreed?.();
    if (!this.loop || !this.block) return;
    await interrupt(this.cmd, this.block, this.loop, () => this.blockId);
    // An item the last BLMOVE took as we stopped was never started. (With
    // Redis down nothing was taken since it went away; a restart requeues.)
    if (this.cmd.status === "ready")
      await settlesWithin(
        this.requeue(
          this.processingKey,
          this.held.map((d) => d.runId),
        ),
        timeoutMs,
      );
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    this.closed = true;
    await this.stopTaking();
    await settlesWithin(Promise.allSettled([...this.handlers]), left());
    // Writes waiting for a Redis that is gone cannot finish: the runs stay
    // `queued` in the store, where the engine's sweep finds them.
    await settlesWithin(Promise.allSettled([...this.writes]), this.cmd.status === "ready" ? left() : 0);
    this.ended = true;
    await Promise.all([closeRedis(this.cmd), this.block ? closeRedis(this.block) : undefined]);
  }
}
