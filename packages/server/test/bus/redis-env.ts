import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** Shared by the Redis bus and queue tests. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether Redis answers at REDIS_URL; says so loudly when not, so a skip is never silent. */
export async function redisAvailable(suite: string): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause = "";
  probe.on("error", (error: Error) => (cause ||= error.message));
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    console.warn(
      `SKIPPED ${suite}: Redis does not answer at ${REDIS_URL} (${cause || (error as Error).message}). Start one or set REDIS_URL.`,
    );
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix no other test (file) uses. */
export function testPrefix(): string {
  return `agentd-test:${randomUUID().slice(0, 8)}:`;
}

export function adminClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
}

export async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** CLIENT KILLs the connections with this exact name; returns how many. */
export async function killClients(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client("LIST")) as string;
  const ids = list
    .split("\n")
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /^id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client("KILL", "ID", id);
  return ids.length;
}

/** The CLIENT LIST line of the connection with this name, if any. */
export async function clientInfo(admin: Redis, name: string): Promise<string | undefined> {
  const list = (await admin.client("LIST")) as string;
  return list.split("\n").find((line) => line.includes(` name=${name} `));
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
