import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TERMINAL_EVENT_TYPES } from "@agentd/protocol";
import { describe, expect, it } from "vitest";

/**
 * engine/endings.ts is the one place a terminal event is written (issue #10):
 * every other room ends a run by calling finish() or finishCancelled(). A
 * terminal event emitted anywhere else would skip the rule end() keeps
 * (one terminal event, committed with the final state and the session's
 * release), so this fails the moment one appears.
 */
describe("the engine's endings", () => {
  it("only engine/endings.ts spells a terminal event type in the server's sources", () => {
    const src = fileURLToPath(new URL("../../src/", import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
    const spelling = new RegExp(`type: "(${[...TERMINAL_EVENT_TYPES].join("|")})"`);
    const writers = files.filter((file) => spelling.test(readFileSync(`${src}${file}`, "utf8")));
    expect(writers).toEqual(["engine/endings.ts"]);
  });
});
