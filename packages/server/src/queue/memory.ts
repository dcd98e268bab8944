import type { RunQueue } from "./types.js";

export class MemoryRunQueue implements RunQueue {
  private readonly waiting: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private handler: ((runId: string) => Promise<void>) | undefined;
  private concurrency = 1;
  private closed = false;
  /** No new deliveries (shutdown begun); enqueued runs wait in the store for the next start. */
  private taking = true;
  private closing: Promise<void> | undefined;

  get depth(): number {
    return this.waiting.length;
  }

  enqueue(runId: string): void {
    if (this.closed) return;
    this.waiting.push(runId);
    this.drain();
  }

  process(handler: (runId: string) => Promise<void>, options: { concurrency: number }): void {
    this.handler = handler;
    this.concurrency = Math.max(1, options.concurrency);
    this.drain();
  }

  /** One process: a crash loses the queue with the runs, and recovery re-enqueues from the store. */
  ack(_runId: string): void {}

  async requeueFrom(_workerId: string): Promise<number> {
    return 0;
  }

  async stopTaking(): Promise<void> {
    this.taking = false;
  }

  private drain(): void {
    const handler = this.handler;
    if (!handler) return;
    while (!this.closed && this.taking && this.inFlight.size < this.concurrency && this.waiting.length > 0) {
      const runId = this.waiting.shift()!;
      // The handler owns its errors (it ends the run with a terminal event);
      // the catch only keeps a bug there from stalling the queue.
      // Called synchronously, as it always was: a handler starts in the
      // same turn its run was enqueued.
      const running: Promise<void> = call(handler, runId)
        .catch(() => undefined)
        .finally(() => {
          this.inFlight.delete(running);
          this.drain();
        });
      this.inFlight.add(running);
    }
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? 30_000);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
  }
}

function call(handler: (runId: string) => Promise<void>, runId: string): Promise<void> {
  try {
    return handler(runId);
  } catch (error) {
    return Promise.reject(error);
  }
}
