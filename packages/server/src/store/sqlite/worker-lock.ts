import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { AgentdError } from "../../errors.js";

/**
 * One agentd process executes runs from one database at a time, until runs
 * carry leases (issue #4): two processes would both pick up the same
 * unfinished runs at start. A lock file beside the database holds the
 * owner's pid; a file left by a process that is gone is taken over.
 * Other processes may still read and write the database (`agentd keys`).
 */
export function lockDataFile(dbFile: string): () => void {
  const path = `${dbFile}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8") === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(path, "utf8"));
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new AgentdError(
          "conflict",
          `another agentd process (pid ${owner}) is serving ${dbFile}; one process per data directory (several workers need PostgreSQL and leases)`,
        );
      }
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new AgentdError("conflict", `could not lock ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
