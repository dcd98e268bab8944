import { describe, expect, it } from "vitest";
import { MemoryEventBus } from "../../src/bus/memory.js";
import { AgentdError } from "../../src/errors.js";
import { EventLog } from "../../src/events/log.js";
import type { CommitBatch, CommitResult, Store } from "../../src/store/types.js";

/*
 * The group commit when the store refuses or loses a batch (found by the
 * soak, issue #4): what was queued behind the failed batch for the same runs
 * must not land after it (a hole in the log), and the error every request of
 * the batch gets must not describe the other runs in it.
 */

type Answer = (batch: CommitBatch) => Promise<CommitResult | void>;

function fakeStore(answers: Answer[]) {
  const commits: CommitBatch[] = [];
  const store = {
    commit: (batch: CommitBatch) => {
      commits.push(batch);
      const answer = answers.shift() ?? (async () => ({ fenced: [] }));
      return answer(batch);
    },
  } as unknown as Store;
  return { store, commits };
}

const event = (seq: number) => ({ seq, at: "2026-11-23T00:00:00.000Z", type: "assistant_delta", text: `d${seq}` }) as never;
const seqsOf = (batch: CommitBatch, runId: string) => batch.events.filter((e) => e.runId === runId).map((e) => e.seq);

describe("EventLog after a failed or refused commit", () => {
  it("a failed batch revokes its runs: what they queued behind it is dropped, and the error names no run", async () => {
    let fail!: (error: unknown) => void;
    const { store, commits } = fakeStore([() => new Promise((_, reject) => (fail = reject))]);
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    const failedRuns: string[][] = [];
    log.onCommitFailed = (runIds) => failedRuns.push(runIds);

    log.append("run_a", event(1));
    log.append("run_other", event(1));
    const first = log.flush();
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is at the store
    expect(commits).toHaveLength(1);
    log.append("run_a", event(2)); // queued behind it
    log.append("run_b", event(1)); // another run, not in the failed batch
    // An outage: every run of the batch fails (no per-run retry against a store that is away).
    fail(new AgentdError("unavailable", "the database is unavailable: ECONNRESET"));
    const error = await first.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AgentdError);
    expect(error).toMatchObject({ code: "unavailable" });
    expect((error as Error).message).not.toMatch(/run_/);
    expect(failedRuns).toEqual([["run_a", "run_other"]]);

    log.append("run_a", event(3)); // a revoked run's late write
    await log.flush();
    expect(commits).toHaveLength(2);
    expect(seqsOf(commits[1]!, "run_a")).toEqual([]);
    expect(seqsOf(commits[1]!, "run_b")).toEqual([1]);
    expect(commits[1]!.runs.map((entry) => entry.runId)).toEqual(["run_b"]);

    // Taken back from the store: its writes count again.
    log.readmit("run_a");
    log.append("run_a", event(2));
    await log.flush();
    expect(seqsOf(commits[2]!, "run_a")).toEqual([2]);
  });

  it("a run the store fenced out writes nothing more until it is claimed again", async () => {
    const { store, commits } = fakeStore([async () => ({ fenced: ["run_a"] })]);
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    const fenced: string[][] = [];
    log.onFenced = (runIds) => fenced.push(runIds);
    log.fence("run_a", "w1", 3);
    log.append("run_a", event(5));
    const first = log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    log.append("run_a", event(6)); // queued behind the refused batch
    log.patchRun("run_a", { status: "running" });
    await first;
    expect(fenced).toEqual([["run_a"]]);
    expect(commits[0]!.fences).toEqual([{ runId: "run_a", workerId: "w1", epoch: 3 }]);
    log.append("run_a", event(7));
    await log.flush();
    expect(commits.slice(1).flatMap((batch) => seqsOf(batch, "run_a"))).toEqual([]);

    log.fence("run_a", "w1", 4); // claimed again, with a new epoch
    log.append("run_a", event(5));
    await log.flush();
    const last = commits.at(-1)!;
    expect(seqsOf(last, "run_a")).toEqual([5]);
    expect(last.fences).toEqual([{ runId: "run_a", workerId: "w1", epoch: 4 }]);
  });

  it("a run claimed again after a failed batch: its next flush reports its new writes, not the old failure", async () => {
    // Found by the PostgreSQL restart test: the batch of an answer committed, yet
    // the answer's request got 503 from the failure of a batch seconds older, and
    // the run, left waiting for an execution that never came, hung.
    const { store, commits } = fakeStore([async () => Promise.reject(new AgentdError("unavailable", "the database is unavailable: connection lost"))]);
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    log.fence("run_a", "w1", 2);
    log.append("run_a", event(11));
    await expect(log.flush("run_a")).rejects.toMatchObject({ code: "unavailable" });
    await expect(log.flush()).resolves.toBeUndefined(); // nothing queued since

    log.fence("run_a", "w1", 3); // claimed again, the store back
    log.append("run_a", event(11));
    await expect(log.flush("run_a")).resolves.toBeUndefined();
    expect(seqsOf(commits.at(-1)!, "run_a")).toEqual([11]);
  });

  it("a flush of a run whose writes are being dropped (revoked, not claimed again) rejects", async () => {
    const { store } = fakeStore([async () => Promise.reject(new AgentdError("unavailable", "the database is unavailable: ECONNRESET"))]);
    const log = new EventLog(store, new MemoryEventBus(), () => undefined);
    log.append("run_a", event(1));
    await expect(log.flush("run_a")).rejects.toMatchObject({ code: "unavailable" });
    log.append("run_a", event(2)); // dropped: this copy of the run is ahead of the store
    await expect(log.flush("run_a")).rejects.toMatchObject({ code: "unavailable" });
  });
});
