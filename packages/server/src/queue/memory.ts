import type { RunQueue } from "./types.js";

export class MemoryRunQueue implements RunQueue {
  private readonly waiting: string[] = [];
  private handler: ((runId: string) => Promise<void>) | undefined;
  private concurrency = 1;
  private running = 0;
  private closed = false;

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

  private drain(): void {
    const handler = this.handler;
    if (!handler) return;
    while (!this.closed && this.running < this.concurrency && this.waiting.length > 0) {
      const runId = this.waiting.shift()!;
      this.running++;
      // The handler owns its errors (it ends the run with a terminal event);
      // the catch only keeps a bug there from stalling the queue.
      handler(runId)
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.drain();
        });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
  }
}
