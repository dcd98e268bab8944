/**
 * Dispatch of runs to workers. Embedded: an in-process queue with a
 * concurrency limit; scale-out: a shared queue every worker pulls from.
 *
 * Delivery is at least once: a run id can come back after a crash, a
 * requeue or a duplicate enqueue, so the handler must be idempotent (claim
 * the run's lease in the store first, skip it if that fails or the run has
 * ended). The store, not the queue, says whether a run still needs a worker.
 */
export interface RunQueue {
  /** Fire and forget: never throws; backend errors are logged and retried. */
  enqueue(runId: string): void;
  /**
   * Starts delivering runs to the handler, at most `concurrency` at once. A
   * delivery ends (is acknowledged) when the handler's promise settles,
   * fulfilled or rejected: the handler owns its errors, and redelivering a
   * run whose handler throws would loop on it.
   */
  process(handler: (runId: string) => Promise<void>, options: { concurrency: number }): void;
  /**
   * Acknowledges a delivery of `runId` before its handler settles, for a
   * handler that has made the run safe elsewhere (e.g. claimed its lease):
   * a crash after this no longer requeues it. The slot stays taken until the
   * handler settles. Idempotent; a no-op in-process.
   */
  ack(runId: string): void;
  /**
   * Puts back on the queue the runs a dead worker had taken and not
   * acknowledged; resolves to how many. In-process: nothing to do (0).
   */
  requeueFrom(workerId: string): Promise<number>;
  /**
   * Stops taking new runs (a shutdown begins) while enqueue and
   * acknowledgements keep working: runs this worker hands back can still be
   * queued for the others. Taken-but-unstarted deliveries go back on the
   * queue. Idempotent; close() implies it.
   */
  stopTaking(): Promise<void>;
  /** Runs waiting for a slot (scale-out: the shared queue's length, last observed). */
  readonly depth: number;
  /**
   * Stops taking runs and waits for in-flight handlers, at most `timeoutMs`
   * (default 30 s). Runs still in flight after that stay unacknowledged:
   * `requeueFrom(thisWorker)` or this worker's next start puts them back.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}
