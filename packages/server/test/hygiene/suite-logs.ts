import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyShape } from "../../src/auth/key-format.js";

/**
 * Issue #12, "after the whole suite, the logs contain 0 occurrences of any
 * key made during it; an error body never echoes a key": vitest's global
 * setup (vitest.config.ts). Before any test it points the capture variable
 * at a fresh directory; the test processes inherit it (src/test-capture.ts:
 * every log line of every logger at info at least, silent ones included;
 * test/hygiene/capture.ts: error bodies, spawned CLIs' output). After the
 * last test it searches everything captured for a key, and throws if one is
 * found, which fails `vitest run`. A key is recognised by its checksum
 * (auth/key-format.ts), so no list of the keys made is needed: nothing,
 * test build or not, ever writes a key down for this check.
 */
const KEY_SHAPED = /agd_[0-9A-Za-z]{32,38}/g;

/** The keys in a line: whole ones, checksum right (a display prefix `agd_AbCd…` is meant to be shown; noise is not a key). */
export function keysIn(line: string): string[] {
  return [...line.matchAll(KEY_SHAPED)].map(([found]) => found).filter((found) => keyShape(found) === "current");
}

let dir = "";

export function setup(): void {
  dir = mkdtempSync(join(tmpdir(), "agentd-suite-logs-"));
  process.env.AGENTD_TEST_LOG_DIR = dir;
}

export function teardown(): void {
  const leaks: string[] = [];
  const searched = { files: 0, lines: 0 };
  for (const file of readdirSync(dir)) {
    searched.files++;
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      searched.lines++;
      for (const found of keysIn(line)) {
        leaks.push(`${file}:${i + 1}: ${line.replaceAll(found, `${found.slice(0, 8)}<key>`).slice(0, 300)}`);
      }
    });
  }
  console.log(`suite log check: ${searched.lines} lines in ${searched.files} files searched; ${leaks.length} with a key`);
  if (leaks.length > 0) {
    // Kept for a look; the error names where.
    throw new Error(`suite log check: ${leaks.length} captured lines hold a key (in ${dir}):\n${leaks.slice(0, 20).join("\n")}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
