import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Issue #12, "after the whole suite, the logs contain 0 occurrences of any
 * key made during it; an error body never echoes a key": vitest's global
 * setup (vitest.config.ts). Before any test it points the capture variables
 * at a fresh directory; the test processes inherit them (src/test-capture.ts:
 * every key made, every log line of every logger at info at least, silent
 * ones included; test/hygiene/capture.ts: error bodies, spawned CLIs'
 * output). After the last test it searches everything captured for every
 * key made, and throws if one is found, which fails `vitest run`.
 */
const KEY_SHAPED = /agd_[0-9A-Za-z]{32,38}/g;

let dir = "";

export function setup(): void {
  dir = mkdtempSync(join(tmpdir(), "agentd-suite-logs-"));
  const keyLog = join(dir, "keys.txt");
  writeFileSync(keyLog, "");
  process.env.AGENTD_TEST_LOG_DIR = dir;
  process.env.AGENTD_TEST_KEY_LOG = keyLog;
}

export function teardown(): void {
  const keys = new Set(readFileSync(join(dir, "keys.txt"), "utf8").split("\n").filter(Boolean));
  const leaks: string[] = [];
  const searched = { files: 0, lines: 0 };
  for (const file of readdirSync(dir).filter((name) => name !== "keys.txt")) {
    searched.files++;
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      searched.lines++;
      for (const [found] of line.matchAll(KEY_SHAPED)) {
        // Only the whole key: its 8-character display prefix (`agd_AbCd…`) is meant to be shown.
        if (keys.has(found)) leaks.push(`${file}:${i + 1}: ${line.replaceAll(found, `${found.slice(0, 8)}<key>`).slice(0, 300)}`);
      }
    });
  }
  console.log(
    `suite log check: ${keys.size} keys made; ${searched.lines} lines in ${searched.files} files searched; ${leaks.length} with a key`,
  );
  if (leaks.length > 0) {
    // Kept for a look; the error names where.
    throw new Error(
      `suite log check: ${leaks.length} captured lines hold a key made during the suite (in ${dir}):\n${leaks.slice(0, 20).join("\n")}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}
