import { it, expect } from "vitest";
import { makeRun, nextTimestamp } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";
import type { RunFilter, RunRecord, Store } from "../../../src/store/types.js";

/** Every page of `listRuns`, following the keyset cursor as the HTTP layer does. */
async function allPages(store: Store, workspaceId: string, filter: RunFilter, limit: number): Promise<RunRecord[][]> {
  const pages: RunRecord[][] = [];
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const page = await store.listRuns(workspaceId, filter, { limit, ...(after ? { after } : {}) });
    pages.push(page);
    if (page.length < limit) return pages;
    const last = page.at(-1)!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

const ids = (runs: RunRecord[]) => runs.map((run) => run.id);
/** Newest first: what every listing returns, whatever the insertion order. */
const newestFirst = (runs: RunRecord[]) => ids([...runs].reverse());

/** `listRuns`: filters, metadata AND, keyset paging, ordering ties, tenancy. */
export function listCases(ctx: ContractContext): void {
  it("lists runs newest first, each filter alone and combined, returning whole records", async () => {
    const { store, ws } = ctx;
    const runs = [
      makeRun(ws.id, { status: "completed", agentId: "support", sessionId: "ses_a", metadata: { env: "prod", team: "blue" } }),
      makeRun(ws.id, { status: "paused", agentId: "support", metadata: { env: "prod" } }),
      makeRun(ws.id, { status: "failed", agentId: "billing", sessionId: "ses_a", metadata: { env: "dev", team: "blue" } }),
      makeRun(ws.id, { status: "paused", agentId: null, metadata: {} }),
      makeRun(ws.id, { status: "running", agentId: "support", sessionId: "ses_b", metadata: { env: "prod", team: "red" } }),
    ];
    // Insertion order must not matter: the order comes from createdAt.
    for (const run of [runs[2]!, runs[0]!, runs[4]!, runs[1]!, runs[3]!]) await store.insertRun(run);
    const list = (filter: RunFilter, limit = 100) => store.listRuns(ws.id, filter, { limit });
    const pick = (...indexes: number[]) => newestFirst(indexes.map((index) => runs[index]!));

    expect(await list({})).toEqual([...runs].reverse());
    expect(ids(await list({ statuses: ["paused"] }))).toEqual(pick(1, 3));
    expect(ids(await list({ statuses: ["paused", "completed", "paused"] }))).toEqual(pick(0, 1, 3));
    expect(ids(await list({ agentId: "support" }))).toEqual(pick(0, 1, 4));
    expect(ids(await list({ sessionId: "ses_a" }))).toEqual(pick(0, 2));
    expect(ids(await list({ metadata: { env: "prod" } }))).toEqual(pick(0, 1, 4));
    expect(ids(await list({ createdAfter: runs[1]!.createdAt }))).toEqual(pick(2, 3, 4));
    expect(ids(await list({ createdBefore: runs[3]!.createdAt }))).toEqual(pick(0, 1, 2));
    expect(ids(await list({ createdAfter: runs[0]!.createdAt, createdBefore: runs[4]!.createdAt }))).toEqual(pick(1, 2, 3));

    expect(ids(await list({ statuses: ["paused", "running"], agentId: "support" }))).toEqual(pick(1, 4));
    expect(ids(await list({ agentId: "support", sessionId: "ses_a", metadata: { team: "blue" } }))).toEqual(pick(0));
    expect(ids(await list({ statuses: ["completed", "failed", "running"], metadata: { team: "blue" }, createdAfter: runs[0]!.createdAt }))).toEqual(pick(2));
    expect(ids(await list({ agentId: "support" }, 2))).toEqual(pick(1, 4));

    // Given but matching nothing: an empty list, never "no filter".
    expect(await list({ statuses: [] })).toEqual([]);
    expect(await list({ statuses: ["cancelled"] })).toEqual([]);
    expect(await list({ agentId: "nobody" })).toEqual([]);
    expect(await list({ sessionId: "ses_none" })).toEqual([]);
    expect(await list({ createdAfter: runs[4]!.createdAt })).toEqual([]);
    // No metadata pairs is no constraint.
    expect(ids(await list({ metadata: {} }))).toEqual(pick(0, 1, 2, 3, 4));
  });

  it("combines metadata pairs with AND, matching keys exactly (dots and quotes are part of the key)", async () => {
    const { store, ws } = ctx;
    const both = makeRun(ws.id, { metadata: { customer: "acme", "trace.id": "t-1", plan: "pro" } });
    const customerOnly = makeRun(ws.id, { metadata: { customer: "acme", "trace.id": "t-2" } });
    const nested = makeRun(ws.id, { metadata: { trace: "x", customer: "acme" } });
    const odd = makeRun(ws.id, { metadata: { 'we"ird': "a:b, c", customer: "ACME" } });
    for (const run of [both, customerOnly, nested, odd]) await store.insertRun(run);
    const list = async (metadata: Record<string, string>) => ids(await store.listRuns(ws.id, { metadata }, { limit: 100 }));

    expect(await list({ customer: "acme" })).toEqual(newestFirst([both, customerOnly, nested]));
    expect(await list({ customer: "acme", "trace.id": "t-1" })).toEqual([both.id]);
    expect(await list({ customer: "acme", "trace.id": "t-1", plan: "pro" })).toEqual([both.id]);
    expect(await list({ customer: "acme", plan: "free" })).toEqual([]);
    expect(await list({ "trace.id": "t-2" })).toEqual([customerOnly.id]);
    expect(await list({ missing: "" })).toEqual([]);
    // Values compare exactly: no case folding, no prefix match.
    expect(await list({ customer: "ACME" })).toEqual([odd.id]);
    expect(await list({ customer: "acm" })).toEqual([]);
    expect(await list({ 'we"ird': "a:b, c" })).toEqual([odd.id]);
  });

  it("pages through 25 runs with limit 10: each exactly once, in order, stable while new runs arrive", async () => {
    const { store, ws } = ctx;
    const runs = Array.from({ length: 25 }, (_, index) => makeRun(ws.id, { status: index % 2 === 0 ? "completed" : "failed" }));
    for (const run of runs) await store.insertRun(run);

    const pages = await allPages(store, ws.id, {}, 10);
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat().map((run) => run.id)).toEqual(newestFirst(runs));

    // A run created after the first page was read does not shift the next ones.
    const first = await store.listRuns(ws.id, {}, { limit: 10 });
    await store.insertRun(makeRun(ws.id, { status: "completed" }));
    const last = first.at(-1)!;
    const second = await store.listRuns(ws.id, {}, { limit: 10, after: { createdAt: last.createdAt, id: last.id } });
    expect(ids(second)).toEqual(newestFirst(runs).slice(10, 20));

    // Paging composes with filters (and the bounds are exclusive).
    const inside = runs.filter((run, index) => run.status === "completed" && index > 0 && index < 24);
    const filtered = await allPages(store, ws.id, { statuses: ["completed"], createdAfter: runs[0]!.createdAt, createdBefore: runs[24]!.createdAt }, 4);
    expect(filtered.map((page) => page.length)).toEqual([4, 4, 3]);
    expect(filtered.flat().map((run) => run.id)).toEqual(newestFirst(inside));
  });

  it("breaks createdAt ties by id, descending in byte order, and pages through the tie", async () => {
    const { store, ws } = ctx;
    const createdAt = nextTimestamp();
    // Byte order: "run_B" < "run_a" (uppercase sorts first), unlike most locale collations.
    const tied = ["run_a_tie", "run_B_tie", "run_b_tie", "run_A_tie", "run_0_tie"].map((id) => makeRun(ws.id, { id: `${id}_${createdAt}`, createdAt }));
    for (const run of tied) await store.insertRun(run);
    const expected = tied.map((run) => run.id).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    expect(expected.map((id) => id.slice(0, 6))).toEqual(["run_b_", "run_a_", "run_B_", "run_A_", "run_0_"]);

    expect(ids(await store.listRuns(ws.id, {}, { limit: 10 }))).toEqual(expected);
    const pages = await allPages(store, ws.id, {}, 2);
    expect(pages.flat().map((run) => run.id)).toEqual(expected);
  });

  it("lists only the workspace's own runs", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const mine = makeRun(ws.id, { agentId: "support", sessionId: "ses_shared", metadata: { env: "prod" } });
    const theirs = makeRun(other.id, { agentId: "support", sessionId: "ses_shared", metadata: { env: "prod" } });
    await store.insertRun(mine);
    await store.insertRun(theirs);

    for (const filter of [{}, { agentId: "support" }, { sessionId: "ses_shared" }, { metadata: { env: "prod" } }, { statuses: [mine.status] }] satisfies RunFilter[]) {
      expect(ids(await store.listRuns(ws.id, filter, { limit: 10 }))).toEqual([mine.id]);
      expect(ids(await store.listRuns(other.id, filter, { limit: 10 }))).toEqual([theirs.id]);
    }
    // A cursor taken in one workspace reveals nothing of another.
    expect(await store.listRuns(other.id, {}, { limit: 10, after: { createdAt: mine.createdAt, id: mine.id } })).toEqual([]);
    expect(await store.listRuns("ws_missing", {}, { limit: 10 })).toEqual([]);
  });
}
