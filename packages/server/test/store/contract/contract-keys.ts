import { expect, it } from "vitest";
import type { ApiKeyRecord } from "../../../src/store/types.js";
import { nextTimestamp, uniqueId } from "./contract-fixtures.js";
import type { ContractContext } from "./contract.js";

/*
 * API keys as operators see them (issue #8): listed with their workspace,
 * revoked ones included, and revoked once, for good.
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function makeKey(workspaceId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = uniqueId("key");
  return {
    id,
    workspaceId,
    name: `name of ${id}`,
    displayPrefix: "agd_AbC1",
    hash: `${id}_`.padEnd(64, "0"),
    scopes: ["runs:read"],
    agents: [],
    expiresAt: null,
    limits: {},
    createdAt: nextTimestamp(),
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  };
}

export function keyCases(ctx: ContractContext): void {
  it("lists keys newest first with their workspace's slug, revoked ones included, of one workspace or all", async () => {
    const { store, ws } = ctx;
    const other = await store.ensureWorkspace("globex");
    const oldest = makeKey(ws.id);
    const revoked = makeKey(other.id, { revokedAt: "2025-06-01T00:00:00.000Z" });
    // Same instant: the larger id in byte order comes first ("a" > "Z" > "0").
    const newest = makeKey(ws.id, { id: "key_0_twin" });
    const twinA = makeKey(ws.id, { id: "key_Z_twin", createdAt: newest.createdAt });
    const twinB = makeKey(ws.id, { id: "key_a_twin", createdAt: newest.createdAt });
    for (const key of [newest, oldest, twinA, revoked, twinB]) await store.insertApiKey(key);

    const listed = await store.listApiKeys();
    const acme = (key: ApiKeyRecord) => ({ ...key, workspaceSlug: "acme" });
    expect(listed).toEqual([acme(twinB), acme(twinA), acme(newest), { ...revoked, workspaceSlug: "globex" }, acme(oldest)]);
    expect(await store.listApiKeys(other.id)).toEqual([{ ...revoked, workspaceSlug: "globex" }]);
    expect(await store.listApiKeys(ws.id)).toEqual([acme(twinB), acme(twinA), acme(newest), acme(oldest)]);
    expect(await store.listApiKeys("ws_missing")).toEqual([]);
  });

  it("revokes a key once: it is found by hash no more, listed with the first revocation's instant", async () => {
    const { store, ws } = ctx;
    const key = makeKey(ws.id);
    const kept = makeKey(ws.id);
    await store.insertApiKey(key);
    await store.insertApiKey(kept);
    const before = Date.now();

    const revoked = await store.revokeApiKey(key.id);
    expect(revoked).toEqual({ ...key, revokedAt: expect.stringMatching(ISO) });
    const at = Date.parse(revoked!.revokedAt!);
    expect(at).toBeGreaterThanOrEqual(before - 1_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(await store.findApiKeyByHash(key.hash)).toBeUndefined();
    expect(await store.findApiKeyByHash(kept.hash)).toEqual({ key: kept, workspace: ws });

    // Again, later: idempotent, the first instant stays.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await store.revokeApiKey(key.id)).toEqual(revoked);
    expect((await store.listApiKeys(ws.id)).find((listed) => listed.id === key.id)).toEqual({ ...revoked, workspaceSlug: "acme" });
    expect(await store.countApiKeys()).toBe(2);
  });

  it("keeps the revocation instant of a key inserted revoked, and answers undefined for an unknown id", async () => {
    const { store, ws } = ctx;
    const key = makeKey(ws.id, { revokedAt: "2025-06-01T00:00:00.000Z" });
    await store.insertApiKey(key);
    expect(await store.revokeApiKey(key.id)).toEqual(key);
    expect(await store.revokeApiKey("key_missing")).toBeUndefined();
    expect(await store.revokeApiKey("")).toBeUndefined();
  });
}
