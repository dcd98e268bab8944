import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, type TestContext } from "vitest";
import { startFakeProvider, type FakeProvider, type FakeReply, type FakeRequest } from "@agentd/server/testing";

/*
 * A cluster of real `agentd serve` processes on one PostgreSQL database and
 * one Redis, driven only through what a deployment exposes: the HTTP API,
 * processes and signals. Each test file gets its own database, its own Redis
 * key prefix (and logical database), its own fake model providers and its own
 * API key. Every wait is bounded, and every child process is killed when the
 * suite ends, fails, or the test process exits.
 *
 * Knobs (environment): DATABASE_URL (admin connection; a database is created
 * per test file), REDIS_URL, CLUSTER_WORKERS (default 3), CLUSTER_LEASE_MS
 * (default 1500), CLUSTER_VERBOSE=1 (echo worker output).
 */

const CLI = fileURLToPath(new URL("../../../cli/bin/agentd.js", import.meta.url));
const CLI_DIST = fileURLToPath(new URL("../../../cli/dist/bin.js", import.meta.url));

export const DEFAULT_DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const DEFAULT_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const LEASE_MS = positiveInt("CLUSTER_LEASE_MS", 1_500);
export const WORKERS = positiveInt("CLUSTER_WORKERS", 3);
const VERBOSE = process.env.CLUSTER_VERBOSE === "1";
/** What the server prints when a second process is refused (the engine does not run under leases yet). */
const REFUSED = "another agentd process";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got '${raw}')`);
  return value;
}

/** Polls `condition` until it returns true; throws, naming `what`, after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 25, what = "a condition" }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}


// --- child processes: never left behind -----------------------------------------------

const tracked = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

/** Kills `child` with `signal` if the test process exits while it still runs. */
export function track(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  tracked.set(child, signal);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const [proc, sig] of tracked) {
      if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) continue;
      try {
        process.kill(proc.pid, "SIGCONT");
        process.kill(proc.pid, sig);
      } catch {
        // already gone
      }
    }
    releaseLockFile();
  });
}

export function untrack(child: ChildProcess): void {
  tracked.delete(child);
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!alive(child)) return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (bounded). */
async function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (!alive(child)) return;
  try {
    child.kill("SIGCONT");
    child.kill("SIGTERM");
  } catch {
    // gone
  }
  if (await waitForExit(child, graceMs)) return;
  child.kill("SIGKILL");
  await waitForExit(child, 5_000);
}

// --- one cluster suite at a time on this machine --------------------------------------

const LOCK_FILE = join(tmpdir(), "agentd-cluster-tests.lock");
let lockDepth = 0;

function releaseLockFile(): void {
  try {
    if (readFileSync(LOCK_FILE, "utf8") === String(process.pid)) unlinkSync(LOCK_FILE);
  } catch {
    // not ours or gone
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The cluster suites run one at a time (a lock file in the temp directory):
 * several clusters with short leases on a small machine would starve each
 * other's lease renewals. Re-entrant within a process; the returned function
 * releases one level.
 */
export async function acquireClusterLock(timeoutMs = 12 * 60_000): Promise<() => void> {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    if (--lockDepth === 0) releaseLockFile();
  };
  if (lockDepth > 0) {
    lockDepth++;
    return release;
  }
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      writeFileSync(LOCK_FILE, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = Number.NaN;
    let ageMs = 0;
    try {
      owner = Number(readFileSync(LOCK_FILE, "utf8"));
      ageMs = Date.now() - statSync(LOCK_FILE).mtimeMs;
    } catch {
      continue; // removed meanwhile
    }
    const stale = Number.isInteger(owner) && owner > 0 ? !pidAlive(owner) : ageMs > 5_000;
    if (stale) {
      try {
        unlinkSync(LOCK_FILE);
      } catch {
        // someone else removed it
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another cluster test suite (pid ${owner}) held ${LOCK_FILE} for more than ${timeoutMs} ms`);
    if (!announced) {
      announced = true;
      console.log(`cluster tests: waiting for another cluster suite (pid ${owner}) to finish`);
    }
    await sleep(250);
  }
  lockDepth = 1;
  return release;
}

// --- SSE ---------------------------------------------------------------------------------

export interface Frame {
  seq: number;
  type: string;
  /** The parsed `data:` of the frame: `{ seq, at, type, ...fields }`. */
  data: any;
  /** The frame as sent (`id:`, `event:`, `data:` lines; comments dropped), for exact comparisons. */
  raw: string;
}

export const isTerminal = (frame: Frame | undefined): boolean => frame?.type === "result" || frame?.type === "cancelled";

function parseBlock(block: string): Frame | undefined {
  const lines = block.split("\n").filter((line) => line.length > 0 && !line.startsWith(":"));
  if (lines.length === 0) return undefined;
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  const parsed = JSON.parse(data.join("\n"));
  return { seq: Number(parsed.seq ?? id), type: String(parsed.type ?? event), data: parsed, raw: lines.join("\n") };
}

/** Splits a growing SSE text into frames; `push` returns the frames completed by `chunk`. */
class SseParser {
  private buffer = "";
  push(chunk: string): Frame[] {
    this.buffer += chunk;
    const frames: Frame[] = [];
    for (let end = this.buffer.indexOf("\n\n"); end >= 0; end = this.buffer.indexOf("\n\n")) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame = parseBlock(block);
      if (frame) frames.push(frame);
    }
    return frames;
  }
}

// --- the cluster ---------------------------------------------------------------------

export type WorkerState = "running" | "stopped" | "dead";

export interface WorkerInfo {
  readonly index: number;
  /** AGENTD_WORKER_ID, stable across restarts of this slot. */
  readonly id: string;
  readonly url: string;
  readonly pid: number;
  readonly state: WorkerState;
  /** How many times this slot was started. */
  readonly starts: number;
}

export interface ApiResponse {
  status: number;
  body: any;
  /** Index of the worker that answered. */
  worker: number;
}

export interface RequestOptions {
  /** Send to this worker only (still retried on it until the deadline when the connection fails). */
  worker?: number;
  /** Per-attempt timeout. @default 20_000 */
  timeoutMs?: number;
  /** Give up (throw) after this long without an HTTP answer. @default 30_000 */
  deadlineMs?: number;
  /** Retry a failed connection on the next live worker. Off for non-idempotent requests whose outcome must be checked. @default true */
  retryNetwork?: boolean;
  /** Also retry 503 answers until the deadline. @default false */
  retry503?: boolean;
}

export class NetworkError extends Error {
  constructor(
    message: string,
    readonly worker: number,
  ) {
    super(message);
  }
}

export interface FollowOptions {
  /** Called for every frame received, in order (a client answering tool calls). */
  onFrame?: (frame: Frame) => void;
  /** Resolve (with `error`) when no terminal event arrived by then. @default 90_000 */
  timeoutMs?: number;
  /** Reconnect when a connection is silent this long (no bytes). @default off */
  idleMs?: number;
}

export interface Segment {
  worker: number;
  fromSeq: number;
  frames: number;
  /** How the connection ended: "terminal", "closed", "error: ...", "status 503", "ejected", "idle", "timeout". */
  end: string;
}

export interface FollowResult {
  runId: string;
  /** Every frame received, across all connections, in arrival order (duplicates included). */
  frames: Frame[];
  terminal: boolean;
  /** Connections after the first. */
  reconnects: number;
  segments: Segment[];
  /** Seq anomalies seen while reading (a gap or a duplicate across or within connections). */
  problems: string[];
  /** Set when the stream did not reach a terminal event in time. */
  error?: string;
}

export interface Cluster {
  readonly name: string;
  readonly workspace: string;
  readonly key: string;
  /** The database the workers use (created for this suite). */
  readonly databaseUrl: string;
  /** The Redis URL the workers use. */
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly leaseMs: number;
  readonly providers: FakeProvider[];
  readonly workers: WorkerInfo[];
  /** Exits nobody asked for: `{ worker, code, signal }`. */
  readonly unexpectedExits: Array<{ worker: number; code: number | null; signal: string | null; output: string }>;
  /** What every worker's fake provider answers; `worker` is the index of the worker that made the call. */
  script(script: (request: FakeRequest, worker: number) => FakeReply | undefined): void;
  /** Indices of the workers that are running (not stopped, not dead). */
  live(): number[];
  /**
   * Sends a signal to worker i. SIGKILL/SIGTERM wait for the exit (SIGTERM: up to `exitWithinMs`, then SIGKILL) and
   * resolve to how it ended; SIGSTOP takes it out of rotation; SIGCONT puts it back. The worker's client connections
   * are cut first, as a load balancer's health check would, unless `keepConnections` (then the worker ends them itself).
   */
  killWorker(
    index: number,
    signal?: NodeJS.Signals,
    options?: { keepConnections?: boolean; exitWithinMs?: number },
  ): Promise<{ code: number | null; signal: string | null } | void>;
  /** Kills worker i if it runs, and starts it again (same worker id, new port). */
  restartWorker(index: number): Promise<void>;
  /** The load balancer: one HTTP request to the next live worker (workspace-relative path, or absolute /api/... path). */
  request(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
  /** POST /agent-runs with `metadata.ct = tag`; a connection lost mid-request is resolved by looking the tag up, never by blindly posting twice. */
  createRun(body: Record<string, unknown>, tag: string, options?: { retry503?: boolean; deadlineMs?: number }): Promise<ApiResponse>;
  /** Reads a run's stream like a client behind the load balancer: on any drop it reconnects to any live worker with `?lastSeq=`. */
  follow(runId: string, options?: FollowOptions): Promise<FollowResult>;
  /**
   * The stored log: a full replay (`lastSeq=0`) on one connection, from the given or the next live worker, which must end
   * with the terminal event (the run must be terminal). An attempt that fails (a lost connection, a 503, or no end within
   * `attemptMs`, as from a worker replaying a stale log) is retried on the next worker and listed in `trouble`.
   */
  readLog(
    runId: string,
    options?: { worker?: number; timeoutMs?: number; attemptMs?: number },
  ): Promise<{ frames: Frame[]; worker: number; trouble: string[] }>;
  /** Recent output of every worker (or one), for failure messages. */
  output(index?: number): string;
  /** The lines of every worker's recent output (its last 300) that contain `text`, each prefixed with its worker. */
  grep(text: string): string[];
  /** Kills every worker, closes the providers, drops the database and the Redis keys. Idempotent, bounded. */
  stopAll(): Promise<void>;
}

export interface ClusterOptions {
  /** Suite name, for messages. */
  name: string;
  /** @default CLUSTER_WORKERS or 3 */
  workers?: number;
  /** Skip (with a reason) when fewer workers are configured. @default 1 */
  minWorkers?: number;
  /** AGENTD_LEASE_MS. @default CLUSTER_LEASE_MS or 1500 */
  leaseMs?: number;
  /** Admin connection to the PostgreSQL to create this suite's database in. @default DATABASE_URL or postgres://postgres@127.0.0.1:5432/test */
  databaseUrl?: string;
  /** A Redis of the suite's own (used as is). @default a logical database claimed on REDIS_URL or redis://127.0.0.1:6379 */
  redisUrl?: string;
  /** @default "w" */
  workspace?: string;
  /** Extra environment for the workers. */
  env?: Record<string, string>;
  /** Fake provider options. */
  tokens?: number;
}

export type Skip = { skip: string };
export const isSkip = (value: unknown): value is Skip => typeof value === "object" && value !== null && "skip" in value;

interface Slot {
  index: number;
  id: string;
  url: string;
  child: ChildProcess | undefined;
  state: WorkerState;
  starts: number;
  /** Cut these connections when the worker is stopped or killed. */
  connections: Set<() => void>;
  /** Exits we caused (kill, stop) are expected. */
  expectingExit: boolean;
  lines: string[];
}

async function postgresReachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function redisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > 3 ? null : 100),
  });
  client.on("error", () => undefined);
  return client;
}

/** Claims an empty logical database on a shared Redis (a key in the URL's database), so nothing of a server that ignores the prefix leaks into other tests. */
async function claimRedisDatabase(url: string, token: string): Promise<{ url: string; release: () => Promise<void> } | Skip> {
  const admin = redisClient(url);
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    admin.disconnect();
    return { skip: `Redis does not answer at ${url} (${(error as Error).message}). Start one or set REDIS_URL.` };
  }
  let databases = 16;
  try {
    const reply = (await admin.config("GET", "databases")) as string[];
    databases = Number(reply[1]) || 1;
  } catch {
    databases = 1; // CONFIG disabled (managed Redis): use the URL's database, keys under our prefix only
  }
  const baseDb = Number(new URL(url).pathname.slice(1) || "0");
  const order = Array.from({ length: databases }, (_, n) => n).filter((n) => n !== baseDb);
  order.sort(() => Math.random() - 0.5);
  for (const db of order) {
    const claimKey = `agentd-cluster-tests:db:${db}`;
    let takenOver = false;
    if ((await admin.set(claimKey, token, "EX", 7_200, "NX")) !== "OK") {
      // Claimed by a test process that died without releasing it: take it over, and empty it.
      const owner = Number((await admin.get(claimKey))?.split(":")[0]);
      if (!Number.isInteger(owner) || owner <= 0 || pidAlive(owner)) continue;
      if ((await admin.set(claimKey, token, "EX", 7_200, "XX")) !== "OK") continue;
      takenOver = true;
    }
    const probe = redisClient(url);
    await probe.connect();
    await probe.select(db);
    if (takenOver) await probe.flushdb();
    const size = await probe.dbsize();
    if (size > 0) {
      probe.disconnect();
      if ((await admin.get(claimKey)) === token) await admin.del(claimKey);
      continue; // someone uses it without our claim: leave it alone
    }
    const parsed = new URL(url);
    parsed.pathname = `/${db}`;
    return {
      url: parsed.toString(),
      release: async () => {
        try {
          await probe.flushdb();
          if ((await admin.get(claimKey)) === token) await admin.del(claimKey);
        } finally {
          probe.disconnect();
          admin.disconnect();
        }
      },
    };
  }
  // No free database: share the URL's, under our prefix only.
  return { url, release: async () => admin.disconnect() };
}

async function deleteByPrefix(url: string, prefix: string): Promise<void> {
  const admin = redisClient(url);
  try {
    await admin.connect();
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    admin.disconnect();
  }
}

/**
 * What suites killed before their cleanup (a `timeout`, Ctrl-C) left behind, named after a
 * test process that no longer runs: databases (on a local PostgreSQL only) and temp dirs.
 */
export async function collectLeftovers(adminUrl: string): Promise<void> {
  const dead = (name: string, pattern: RegExp): boolean => {
    const pid = Number(pattern.exec(name)?.[1]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid);
  };
  for (const name of readdirSync(tmpdir())) {
    if (dead(name, /^agentd-cluster-(\d+)-/)) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(adminUrl).hostname)) return;
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'agentd\\_cluster\\_%'");
    for (const { datname } of rows) {
      if (dead(datname, /^agentd_cluster_(\d+)_[0-9a-f]+$/))
        await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
    }
  } catch {
    // best effort
  } finally {
    await client.end().catch(() => undefined);
  }
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd, timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        untrack(child);
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    track(child);
  });
}

/**
 * Starts a cluster, or returns `{ skip: reason }` when it cannot run here:
 * no PostgreSQL, no Redis, too few workers configured, or the server refusing
 * a second process on one database (the engine does not run under leases yet).
 * Anything else that goes wrong throws, after cleaning up what was started.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster | Skip> {
  const count = options.workers ?? WORKERS;
  const minWorkers = options.minWorkers ?? 1;
  if (count < minWorkers) return { skip: `needs at least ${minWorkers} workers (CLUSTER_WORKERS=${count})` };
  if (!existsSync(CLI_DIST))
    throw new Error(`${CLI_DIST} is missing: run \`npm run build\` first (the cluster tests spawn the real agentd binary)`);
  const adminUrl = options.databaseUrl ?? DEFAULT_DATABASE_URL;
  const unreachable = await postgresReachable(adminUrl);
  if (unreachable) return { skip: `no PostgreSQL at ${adminUrl} (${unreachable}). Start one or set DATABASE_URL.` };

  const releaseLock = await acquireClusterLock();
  await collectLeftovers(adminUrl);
  const suffix = randomBytes(5).toString("hex");
  const database = `agentd_cluster_${process.pid}_${suffix}`;
  const redisPrefix = `agentd-cluster-${suffix}:`;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const workspace = options.workspace ?? "w";
  const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
  const cleanup = async (): Promise<void> => {
    const failures: string[] = [];
    for (const step of cleanups.reverse()) {
      try {
        await Promise.race([step.run(), sleep(30_000).then(() => Promise.reject(new Error("timed out after 30 s")))]);
      } catch (error) {
        failures.push(`${step.what}: ${(error as Error).message}`);
      }
    }
    cleanups.length = 0;
    releaseLock();
    if (failures.length > 0) console.warn(`cluster ${options.name}: cleanup problems:\n  ${failures.join("\n  ")}`);
  };

  try {
    // Redis: a private one as is, or a claimed logical database on the shared one.
    let redisUrl: string;
    if (options.redisUrl) {
      redisUrl = options.redisUrl;
      cleanups.push({ what: "delete the Redis keys", run: () => deleteByPrefix(redisUrl, redisPrefix) });
    } else {
      const claimed = await claimRedisDatabase(DEFAULT_REDIS_URL, `${process.pid}:${suffix}`);
      if (isSkip(claimed)) {
        await cleanup();
        return claimed;
      }
      redisUrl = claimed.url;
      cleanups.push({ what: "release the Redis database", run: claimed.release });
      cleanups.push({ what: "delete the Redis keys", run: () => deleteByPrefix(redisUrl, redisPrefix) });
    }

    await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
    cleanups.push({
      what: `drop database ${database}`,
      run: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
    });
    const databaseUrl = withDatabase(adminUrl, database);

    const dir = await mkdtemp(join(tmpdir(), `agentd-cluster-${process.pid}-`));
    cleanups.push({ what: "remove the temp dir", run: () => rm(dir, { recursive: true, force: true }) });

    const providers: FakeProvider[] = [];
    cleanups.push({
      what: "close the fake providers",
      run: async () => void (await Promise.all(providers.map((provider) => provider.close()))),
    });
    let current: ((request: FakeRequest, worker: number) => FakeReply | undefined) | undefined;
    for (let index = 0; index < count; index++) {
      const provider = await startFakeProvider({ tokens: options.tokens ?? 8, maxRecorded: 200 });
      provider.script((request) => current?.(request, index));
      providers.push(provider);
      await writeFile(
        join(dir, `agentd-${index}.json`),
        JSON.stringify({
          providers: [{ name: "fake", type: "openai-compatible", baseUrl: provider.openaiBaseUrl, apiKey: "k", models: [{ id: "f" }] }],
          defaultModelId: "provider:fake:f",
        }),
      );
    }

    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      AGENTD_REDIS_PREFIX: redisPrefix,
      AGENTD_LEASE_MS: String(leaseMs),
      AGENTD_LOG_LEVEL: "warn",
      ...options.env,
    };

    const created = await run(
      ["keys", "create", "--workspace", workspace, "--name", "cluster-test"],
      { ...baseEnv, AGENTD_DATA_DIR: join(dir, "data") },
      dir,
      30_000,
    );
    const key = created.stdout.trim().split("\n").at(-1) ?? "";
    if (created.code !== 0 || !key.startsWith("agd_"))
      throw new Error(`agentd keys create failed (exit ${created.code}):\n${created.stdout}\n${created.stderr}`);

    const slots: Slot[] = Array.from({ length: count }, (_, index) => ({
      index,
      id: `w${index}-${suffix}`,
      url: "",
      child: undefined,
      state: "dead" as WorkerState,
      starts: 0,
      connections: new Set(),
      expectingExit: false,
      lines: [],
    }));
    const unexpectedExits: Cluster["unexpectedExits"] = [];
    cleanups.push({
      what: "stop the workers",
      run: async () => {
        await Promise.all(
          slots.map(async (slot) => {
            slot.expectingExit = true;
            slot.state = "dead";
            for (const cut of slot.connections) cut();
            if (slot.child) await terminate(slot.child);
          }),
        );
      },
    });

    const note = (slot: Slot, line: string): void => {
      slot.lines.push(line);
      if (slot.lines.length > 300) slot.lines.splice(0, slot.lines.length - 300);
      if (VERBOSE) console.log(`[${options.name} w${slot.index}] ${line}`);
    };

    /** Starts slot i; resolves with "refused" when the server will not be a second process on the database. */
    const spawnWorker = (slot: Slot): Promise<"ok" | "refused"> => {
      slot.starts++;
      slot.expectingExit = false;
      const child = spawn(
        process.execPath,
        [CLI, "serve", "--port", "0", "--host", "127.0.0.1", "--config", join(dir, `agentd-${slot.index}.json`)],
        {
          cwd: dir,
          env: { ...baseEnv, AGENTD_WORKER_ID: slot.id, AGENTD_DATA_DIR: join(dir, `data-${slot.index}`) },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      track(child);
      slot.child = child;
      note(slot, `--- start #${slot.starts} (pid ${child.pid})`);
      return new Promise((resolve, reject) => {
        let settled = false;
        let output = "";
        const timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          child.kill("SIGKILL");
          reject(new Error(`worker ${slot.index} printed no "agentd is listening on" within 30 s:\n${slot.lines.join("\n")}`));
        }, 30_000);
        const onData = (chunk: string): void => {
          for (const line of chunk.split("\n")) if (line) note(slot, line);
          if (settled) return;
          output += chunk;
          const match = /agentd is listening on (http:\/\/\S+)/.exec(output);
          if (match && !settled) {
            settled = true;
            clearTimeout(timer);
            slot.url = match[1]!;
            slot.state = "running";
            resolve("ok");
          }
        };
        child.stdout!.setEncoding("utf8").on("data", onData);
        child.stderr!.setEncoding("utf8").on("data", onData);
        child.once("exit", (code, signal) => {
          untrack(child);
          note(slot, `--- exit code=${code} signal=${signal}`);
          if (slot.child === child) {
            slot.state = "dead";
            for (const cut of slot.connections) cut();
          }
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            if (output.includes(REFUSED)) return resolve("refused");
            return reject(
              new Error(`worker ${slot.index} exited (code ${code}, signal ${signal}) before listening:\n${slot.lines.join("\n")}`),
            );
          }
          if (!slot.expectingExit && slot.child === child)
            unexpectedExits.push({ worker: slot.index, code, signal, output: slot.lines.slice(-80).join("\n") });
        });
      });
    };

    // The first worker alone (it may migrate), then the others together.
    if ((await spawnWorker(slots[0]!)) === "refused")
      throw new Error(`worker 0 was refused on a fresh database:\n${slots[0]!.lines.join("\n")}`);
    const rest = await Promise.allSettled(slots.slice(1).map((slot) => spawnWorker(slot)));
    const failed = rest.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) throw failed.reason;
    if (rest.some((result) => result.status === "fulfilled" && result.value === "refused")) {
      const refusal = slots.flatMap((slot) => slot.lines).find((line) => line.includes(REFUSED)) ?? REFUSED;
      await cleanup();
      return { skip: `the server refused a second worker on one database (the engine does not run under leases yet): ${refusal.trim()}` };
    }

    let rr = 0;
    let restarting = 0;
    /** No worker runs, is stopped (to be resumed) or restarting: nothing will ever answer again. */
    const allDead = (): boolean => restarting === 0 && slots.every((slot) => slot.state === "dead");
    const live = (): number[] => slots.filter((slot) => slot.state === "running").map((slot) => slot.index);
    const nextLive = (): Slot | undefined => {
      const running = slots.filter((slot) => slot.state === "running");
      if (running.length === 0) return undefined;
      return running[rr++ % running.length];
    };
    const apiUrl = (slot: Slot, path: string): string =>
      slot.url + (path.startsWith("/api/") || path === "/healthz" ? path : `/api/v1/workspaces/${workspace}${path}`);

    const request = async (method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse> => {
      const deadline = Date.now() + (opts.deadlineMs ?? 30_000);
      let lastError = "no live worker";
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) {
          if (Date.now() > deadline)
            throw new NetworkError(`${method} ${path}: no answer within ${opts.deadlineMs ?? 30_000} ms (${lastError})`, -1);
          await sleep(Math.min(50 * attempt, 250));
        }
        const slot = opts.worker !== undefined ? slots[opts.worker]! : nextLive();
        if (!slot || slot.state !== "running") {
          if (allDead()) throw new NetworkError(`${method} ${path}: every worker is dead`, -1);
          lastError = opts.worker !== undefined ? `worker ${opts.worker} is ${slot?.state}` : "no live worker";
          continue;
        }
        const controller = new AbortController();
        const cut = (): void => controller.abort(new Error(`worker ${slot.index} taken out of rotation`));
        slot.connections.add(cut);
        const timer = setTimeout(
          () => controller.abort(new Error(`no answer in ${opts.timeoutMs ?? 20_000} ms`)),
          opts.timeoutMs ?? 20_000,
        );
        try {
          const response = await fetch(apiUrl(slot, path), {
            method,
            headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            signal: controller.signal,
          });
          const text = await response.text();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          if (response.status === 503 && opts.retry503 && Date.now() < deadline) {
            lastError = "503";
            continue;
          }
          return { status: response.status, body: parsed, worker: slot.index };
        } catch (error) {
          const cause = (error as { cause?: { code?: string; message?: string } }).cause;
          lastError = `worker ${slot.index}: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
          if (opts.retryNetwork === false) throw new NetworkError(`${method} ${path}: ${lastError}`, slot.index);
        } finally {
          clearTimeout(timer);
          slot.connections.delete(cut);
        }
      }
    };

    const createRun: Cluster["createRun"] = async (body, tag, opts = {}) => {
      const deadline = Date.now() + (opts.deadlineMs ?? 30_000);
      const payload = { ...body, metadata: { ...(body.metadata as Record<string, string> | undefined), ct: tag } };
      for (;;) {
        try {
          const response = await request("POST", "/agent-runs", payload, {
            retryNetwork: false,
            deadlineMs: Math.max(1_000, deadline - Date.now()),
          });
          if (response.status === 503 && opts.retry503 && Date.now() < deadline) {
            await sleep(100);
            continue;
          }
          return response;
        } catch (error) {
          if (!(error instanceof NetworkError) || Date.now() > deadline) throw error;
          // The request may or may not have created the run: ask (any worker), then decide.
          const found = await request("GET", `/agent-runs?metadata=${encodeURIComponent(`ct:${tag}`)}`, undefined, {
            retry503: true,
            deadlineMs: 30_000,
          });
          const runs = (found.body?.runs ?? []) as Array<{ id: string }>;
          if (found.status === 200 && runs.length > 0) {
            return {
              status: 202,
              body: { runId: runs[0]!.id, streamUrl: `/api/v1/workspaces/${workspace}/agent-runs/${runs[0]!.id}/stream`, recovered: true },
              worker: found.worker,
            };
          }
        }
      }
    };

    const streamPath = (runId: string, lastSeq: number): string =>
      `/api/v1/workspaces/${workspace}/agent-runs/${runId}/stream?lastSeq=${lastSeq}`;

    /** One connection: resolves with how it ended. */
    const connect = (
      slot: Slot,
      runId: string,
      lastSeq: number,
      onFrame: (frame: Frame) => boolean,
      idleMs: number | undefined,
    ): { done: Promise<string>; cancel: (why: string) => void } => {
      let finish: (end: string) => void = () => undefined;
      let req: http.ClientRequest | undefined;
      let idle: NodeJS.Timeout | undefined;
      const done = new Promise<string>((resolve) => {
        let settled = false;
        finish = (end) => {
          if (settled) return;
          settled = true;
          clearTimeout(idle);
          slot.connections.delete(eject);
          req?.destroy();
          resolve(end);
        };
      });
      const eject = (): void => finish("ejected");
      slot.connections.add(eject);
      const armIdle = (): void => {
        if (idleMs === undefined) return;
        clearTimeout(idle);
        idle = setTimeout(() => finish("idle"), idleMs);
      };
      armIdle();
      req = http.get(
        apiUrl(slot, streamPath(runId, lastSeq)),
        { agent: false, headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return finish(`status ${res.statusCode}`);
          }
          const parser = new SseParser();
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            armIdle();
            let frames: Frame[];
            try {
              frames = parser.push(chunk);
            } catch (error) {
              return finish(`error: unparsable frame: ${(error as Error).message}`);
            }
            for (const frame of frames) if (onFrame(frame)) return finish("terminal");
          });
          res.on("end", () => finish("closed"));
          res.on("error", (error) => finish(`error: ${error.message}`));
          res.on("close", () => finish("closed"));
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => finish(`error: ${error.code ?? error.message}`));
      return { done, cancel: finish };
    };

    const follow: Cluster["follow"] = async (runId, opts = {}) => {
      const result: FollowResult = { runId, frames: [], terminal: false, reconnects: -1, segments: [], problems: [] };
      const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
      let lastSeq = 0;
      let current: { cancel: (why: string) => void } | undefined;
      const overall = setTimeout(() => current?.cancel("timeout"), opts.timeoutMs ?? 90_000);
      try {
        for (let attempt = 0; !result.terminal; attempt++) {
          if (Date.now() > deadline) {
            const tail = result.frames
              .slice(-3)
              .map((frame) => `${frame.seq}:${frame.type}`)
              .join(", ");
            result.error = `run ${runId}: no terminal event within ${opts.timeoutMs ?? 90_000} ms (last frames: ${tail || "none"}; connections: ${result.segments.map((s) => `w${s.worker}@${s.fromSeq}+${s.frames}:${s.end}`).join(" ")})`;
            break;
          }
          const slot = nextLive();
          if (!slot) {
            if (allDead()) {
              result.error = `run ${runId}: every worker is dead, after ${result.frames.length} frames`;
              break;
            }
            await sleep(100);
            continue;
          }
          result.reconnects++;
          const segment: Segment = { worker: slot.index, fromSeq: lastSeq, frames: 0, end: "" };
          result.segments.push(segment);
          const connection = connect(
            slot,
            runId,
            lastSeq,
            (frame) => {
              segment.frames++;
              if (frame.seq !== lastSeq + 1)
                result.problems.push(`seq ${frame.seq} (${frame.type}) after ${lastSeq} on worker ${slot.index}`);
              lastSeq = Math.max(lastSeq, frame.seq);
              result.frames.push(frame);
              if (isTerminal(frame)) result.terminal = true;
              opts.onFrame?.(frame);
              return result.terminal;
            },
            opts.idleMs,
          );
          current = connection;
          segment.end = await connection.done;
          current = undefined;
          if (!result.terminal) await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), 500));
        }
      } finally {
        clearTimeout(overall);
      }
      return result;
    };

    const readLog: Cluster["readLog"] = async (runId, opts = {}) => {
      const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
      const trouble: string[] = [];
      while (Date.now() < deadline) {
        const slot = opts.worker !== undefined ? slots[opts.worker]! : nextLive();
        if (!slot || slot.state !== "running") {
          if (allDead()) break;
          await sleep(100);
          continue;
        }
        const frames: Frame[] = [];
        const connection = connect(
          slot,
          runId,
          0,
          (frame) => {
            frames.push(frame);
            return false;
          },
          undefined,
        );
        const attemptMs = Math.max(0, Math.min(deadline - Date.now(), opts.attemptMs ?? 8_000));
        const timer = setTimeout(() => connection.cancel(`no end within ${attemptMs} ms`), attemptMs);
        const end = await connection.done;
        clearTimeout(timer);
        // The server ends the stream right after the terminal event: a clean end is the whole log.
        if (end === "closed" && isTerminal(frames.at(-1))) return { frames, worker: slot.index, trouble };
        trouble.push(
          `worker ${slot.index}: ${end} after ${frames.length} frames (last ${frames.at(-1) ? `${frames.at(-1)!.seq}:${frames.at(-1)!.type}` : "none"})`,
        );
        await sleep(100);
      }
      throw new Error(`could not read the whole log of ${runId} within ${opts.timeoutMs ?? 20_000} ms: ${trouble.join("; ")}`);
    };

    const killWorker: Cluster["killWorker"] = async (index, signal = "SIGKILL", killOptions = {}) => {
      const slot = slots[index];
      if (!slot?.child) throw new Error(`no worker ${index}`);
      const child = slot.child;
      if (signal === "SIGCONT") {
        child.kill("SIGCONT");
        if (alive(child)) slot.state = "running";
        return;
      }
      if (!alive(child)) return;
      slot.expectingExit = signal !== "SIGSTOP";
      slot.state = signal === "SIGSTOP" ? "stopped" : "dead";
      // A load balancer's health check takes it out of rotation: its clients reconnect elsewhere.
      if (!killOptions.keepConnections) for (const cut of [...slot.connections]) cut();
      child.kill(signal);
      if (signal === "SIGSTOP") return;
      const ended = () => ({ code: child.exitCode, signal: child.signalCode });
      if (signal === "SIGKILL") {
        if (!(await waitForExit(child, 10_000))) throw new Error(`worker ${index} did not die of SIGKILL within 10 s`);
        return ended();
      }
      if (!(await waitForExit(child, killOptions.exitWithinMs ?? 10_000))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
      }
      return ended();
    };

    const cluster: Cluster = {
      name: options.name,
      workspace,
      key,
      databaseUrl,
      redisUrl,
      redisPrefix,
      leaseMs,
      providers,
      unexpectedExits,
      get workers() {
        return slots.map((slot) => ({
          index: slot.index,
          id: slot.id,
          url: slot.url,
          pid: slot.child?.pid ?? -1,
          state: slot.state,
          starts: slot.starts,
        }));
      },
      script(script) {
        current = script;
      },
      live,
      killWorker,
      async restartWorker(index) {
        const slot = slots[index]!;
        restarting++;
        try {
          if (slot.child && alive(slot.child)) await killWorker(index, "SIGKILL");
          if ((await spawnWorker(slot)) === "refused") throw new Error(`worker ${index} was refused on restart:\n${slot.lines.join("\n")}`);
        } finally {
          restarting--;
        }
      },
      request,
      createRun,
      follow,
      readLog,
      grep(text) {
        return slots.flatMap((slot) => slot.lines.filter((line) => line.includes(text)).map((line) => `w${slot.index}: ${line}`));
      },
      output(index) {
        const shown = index === undefined ? slots : [slots[index]!];
        return shown
          .map((slot) => `--- worker ${slot.index} (${slot.state}, ${slot.url}):\n${slot.lines.slice(-60).join("\n")}`)
          .join("\n");
      },
      stopAll: cleanup,
    };
    return cluster;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Registers beforeAll/afterAll for a test file: starts the cluster once
 * (after `before`, e.g. a private service), stops it always. `use(ctx)`
 * returns the cluster, or skips the test with the printed reason.
 */
export function clusterSuite(
  options: ClusterOptions & { before?: () => Promise<Partial<ClusterOptions> | Skip>; after?: () => Promise<void> },
): { use(ctx: TestContext): Cluster; readonly cluster: Cluster | undefined } {
  let cluster: Cluster | undefined;
  let skipReason: string | undefined;
  let releaseLock: (() => void) | undefined;
  beforeAll(async () => {
    const count = options.workers ?? WORKERS;
    if (count < (options.minWorkers ?? 1)) {
      skipReason = `needs at least ${options.minWorkers} workers (CLUSTER_WORKERS=${count})`;
      console.warn(`SKIPPED cluster suite "${options.name}": ${skipReason}`);
      return;
    }
    try {
      // Held across `before` too: a private service is started inside the one-suite-at-a-time window.
      releaseLock = await acquireClusterLock();
      const extra = options.before ? await options.before() : {};
      if (isSkip(extra)) {
        skipReason = extra.skip;
      } else {
        const started = await startCluster({ ...options, ...extra });
        if (isSkip(started)) skipReason = started.skip;
        else cluster = started;
      }
    } catch (error) {
      releaseLock?.();
      releaseLock = undefined;
      await options.after?.().catch(() => undefined);
      throw error;
    }
    if (skipReason) console.warn(`SKIPPED cluster suite "${options.name}": ${skipReason}`);
  }, 14 * 60_000);
  afterAll(async () => {
    try {
      await cluster?.stopAll();
      await options.after?.();
    } finally {
      releaseLock?.();
    }
  }, 120_000);
  return {
    get cluster() {
      return cluster;
    },
    use(ctx) {
      if (!cluster) return ctx.skip(skipReason ?? "the cluster did not start");
      const started = cluster;
      ctx.onTestFailed(() => {
        console.error(`cluster "${options.name}" worker output at the failure:\n${started.output()}`);
        for (const exit of started.unexpectedExits)
          console.error(`worker ${exit.worker} exited unexpectedly (code ${exit.code}, signal ${exit.signal})`);
      });
      return started;
    },
  };
}
