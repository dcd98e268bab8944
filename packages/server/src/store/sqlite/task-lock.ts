/**
 * Housekeeping locks (Store.lockTask) for the embedded store. One process
 * executes runs from a database file (worker-lock.ts), so a lock within the
 * process is enough; it is keyed by the file, so two stores opened on one
 * file in one process (tests, an embedder) still take turns. `:memory:`
 * databases are each their own, keyed by their store.
 */
const held = new Set<string>();

export function lockTask(database: string, task: string): (() => Promise<void>) | undefined {
  const key = `${database}\0${task}`;
  if (held.has(key)) return undefined;
  held.add(key);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(key);
  };
}
