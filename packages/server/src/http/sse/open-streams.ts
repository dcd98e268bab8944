import type { ServerResponse } from "node:http";

/** A stream being served: how to end it, and its response (to know when what it wrote is out). */
export interface OpenStream {
  end(): void;
  res: ServerResponse;
}

/**
 * Ends every open stream (without a terminal event: their clients resume from
 * their cursor elsewhere) and waits, at most `waitMs`, until each response's
 * bytes are handed to the kernel. Destroying the connections at once could
 * drop frames still queued in the process: under load a shutdown test saw
 * a stream lose the run's last event that way.
 */
export async function endStreams(open: Set<OpenStream>, waitMs: number): Promise<void> {
  const flushed = [...open].map(
    ({ end, res }) =>
      new Promise<void>((resolve) => {
        if (res.writableFinished || res.destroyed) return resolve();
        res.once("finish", resolve);
        res.once("close", resolve);
        end();
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(flushed), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
