import fc from "fast-check";
import { expect } from "vitest";
import { makeEvent, makeRun } from "./contract-fixtures.js";
import type { CommitBatch, Store } from "../../../src/store/types.js";

/**
 * Any interleaving of several runs' events, cut into batches at random
 * points (as the group committer does), reads back per run as 1..n with no
 * gap, in order, whatever the page size, and `lastSeq` matches.
 */
export async function eventLogProperty(store: Store, workspaceId: string): Promise<void> {
  const scenario = fc.record({
    runCount: fc.integer({ min: 1, max: 4 }),
    // Which run emits each successive event (taken modulo runCount).
    order: fc.array(fc.nat(), { maxLength: 120 }),
    // Whether a batch ends after each event.
    cuts: fc.array(fc.boolean(), { maxLength: 120 }),
    pageSize: fc.integer({ min: 1, max: 40 }),
  });

  await fc.assert(
    fc.asyncProperty(scenario, async ({ runCount, order, cuts, pageSize }) => {
      const runs = Array.from({ length: runCount }, () => makeRun(workspaceId));
      for (const run of runs) await store.insertRun(run);
      const seqs = runs.map(() => 0);

      let batch: CommitBatch = { events: [], runs: [], sessions: [] };
      const flush = async () => {
        const touched = new Set(batch.events.map((event) => event.runId));
        batch.runs = runs.flatMap((run, index) => (touched.has(run.id) ? [{ runId: run.id, patch: { lastSeq: seqs[index]! } }] : []));
        await store.commit(batch);
        batch = { events: [], runs: [], sessions: [] };
      };
      for (const [position, pick] of order.entries()) {
        const index = pick % runCount;
        seqs[index]! += 1;
        batch.events.push(makeEvent(runs[index]!.id, seqs[index]!));
        if (cuts[position] === true) await flush();
      }
      await flush();

      for (const [index, run] of runs.entries()) {
        const read: number[] = [];
        for (let page = await store.readEvents(run.id, 0, pageSize); page.length > 0; page = await store.readEvents(run.id, read.at(-1)!, pageSize)) {
          expect(page.every((event) => event.runId === run.id)).toBe(true);
          read.push(...page.map((event) => event.seq));
        }
        expect(read).toEqual(Array.from({ length: seqs[index]! }, (_, i) => i + 1));
        expect((await store.getRun(workspaceId, run.id))?.lastSeq).toBe(seqs[index]);
      }
    }),
    { numRuns: 60 },
  );
}
