/**
 * docs/api.md's endpoint table lists every route of the table, and nothing
 * the table does not have: a new route is documented where users look for
 * it, with what it takes, answers and refuses.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { API_PREFIX, ROUTES } from "@agentd/protocol";
import { describe, expect, it } from "vitest";

const doc = readFileSync(fileURLToPath(new URL("../../../docs/api.md", import.meta.url)), "utf8");
const section = doc.slice(doc.indexOf("## Endpoints"), doc.indexOf("### Starting a run"));

/** The table's rows as `METHOD /path` (workspace paths without their prefix, as the table writes them), with the row's cells. */
const rows = new Map(
  [...section.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \|(.*)$/gm)].map((match) => [
    `${match[1]} ${match[2]}`,
    match[3]!.split(" | "),
  ]),
);

describe("docs/api.md", () => {
  it("has a row for every route, and none for a route that does not exist", () => {
    const declared = ROUTES.map((route) => `${route.method} ${route.path.replace(`${API_PREFIX}/{workspace}`, "")}`);
    expect([...rows.keys()].sort()).toEqual([...declared].sort());
  });

  it("gives each row what the route does and its success; a route with errors of its own names them", () => {
    for (const route of ROUTES) {
      const key = `${route.method} ${route.path.replace(`${API_PREFIX}/{workspace}`, "")}`;
      const [what, success, errors] = rows.get(key) ?? [];
      expect(what?.trim(), key).not.toBe("");
      expect(success, key).toMatch(new RegExp(`^ ?${Object.keys(route.responses)[0]}\\b`));
      for (const status of "errors" in route ? (route.errors ?? []) : [])
        expect(errors, `${key} declares ${status}`).toContain(String(status));
    }
  });
});
