/**
 * Dispatch of runs to workers. Embedded: an in-process queue with a
 * concurrency limit; scale-out: a shared queue every worker pulls from.
 */
export interface RunQueue {
  enqueue(runId: string): void;
  /** Starts delivering runs to the handler, at most `concurrency` at once. */
  process(handler: (runId: string) => Promise<void>, options: { concurrency: number }): void;
  /** Runs waiting for a slot. */
  readonly depth: number;
  close(): Promise<void>;
}
