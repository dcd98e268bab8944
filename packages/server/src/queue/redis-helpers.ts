import type { Redis } from "ioredis";
import { settlesWithin } from "../bus/redis-connection.js";

/**
 * Moves the items of a processing list back to the shared queue, except
 * the ones listed in ARGV (still in flight on a live worker; a multiset).
 * One script, so an item is never in both lists or in neither, even if the
 * caller dies halfway. The newest is pushed first, so the oldest is taken
 * first again (workers take from the RIGHT end).
 * KEYS[1]: processing list, KEYS[2]: queue. Returns how many moved.
 */
export const REQUEUE_SCRIPT = `
local keep = {}
for _, id in ipairs(ARGV) do keep[id] = (keep[id] or 0) + 1 end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local moved = 0
for i = 1, #items do
  local id = items[i]
  if (keep[id] or 0) > 0 then
    keep[id] = keep[id] - 1
  else
    redis.call('LREM', KEYS[1], 1, id)
    redis.call('RPUSH', KEYS[2], id)
    moved = moved + 1
  end
end
return moved
`;

/**
 * Ends the worker loop. CLIENT UNBLOCK makes a pending BLMOVE return nil
 * with nothing moved; it is repeated because it may reach Redis before the
 * BLMOVE does (another connection). A disconnect is the fallback when Redis
 * cannot be reached: then no BLMOVE can be pending on the server either.
 */
export async function interrupt(cmd: Redis, block: Redis, loop: Promise<void>, blockId: () => number | undefined): Promise<void> {
  for (let attempt = 0; attempt < 20 && block.status === "ready"; attempt++) {
    const id = blockId();
    if (id !== undefined) cmd.client("UNBLOCK", id).catch(() => undefined);
    if (await settlesWithin(loop, 100)) return;
  }
  block.disconnect();
  // The loop may be waiting on `cmd` for a Redis that is gone: closing `cmd` ends that wait.
  await settlesWithin(loop, cmd.status === "ready" ? 2_000 : 0);
}

/** Rejects if the connection drops first: without resend, ioredis would leave the promise pending forever. */
export function failOnClose<T>(connection: Redis, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onClose = () => reject(new Error("redis connection lost during a blocking command"));
    connection.once("close", onClose);
    promise.then(resolve, reject).finally(() => connection.off("close", onClose));
  });
}

export function call(handler: (runId: string) => Promise<void>, runId: string): Promise<void> {
  try {
    return handler(runId);
  } catch (error) {
    return Promise.reject(error);
  }
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
