import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunQueue } from "../../src/queue/types.js";
import { sleep, waitFor } from "../bus/redis-env.js";

/** A fresh, empty backend per test; `worker()` is one more process on it. */
export interface QueueBackend {
  worker(): RunQueue;
  cleanup(): Promise<void>;
  /** Workers share one queue (a run enqueued by one can be taken by another). */
  shared?: boolean;
}

/** A promise to resolve from outside: a handler that runs until the test lets it finish. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The one RunQueue contract, run against every implementation. */
export function queueContract(name: string, open: () => Promise<QueueBackend>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip ?? false)(`RunQueue contract: ${name}`, () => {
    let backend: QueueBackend;
    let queues: RunQueue[];
    const worker = () => {
      const queue = backend.worker();
      queues.push(queue);
      return queue;
    };

    beforeEach(async () => {
      backend = await open();
      queues = [];
    });
    afterEach(async () => {
      await Promise.all(queues.map((q) => q.close({ timeoutMs: 1_000 })));
      await backend.cleanup();
    });

    it("hands runs out in FIFO order, queued before and after process()", async () => {
      const queue = worker();
      const handled: string[] = [];
      for (let i = 0; i < 10; i++) queue.enqueue(`run_${i}`);
      queue.process(async (runId) => void handled.push(runId), { concurrency: 1 });
      for (let i = 10; i < 20; i++) queue.enqueue(`run_${i}`);
      await waitFor(() => handled.length === 20, 5_000, "20 runs");
      expect(handled).toEqual(Array.from({ length: 20 }, (_, i) => `run_${i}`));
    });

    it("never runs more than `concurrency` handlers at once", async () => {
      const queue = worker();
      let active = 0;
      let peak = 0;
      const gates: Array<() => void> = [];
      const done: string[] = [];
      queue.process(
        async (runId) => {
          active++;
          peak = Math.max(peak, active);
          const g = gate();
          gates.push(g.open);
          await g.promise;
          active--;
          done.push(runId);
        },
        { concurrency: 3 },
      );
      for (let i = 0; i < 10; i++) queue.enqueue(`run_${i}`);
      await waitFor(() => active === 3, 5_000, "3 handlers");
      await sleep(100); // room for a 4th, which must not come
      expect(active).toBe(3);
      // Let them finish one by one: each free slot takes the next run.
      for (let i = 0; i < 10; i++) {
        await waitFor(() => gates.length > 0, 5_000, "a handler");
        gates.shift()!();
      }
      await waitFor(() => done.length === 10);
      expect(peak).toBe(3);
      expect([...done].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `run_${i}`).sort());
    });

    it("keeps going after a handler rejects or throws", async () => {
      const queue = worker();
      const handled: string[] = [];
      queue.process(
        (runId) => {
          handled.push(runId);
          if (runId === "run_throws") throw new Error("sync bug");
          if (runId === "run_rejects") return Promise.reject(new Error("async bug"));
          return Promise.resolve();
        },
        { concurrency: 1 },
      );
      queue.enqueue("run_throws");
      queue.enqueue("run_rejects");
      queue.enqueue("run_ok");
      await waitFor(() => handled.length === 3, 5_000, "3 runs");
      expect(handled).toEqual(["run_throws", "run_rejects", "run_ok"]);
    });

    it("ack() is idempotent and harmless; requeueFrom() an unknown worker moves nothing", async () => {
      const queue = worker();
      const handled: string[] = [];
      queue.process(
        async (runId) => {
          queue.ack(runId);
          queue.ack(runId);
          handled.push(runId);
        },
        { concurrency: 2 },
      );
      queue.ack("run_never_taken");
      queue.enqueue("run_1");
      queue.enqueue("run_2");
      await waitFor(() => handled.length === 2);
      expect(await queue.requeueFrom("no-such-worker")).toBe(0);
      expect(queue.depth).toBeGreaterThanOrEqual(0);
    });

    it("close() stops taking runs and waits for the ones in flight", async () => {
      const queue = worker();
      const g = gate();
      const started: string[] = [];
      let finished = false;
      queue.process(
        async (runId) => {
          started.push(runId);
          await g.promise;
          finished = true;
        },
        { concurrency: 1 },
      );
      queue.enqueue("run_1");
      await waitFor(() => started.length === 1);
      let closed = false;
      const closing = queue.close().then(() => (closed = true));
      await sleep(100);
      expect(closed).toBe(false);
      g.open();
      await closing;
      expect(finished).toBe(true);
      expect(() => queue.enqueue("run_2")).not.toThrow();
      await sleep(50);
      expect(started).toEqual(["run_1"]);
    });

    it("stopTaking() ends deliveries here while in-flight handlers finish and enqueues still reach other workers", async () => {
      const queue = worker();
      const g = gate();
      const started: string[] = [];
      let finished = false;
      queue.process(
        async (runId) => {
          started.push(runId);
          await g.promise;
          finished = true;
        },
        { concurrency: 4 },
      );
      queue.enqueue("run_1");
      await waitFor(() => started.length === 1);
      await queue.stopTaking();
      await queue.stopTaking(); // idempotent
      queue.enqueue("run_2");
      await sleep(100);
      expect(started).toEqual(["run_1"]);
      g.open();
      await waitFor(() => finished);
      if (backend.shared) {
        // Another worker gets what was enqueued after this one stopped taking.
        const other = worker();
        const taken: string[] = [];
        other.process(async (runId) => void taken.push(runId), { concurrency: 1 });
        await waitFor(() => taken.length === 1, 5_000, "run_2 on the other worker");
        expect(taken).toEqual(["run_2"]);
      }
    });

    it("close({ timeoutMs }) gives up on a handler that does not finish", async () => {
      const queue = worker();
      let started = false;
      queue.process(
        () => {
          started = true;
          return new Promise<void>(() => undefined);
        },
        { concurrency: 1 },
      );
      queue.enqueue("run_stuck");
      await waitFor(() => started);
      const begin = Date.now();
      await queue.close({ timeoutMs: 200 });
      expect(Date.now() - begin).toBeLessThan(2_000);
    });
  });
}
