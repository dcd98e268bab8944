import { appendFileSync } from "node:fs";
import { join } from "node:path";

/*
 * The test-only hook of the suite-wide log check (issue #12: "after the
 * whole suite, the logs contain 0 occurrences of any key made during it";
 * the check is test/hygiene/suite-logs.ts, which finds keys by their
 * checksum). Off unless AGENTD_TEST_LOG_DIR is set, which only the test
 * suite does: then every line any logger writes (at info at least, whatever
 * its level, silent included) is also appended to a file of this process
 * there. Read once, at load.
 */
const LOG_DIR = process.env.AGENTD_TEST_LOG_DIR;

/** Whether log lines are captured: then loggers log at info at least, and hand each line to `captureTestLogLine`. */
export const capturingTestLogs = Boolean(LOG_DIR);

/** Appends one log line to this process's capture file (test suite only; a test module may be loaded many times per process, so no descriptor is kept). */
export function captureTestLogLine(line: string): void {
  if (LOG_DIR) appendFileSync(join(LOG_DIR, `log-${process.pid}.jsonl`), line.endsWith("\n") ? line : `${line}\n`);
}
