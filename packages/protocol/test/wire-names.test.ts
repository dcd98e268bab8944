import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The wire names issue #10 wants spelled once, in protocol (wire.ts,
 * routes/headers.ts): spelled anywhere else in code they can drift from the
 * table and the document. The headers as string literals, in any case;
 * `lastSeq` only as the query parameter (`?lastSeq=`, `searchParams.get("lastSeq")`),
 * because it is also a field of runs and snapshots. Comments may name them.
 */
const SPELLINGS = [
  /["'`](?:idempotency-key|last-event-id)["'`]/i,
  /[?&]lastSeq=|\.(?:get|getAll|has|set|append|delete)\(\s*["'`]lastSeq["'`]/,
];
const COMMENT = /^\s*(?:\*|\/\/|\/\*)/;

/** The one file allowed to spell them: the SDK's generated copy of the table. */
const ALLOWED = new Set(["packages/client/src/internal/routes.ts"]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("wire names", () => {
  it("are spelled in code only in protocol", () => {
    const spelled = ["client", "server", "cli"]
      .flatMap((pkg) => sources(join(root, "packages", pkg, "src")))
      .map((path) => relative(root, path))
      .filter((path) => !ALLOWED.has(path))
      .flatMap((path) =>
        readFileSync(join(root, path), "utf8")
          .split("\n")
          .flatMap((line, i) =>
            !COMMENT.test(line) && SPELLINGS.some((spelling) => spelling.test(line)) ? [`${path}:${i + 1}: ${line.trim()}`] : [],
          ),
      );
    expect(spelled).toEqual([]);
  });
});
