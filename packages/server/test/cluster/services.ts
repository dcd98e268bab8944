import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { track, untrack, waitUntil } from "./harness.js";

/*
 * PRIVATE PostgreSQL and Redis servers for the restart tests: each on a free
 * port and a temporary directory of its own, so restarting them never
 * disturbs the shared services other test files use. When one cannot be
 * started here, the factory returns `{ skip: reason }` instead of throwing.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits for a child to exit, SIGKILLing it if it has not after `timeoutMs`. */
async function exitOf(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

// --- PostgreSQL -----------------------------------------------------------------------

export interface PrivatePostgres {
  /** Admin connection string (user postgres, database postgres, trust auth). */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** Stops the server: "immediate" is a crash (SIGQUIT, WAL recovery on the next start), "fast" a clean shutdown (SIGINT). */
  stop(mode?: "immediate" | "fast"): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Output of the server (last lines), for diagnostics. */
  output(): string;
  /** Stops it if running and deletes its data directory. */
  close(): Promise<void>;
}

function postgresBinDir(): string | undefined {
  const fromConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const candidates: string[] = [];
  if (fromConfig.status === 0) candidates.push(fromConfig.stdout.trim());
  if (existsSync("/usr/lib/postgresql")) {
    for (const version of readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a)))
      candidates.push(`/usr/lib/postgresql/${version}/bin`);
  }
  return candidates.find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")));
}

/** The uid/gid to run PostgreSQL as: ourselves, or the `postgres` user when we are root (initdb refuses root). */
function postgresIdentity(): { uid: number; gid: number } | { skip: string } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0)
    return { skip: "running as root, and there is no 'postgres' user to run a private PostgreSQL as (initdb refuses root)" };
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres | { skip: string }> {
  const bin = postgresBinDir();
  if (!bin) return { skip: "no PostgreSQL server binaries (initdb, postgres) found via pg_config or /usr/lib/postgresql/*/bin" };
  const identity = postgresIdentity();
  if (identity && "skip" in identity) return identity;
  const dir = await mkdtemp(join(tmpdir(), `agentd-cluster-${process.pid}-pg-`));
  if (identity) await chown(dir, identity.uid, identity.gid);
  const dataDir = join(dir, "data");
  const initdb = spawnSync(join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], {
    encoding: "utf8",
    timeout: 60_000,
    ...(identity ?? {}),
  });
  if (initdb.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    return {
      skip: `initdb failed (${initdb.error?.message ?? `exit ${initdb.status}`}): ${(initdb.stderr || "").trim().split("\n").slice(-3).join(" | ")}`,
    };
  }
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const lines: string[] = [];
  let child: ChildProcess | undefined;

  const ready = async (timeoutMs: number): Promise<void> => {
    await waitUntil(
      async () => {
        if (!child || child.exitCode !== null) throw new Error(`private PostgreSQL exited while starting:\n${lines.slice(-20).join("\n")}`);
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
        client.on("error", () => undefined);
        try {
          await client.connect();
          await client.query("SELECT 1");
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs, intervalMs: 100, what: "the private PostgreSQL to accept connections" },
    );
  };

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(
      join(bin, "postgres"),
      ["-D", dataDir, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
      { stdio: ["ignore", "pipe", "pipe"], ...(identity ?? {}) },
    );
    track(proc, "SIGQUIT");
    proc.once("exit", () => untrack(proc));
    for (const stream of [proc.stdout!, proc.stderr!]) {
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) if (line) lines.push(line);
        if (lines.length > 200) lines.splice(0, lines.length - 200);
      });
    }
    child = proc;
    await ready(30_000);
  };

  const stop = async (mode: "immediate" | "fast" = "immediate"): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(mode === "immediate" ? "SIGQUIT" : "SIGINT");
    await exitOf(proc, 15_000);
  };

  try {
    await start();
  } catch (error) {
    await stop("immediate");
    await rm(dir, { recursive: true, force: true });
    return { skip: `the private PostgreSQL did not start: ${(error as Error).message}` };
  }
  return {
    url,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    start,
    output: () => lines.join("\n"),
    async close() {
      await stop("fast");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// --- Redis ----------------------------------------------------------------------------

export interface PrivateRedis {
  readonly url: string;
  readonly running: boolean;
  /** kill -9: a crash; without persistence the data set is gone. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** FLUSHALL on the running server. */
  flushAll(): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis | { skip: string }> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return { skip: "no redis-server binary on PATH to run a private Redis" };
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const ping = async (): Promise<boolean> => {
    const probe = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    track(proc, "SIGKILL");
    proc.once("exit", () => untrack(proc));
    child = proc;
    await waitUntil(
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}) while starting`);
        return ping();
      },
      { timeoutMs: 10_000, intervalMs: 50, what: "the private redis-server to answer" },
    );
  };

  const crash = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGKILL");
    await exitOf(proc, 5_000);
  };

  try {
    await start();
  } catch (error) {
    await crash();
    return { skip: `the private redis-server did not start: ${(error as Error).message}` };
  }
  return {
    url,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    crash,
    start,
    async flushAll() {
      const admin = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
      admin.on("error", () => undefined);
      try {
        await admin.flushall();
      } finally {
        admin.disconnect();
      }
    },
    close: crash,
  };
}
