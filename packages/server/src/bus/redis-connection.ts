import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../logger.js";

/**
 * One ioredis connection, named (CLIENT LIST shows which agentd connection
 * is which) and quiet: ioredis emits 'error' on every failed reconnect
 * attempt, so only the first error of an outage is logged.
 */
export function connectRedis(url: string, name: string, logger: Logger | undefined, options: RedisOptions = {}): Redis {
  const connection = new Redis(url, { connectionName: name.replace(/[^\w:.\-]/g, "_"), ...options });
  let down = false;
  connection.on("error", (error: unknown) => {
    if (down) return;
    down = true;
    logger?.warn({ err: error, connection: name }, "redis unavailable, reconnecting");
  });
  connection.on("ready", () => {
    if (down) logger?.info({ connection: name }, "redis connection restored");
    down = false;
  });
  return connection;
}

/** Resolves when the connection is ready; rejects if it is closed for good first. */
export function whenReady(connection: Redis): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  if (connection.status === "end") return Promise.reject(new Error("redis connection closed"));
  return new Promise((resolve, reject) => {
    const onReady = () => {
      connection.off("end", onEnd);
      resolve();
    };
    const onEnd = () => {
      connection.off("ready", onReady);
      reject(new Error("redis connection closed"));
    };
    connection.once("ready", onReady);
    connection.once("end", onEnd);
  });
}

/**
 * QUIT when connected (the server answers what was sent before it first),
 * else drop the socket: QUIT would wait in the offline queue for a Redis
 * that may never come back.
 */
export async function closeRedis(connection: Redis, timeoutMs = 2_000): Promise<void> {
  if (connection.status === "end") return;
  if (connection.status === "ready") await settlesWithin(connection.quit(), timeoutMs);
  // After QUIT's reply this only drops the socket sooner; without it, it is the close.
  connection.disconnect();
}

/** Whether the promise settled (true) or `ms` passed first (false). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
