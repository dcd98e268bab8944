import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@agentd/server";
import { AgentdError } from "../../src/errors.js";
import type { Context, Reply } from "../../src/http/context.js";
import { idempotency, type IdempotencyOptions } from "../../src/http/idempotency.js";
import type { Store, WorkspaceRecord } from "../../src/store/types.js";

/*
 * Idempotency keys shared by workers: each worker is an `idempotency(store)`
 * middleware of its own (its own in-process map), called directly. On
 * SQLite the workers share one store; on PostgreSQL each has a store (a
 * connection pool) of its own on one schema, as separate processes would.
 */

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const pgUp = await new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 })
  .connect()
  .then((client) => client.end().then(() => true))
  .catch(() => false);
if (!pgUp) console.warn(`idempotency tests on PostgreSQL SKIPPED: no PostgreSQL at ${databaseUrl}`);

const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
afterAll(async () => {
  if (!pgUp) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const PATH = "/api/v1/workspaces/acme/agent-runs";

/** A POST as the router hands it to the middleware: headers, a body stream, the authenticated workspace. */
function post(workspace: WorkspaceRecord, key: string, body: unknown): Context {
  const req = Object.assign(Readable.from([Buffer.from(JSON.stringify(body))]), {
    method: "POST",
    headers: { "idempotency-key": key, "content-type": "application/json" },
  }) as unknown as IncomingMessage;
  return { req, res: undefined as never, url: new URL(PATH, "http://agentd"), params: {}, requestId: "req_test", workspace };
}

/** A route handler that counts its calls and answers a fresh run id, optionally only when released. */
function handler(gate?: Promise<void>) {
  const calls: string[] = [];
  const next = async (): Promise<Reply> => {
    const runId = `run_${randomBytes(6).toString("hex")}`;
    calls.push(runId);
    await gate;
    return { status: 202, body: { runId, streamUrl: `/x/${runId}` } };
  };
  return { calls, next };
}

function deferred() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { gate, release };
}

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (error instanceof AgentdError ? error.code : String(error)),
  );

const setups: Array<{ name: string; skip: boolean; stores: () => Promise<[Store, Store]> }> = [
  {
    name: "SQLite, one store",
    skip: false,
    stores: async () => {
      const store = await openStore({ memory: true });
      return [store, store];
    },
  },
  {
    name: "PostgreSQL, a store per worker",
    skip: !pgUp,
    stores: async () => [await openStore({ databaseUrl, schema, poolSize: 2 }), await openStore({ databaseUrl, schema, poolSize: 2 })],
  },
];

for (const setup of setups) {
  describe.skipIf(setup.skip)(`Idempotency-Key across workers: ${setup.name}`, () => {
    const start = async (options: IdempotencyOptions = {}) => {
      const [storeA, storeB] = await setup.stores();
      const workspace = await storeA.ensureWorkspace("acme");
      const key = `key-${randomBytes(6).toString("hex")}`;
      const worker = (store: Store, overrides: IdempotencyOptions = {}) => idempotency(store, { pollMs: 10, ...options, ...overrides });
      const close = async () => {
        await storeA.close();
        if (storeB !== storeA) await storeB.close();
      };
      return { storeA, storeB, workspace, key, a: worker(storeA), b: worker(storeB), worker, close };
    };

    it("answers a retry on another worker with the first worker's reply; its handler never runs", async () => {
      const { storeB, workspace, key, a, b, close } = await start();
      try {
        const first = handler();
        const second = handler();
        const reply = await a(post(workspace, key, { prompt: "hi" }), first.next);
        expect(await b(post(workspace, key, { prompt: "hi" }), second.next)).toEqual(reply);
        expect(first.calls).toHaveLength(1);
        expect(second.calls).toHaveLength(0);
        // A third worker, later, too.
        expect(await idempotency(storeB)(post(workspace, key, { prompt: "hi" }), second.next)).toEqual(reply);
        expect(second.calls).toHaveLength(0);
      } finally {
        await close();
      }
    });

    it("waits for the key in progress on another worker, then answers its reply", async () => {
      const { workspace, key, a, b, close } = await start();
      try {
        const { gate, release } = deferred();
        const first = handler(gate);
        const second = handler();
        const answered = a(post(workspace, key, { prompt: "slow" }), first.next);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const waiting = b(post(workspace, key, { prompt: "slow" }), second.next);
        await new Promise((resolve) => setTimeout(resolve, 100));
        release();
        const reply = await answered;
        expect(await waiting).toEqual(reply);
        expect(second.calls).toHaveLength(0);
      } finally {
        await close();
      }
    });

    it("answers 409 idempotency_in_progress when the other worker takes longer than the wait", async () => {
      const { workspace, key, a, worker, storeB, close } = await start();
      try {
        const { gate, release } = deferred();
        const answered = a(post(workspace, key, { prompt: "slower" }), handler(gate).next);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const impatient = worker(storeB, { waitMs: 100 });
        expect(await errorCode(impatient(post(workspace, key, { prompt: "slower" }), handler().next))).toBe("idempotency_in_progress");
        release();
        await answered;
      } finally {
        await close();
      }
    });

    it("refuses the key reused with another body on another worker (422, naming Idempotency-Key)", async () => {
      const { workspace, key, a, b, close } = await start();
      try {
        await a(post(workspace, key, { prompt: "one" }), handler().next);
        const refused = b(post(workspace, key, { prompt: "two" }), handler().next);
        await expect(refused).rejects.toMatchObject({ code: "idempotency_key_reused", status: 422 });
        await expect(refused).rejects.toThrow(/Idempotency-Key/);
      } finally {
        await close();
      }
    });

    it("takes over a key left pending by a worker that died, once it is older than the lock time", async () => {
      const { workspace, key, a, worker, storeB, close } = await start();
      try {
        // Worker A never finishes: its handler hangs, as a crashed process's would.
        void a(post(workspace, key, { prompt: "crash" }), handler(new Promise(() => undefined)).next);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const survivor = handler();
        const reply = await worker(storeB, { lockMs: 200 })(post(workspace, key, { prompt: "crash" }), survivor.next);
        expect(survivor.calls).toHaveLength(1);
        expect(reply).toEqual({ status: 202, body: { runId: survivor.calls[0], streamUrl: `/x/${survivor.calls[0]}` } });
        // Its reply is the key's now, for every worker.
        expect(await worker(storeB)(post(workspace, key, { prompt: "crash" }), handler().next)).toEqual(reply);
      } finally {
        await close();
      }
    });

    it("does not store a failure: a retry on another worker runs its handler", async () => {
      const { workspace, key, a, b, close } = await start();
      try {
        const failing = async (): Promise<Reply> => {
          throw new AgentdError("unavailable", "model provider down");
        };
        expect(await errorCode(a(post(workspace, key, { prompt: "x" }), failing))).toBe("unavailable");
        const refused = async (): Promise<Reply> => ({ status: 409, body: { code: "session_busy" } });
        expect(await b(post(workspace, key, { prompt: "x" }), refused)).toEqual({ status: 409, body: { code: "session_busy" } });
        const retry = handler();
        const reply = await a(post(workspace, key, { prompt: "x" }), retry.next);
        expect(retry.calls).toHaveLength(1);
        expect(await b(post(workspace, key, { prompt: "x" }), handler().next)).toEqual(reply);
      } finally {
        await close();
      }
    });
  });
}
