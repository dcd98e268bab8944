import { appendFileSync } from "node:fs";
import { join } from "node:path";

/*
 * Test-only hooks of the suite-wide log check (issue #12: "after the whole
 * suite, the logs contain 0 occurrences of any key made during it"; the
 * check is test/hygiene/suite-logs.ts). Both are off unless their
 * environment variable is set, which only the test suite does: then every
 * key made is appended to AGENTD_TEST_KEY_LOG, and every line any logger
 * writes (at info at least, whatever its level, silent included) to a file
 * of this process in AGENTD_TEST_LOG_DIR. Never set them in production: the
 * first writes keys down in the clear. Read once, at load.
 */
const KEY_LOG = process.env.AGENTD_TEST_KEY_LOG;
const LOG_DIR = process.env.AGENTD_TEST_LOG_DIR;

/** Records a key just made (test suite only). */
export function captureTestKey(key: string): void {
  if (KEY_LOG) appendFileSync(KEY_LOG, `${key}\n`);
}

/** Whether log lines are captured: then loggers log at info at least, and hand each line to `captureTestLogLine`. */
export const capturingTestLogs = Boolean(LOG_DIR);

/** Appends one log line to this process's capture file (test suite only; a test module may be loaded many times per process, so no descriptor is kept). */
export function captureTestLogLine(line: string): void {
  if (LOG_DIR) appendFileSync(join(LOG_DIR, `log-${process.pid}.jsonl`), line.endsWith("\n") ? line : `${line}\n`);
}
