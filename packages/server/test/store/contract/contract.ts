import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activeRunCases } from "./contract-active-runs.js";
import { agentCases } from "./contract-agents.js";
import { cancelCases } from "./contract-cancel.js";
import { cancelRequestCases } from "./contract-cancel-requests.js";
import { makeRun, rejectsWith } from "./contract-fixtures.js";
import { listCases } from "./contract-list.js";
import { logCases } from "./contract-log.js";
import { fencingCases } from "./contract-fencing.js";
import { idempotencyCases } from "./contract-idempotency.js";
import { keyCases } from "./contract-keys.js";
import { leaseCases } from "./contract-leases.js";
import { eventLogProperty } from "./contract-property.js";
import { retentionCases } from "./contract-retention.js";
import { sessionCases } from "./contract-sessions.js";
import { traceCases } from "./contract-traces.js";
import { usageCases } from "./contract-usage.js";
import { wakeCases } from "./contract-wake.js";
import type { Store, WorkspaceRecord } from "../../../src/store/types.js";

/** What each case gets: a fresh, empty store with one workspace (`acme`). */
export interface ContractContext {
  store: Store;
  ws: WorkspaceRecord;
}

export interface ContractOptions {
  /**
   * Opens the store last made by `makeStore` again, after the case closed it
   * (a durable store: a file, a database). Without it, the cases about
   * surviving a restart are skipped.
   */
  reopen?: () => Promise<Store>;
}

/**
 * The behaviour every Store implementation must have (SQLite,
 * PostgreSQL). `makeStore` returns a fresh, empty store; it is closed
 * after each case.
 */
export function storeContract(name: string, makeStore: () => Promise<Store>, options: ContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    const ctx = {} as ContractContext;
    beforeEach(async () => {
      ctx.store = await makeStore();
      ctx.ws = await ctx.store.ensureWorkspace("acme");
    });
    afterEach(async () => {
      await ctx.store.close();
    });

    it("ensureWorkspace is idempotent and slugs are distinct", async () => {
      const { store, ws } = ctx;
      expect(ws.id).toMatch(/^ws_[A-Za-z0-9]+$/);
      expect(await store.ensureWorkspace("acme")).toEqual(ws);
      expect(await store.getWorkspaceBySlug("acme")).toEqual(ws);
      const other = await store.ensureWorkspace("globex");
      expect(other.id).not.toBe(ws.id);
      expect(await store.getWorkspaceBySlug("nope")).toBeUndefined();
    });

    it("finds api keys by hash with their workspace, never revoked ones", async () => {
      const { store, ws } = ctx;
      const key = {
        id: "key_1",
        workspaceId: ws.id,
        name: "ci",
        displayPrefix: "agd_AbC1",
        hash: "a".repeat(64),
        scopes: ["*"],
        agents: ["a1"],
        expiresAt: null,
        limits: {},
        createdAt: "2025-01-01T00:00:00.000Z",
        lastUsedAt: null,
        revokedAt: null,
      };
      await store.insertApiKey(key);
      await store.insertApiKey({ ...key, id: "key_2", hash: "b".repeat(64), revokedAt: "2025-01-02T00:00:00.000Z" });
      expect(await store.findApiKeyByHash(key.hash)).toEqual({ key, workspace: ws });
      expect(await store.findApiKeyByHash("b".repeat(64))).toBeUndefined();
      expect(await store.findApiKeyByHash("c".repeat(64))).toBeUndefined();
      expect(await store.countApiKeys()).toBe(2);
      await rejectsWith(store.insertApiKey({ ...key, id: "key_3" }), "conflict");
    });

    it("returns a run only to its own workspace", async () => {
      const { store, ws } = ctx;
      const run = makeRun(ws.id);
      await store.insertRun(run);
      expect(await store.getRun(ws.id, run.id)).toEqual(run);
      const other = await store.ensureWorkspace("globex");
      expect(await store.getRun(other.id, run.id)).toBeUndefined();
      expect(await store.getRun(ws.id, "run_missing")).toBeUndefined();
      await rejectsWith(store.insertRun(run), "conflict");
    });

    it("lists runs by status, oldest first", async () => {
      const { store, ws } = ctx;
      const runs = [
        makeRun(ws.id, { status: "running" }),
        makeRun(ws.id, { status: "completed" }),
        makeRun(ws.id, { status: "paused" }),
        makeRun(ws.id, { status: "running" }),
      ];
      for (const run of [...runs].reverse()) await store.insertRun(run);
      expect((await store.listRunsByStatus(["running", "paused"])).map((run) => run.id)).toEqual([runs[0]!.id, runs[2]!.id, runs[3]!.id]);
      expect(await store.listRunsByStatus(["completed"])).toEqual([runs[1]]);
      expect(await store.listRunsByStatus([])).toEqual([]);
      expect(await store.listRunsByStatus(["failed"])).toEqual([]);
    });

    it("keeps every run's log gapless and ordered across any batching (property)", async () => {
      const { store, ws } = ctx;
      await eventLogProperty(store, ws.id);
    });

    keyCases(ctx);
    activeRunCases(ctx);
    logCases(ctx);
    listCases(ctx);
    sessionCases(ctx);
    leaseCases(ctx, options);
    fencingCases(ctx);
    cancelCases(ctx);
    cancelRequestCases(ctx);
    wakeCases(ctx);
    traceCases(ctx);
    usageCases(ctx);
    agentCases(ctx);
    retentionCases(ctx);
    idempotencyCases(ctx, options);
  });
}
