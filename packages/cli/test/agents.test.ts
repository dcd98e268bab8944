/**
 * `agentd agents ...` (issue #11) against a real server in-process: each
 * command's output and exit code, and its error cases (an unknown agent,
 * revision or tag exits 3; bad flags exit 2 naming the flag).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveServer, withoutTimes, type LiveServer } from "./live-server.js";

let server: LiveServer;
beforeAll(async () => {
  server = await liveServer({ agents: { assistant: { systemPrompt: "You are the config's assistant." } } });
});
afterAll(() => server.close());

const cli = (...argv: string[]) => server.cli(argv);
const jsonLines = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** A definition file in the test's directory. */
function file(name: string, content: unknown): string {
  writeFileSync(join(server.dir, name), typeof content === "string" ? content : JSON.stringify(content));
  return name;
}

const definition = {
  systemPrompt: "You answer support questions.\nBriefly.",
  modelId: "mock",
  modelParams: { temperature: 0.2, maxTokens: 256 },
  tools: [{ kind: "local", name: "lookup_order", description: "Find an order" }],
  outputSchema: { type: "object", properties: { answer: { type: "string" } } },
  budgets: { maxToolTurns: 4 },
};

describe("agentd agents create and show", () => {
  it("creates an agent from flags and shows its definition", async () => {
    expect(await cli("agents", "create", "greeter", "--system-prompt", "Say hello.", "--name", "Greeter")).toEqual({
      code: 0,
      stdout: "created agent greeter at revision 1\n",
      stderr: "",
    });
    const shown = await cli("agents", "show", "greeter");
    expect(shown.code).toBe(0);
    expect(withoutTimes(shown.stdout)).toBe(
      [
        "agent       greeter (registry)",
        "name        Greeter",
        "description -",
        "revision    1 of 1, created YYYY-MM-DDThh:mm:ssZ",
        "tags        -",
        "created     YYYY-MM-DDThh:mm:ssZ",
        "model       - (the server's default)",
        "params      -",
        "budgets     -",
        "tools       -",
        "",
        "system prompt:",
        "  Say hello.",
        "",
      ].join("\n"),
    );
  });

  it("creates from a JSON file (flags over it) and shows prompt, model, params, tools, output schema and budgets", async () => {
    const created = await cli("agents", "create", "support", "--file", file("support.json", definition), "--description", "Support desk");
    expect(created).toMatchObject({ code: 0, stdout: "created agent support at revision 1\n" });
    const shown = await cli("agents", "show", "support");
    expect(withoutTimes(shown.stdout)).toBe(
      [
        "agent       support (registry)",
        "name        -",
        "description Support desk",
        "revision    1 of 1, created YYYY-MM-DDThh:mm:ssZ",
        "tags        -",
        "created     YYYY-MM-DDThh:mm:ssZ",
        "model       mock",
        "params      temperature=0.2, maxTokens=256",
        "budgets     maxToolTurns=4",
        "tools       lookup_order (local)",
        "",
        "output schema:",
        "  {",
        '    "type": "object",',
        '    "properties": {',
        '      "answer": {',
        '        "type": "string"',
        "      }",
        "    }",
        "  }",
        "",
        "system prompt:",
        "  You answer support questions.",
        "  Briefly.",
        "",
      ].join("\n"),
    );
    const json = await cli("agents", "show", "support", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: "support",
      source: "registry",
      latestRevision: 1,
      revision: 1,
      definition,
      tags: [],
    });
  });

  it("shows a config agent as read-only, without revisions", async () => {
    const shown = await cli("agents", "show", "assistant");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("agent       assistant (config)\n");
    expect(shown.stdout).toContain("revision    - (a config agent: read-only, defined in the server's config file)\n");
    const revisions = await cli("agents", "revisions", "assistant");
    expect(revisions).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^agentd: agent assistant is defined in the server's config file: it has no revisions/),
    });
  });

  it("exits 3 for an unknown agent or revision, 2 for a bad --revision", async () => {
    expect(await cli("agents", "show", "nobody")).toEqual({ code: 3, stdout: "", stderr: "agentd: agent nobody not found\n" });
    expect(await cli("agents", "show", "greeter", "--revision", "7")).toEqual({
      code: 3,
      stdout: "",
      stderr: "agentd: revision 7 of agent greeter not found\n",
    });
    const bad = await cli("agents", "show", "greeter", "--revision", "first");
    expect(bad).toEqual({ code: 2, stdout: "", stderr: 'agentd: --revision expects a revision number (1, 2, ...), got "first"\n' });
  });

  it("refuses what cannot be created, saying why", async () => {
    expect(await cli("agents", "create", "greeter", "--system-prompt", "again")).toEqual({
      code: 1,
      stdout: "",
      stderr: "agentd: agent greeter already exists\n",
    });
    expect(await cli("agents", "create", "assistant", "--system-prompt", "x")).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("read-only"),
    });
    expect(await cli("agents", "create", "nothing")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^agentd: an agent needs a system prompt/),
    });
    expect(await cli("agents", "create", "typo", "--file", file("typo.json", { systemPrompt: "x", temprature: 1 }))).toEqual({
      code: 1,
      stdout: "",
      stderr: "agentd: temprature: unknown field\n",
    });
    const cases: Array<[string, string | unknown, RegExp]> = [
      ["agent.yaml", "systemPrompt: x", /^agentd: --file: agent\.yaml: YAML is not read/],
      ["broken.json", "{", /^agentd: --file: broken\.json is not valid JSON/],
      ["list.json", [1], /^agentd: --file: list\.json must hold a JSON object/],
      ["other.json", { id: "other", systemPrompt: "x" }, /^agentd: --file: other\.json is for agent "other", not "mine"/],
    ];
    for (const [name, content, message] of cases) {
      const result = await cli("agents", "create", "mine", "--file", file(name, content));
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toMatch(message);
    }
    expect(await cli("agents", "create", "mine", "--file", "missing.json")).toEqual({
      code: 2,
      stdout: "",
      stderr: "agentd: --file: cannot read missing.json: ENOENT\n",
    });
    expect(await cli("agents", "show", "mine")).toMatchObject({ code: 3 });
  });
});

describe("agentd agents revise and revisions", () => {
  it("adds a revision from a file, or from the latest with one field changed; lists them newest first", async () => {
    await cli("agents", "create", "writer", "--system-prompt", "Write.", "--model", "mock");
    expect(
      await cli(
        "agents",
        "revise",
        "writer",
        "--file",
        file("writer.json", { systemPrompt: "Write well.", modelId: "mock", budgets: { maxToolTurns: 2 } }),
      ),
    ).toEqual({
      code: 0,
      stdout: "added revision 2 of agent writer\n",
      stderr: "",
    });
    expect(await cli("agents", "revise", "writer", "--model", "provider:mock:mock")).toMatchObject({
      code: 0,
      stdout: "added revision 3 of agent writer\n",
    });
    const third = await server.client.registry.getRevision("writer", 3);
    expect(third.definition).toEqual({ systemPrompt: "Write well.", modelId: "provider:mock:mock", budgets: { maxToolTurns: 2 } });

    await server.client.registry.putTag("writer-live", { agentId: "writer", revision: 2 });
    const listed = await cli("agents", "revisions", "writer");
    expect(withoutTimes(listed.stdout)).toBe(
      [
        "REVISION  CREATED               MODEL               TAGS         PROMPT",
        "3         YYYY-MM-DDThh:mm:ssZ  provider:mock:mock  -            Write well.",
        "2         YYYY-MM-DDThh:mm:ssZ  mock                writer-live  Write well.",
        "1         YYYY-MM-DDThh:mm:ssZ  mock                -            Write.",
        "",
      ].join("\n"),
    );
    expect(jsonLines((await cli("agents", "revisions", "writer", "--json")).stdout).map((revision) => revision.revision)).toEqual([
      3, 2, 1,
    ]);
    const limited = await cli("agents", "revisions", "writer", "--limit", "2");
    expect(limited.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(limited.stderr).toBe("(showing the newest 2; use --limit to see more)\n");
  });

  it("shows an older revision's definition with --revision", async () => {
    const shown = await cli("agents", "show", "writer", "--revision", "1");
    expect(shown.stdout).toMatch(/^revision {4}1 of 3, created /m);
    expect(shown.stdout).toContain("\nsystem prompt:\n  Write.\n");
    expect(JSON.parse((await cli("agents", "show", "writer", "--revision", "1", "--json")).stdout)).toMatchObject({
      revision: 1,
      latestRevision: 3,
      definition: { systemPrompt: "Write.", modelId: "mock" },
    });
  });

  it("revises from what show --json exported, round trip", async () => {
    const exported = await cli("agents", "show", "writer", "--revision", "2", "--json");
    expect(await cli("agents", "revise", "writer", "--file", file("exported.json", exported.stdout))).toMatchObject({
      code: 0,
      stdout: "added revision 4 of agent writer\n",
    });
    expect((await server.client.registry.getRevision("writer", 4)).definition).toEqual(
      (await server.client.registry.getRevision("writer", 2)).definition,
    );
  });

  it("exits 3 for an unknown agent, 2 when the revision says nothing or carries the agent's labels", async () => {
    expect(await cli("agents", "revise", "nobody", "--model", "mock")).toEqual({
      code: 3,
      stdout: "",
      stderr: "agentd: agent nobody not found\n",
    });
    expect(await cli("agents", "revise", "nobody", "--file", file("nobody.json", { systemPrompt: "x" }))).toMatchObject({ code: 3 });
    expect(await cli("agents", "revisions", "nobody")).toEqual({ code: 3, stdout: "", stderr: "agentd: agent nobody not found\n" });
    expect(await cli("agents", "revise", "writer")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^agentd: say what the new revision changes: --file/),
    });
    const labelled = await cli("agents", "revise", "writer", "--file", file("labelled.json", { systemPrompt: "x", name: "Writer" }));
    expect(labelled).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^agentd: --file: name belong to the agent, not to a revision/),
    });
    expect(await cli("agents", "revise", "writer", "--name", "x")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown option '--name'"),
    });
  });
});

describe("agentd agents tag, tags, untag", () => {
  it("sets a tag, moves it (saying where it was), defaults to the latest revision, lists and deletes it", async () => {
    await cli("agents", "create", "tagged", "--system-prompt", "One.");
    await server.client.registry.addRevision("tagged", { systemPrompt: "Two." });
    expect(await cli("agents", "tag", "production", "tagged", "1")).toEqual({
      code: 0,
      stdout: "production → tagged revision 1\n",
      stderr: "",
    });
    expect(await cli("agents", "tag", "production", "tagged")).toEqual({
      code: 0,
      stdout: "production → tagged revision 2 (was tagged revision 1)\n",
      stderr: "",
    });
    expect(await cli("agents", "tag", "staging", "tagged", "1")).toMatchObject({ code: 0 });

    const listed = await cli("agents", "tags", "--agent", "tagged");
    expect(withoutTimes(listed.stdout)).toBe(
      [
        "TAG         AGENT   REVISION  UPDATED",
        "production  tagged  2         YYYY-MM-DDThh:mm:ssZ",
        "staging     tagged  1         YYYY-MM-DDThh:mm:ssZ",
        "",
      ].join("\n"),
    );
    expect(jsonLines((await cli("agents", "tags", "--agent", "tagged", "--json")).stdout)).toMatchObject([
      { tag: "production", agentId: "tagged", revision: 2 },
      { tag: "staging" },
    ]);
    expect((await cli("agents", "show", "tagged")).stdout).toContain("tags        production → 2, staging → 1\n");

    expect(await cli("agents", "untag", "staging")).toEqual({ code: 0, stdout: "deleted tag staging\n", stderr: "" });
    expect(await cli("agents", "untag", "staging")).toEqual({ code: 3, stdout: "", stderr: "agentd: tag staging not found\n" });
    expect((await cli("agents", "tags", "--agent", "nobody")).stdout).toBe(
      "no tags: set one with agentd agents tag <tag> <agentId> [revision]\n",
    );
  });

  it("exits 3 for an unknown agent or revision, 2 for a bad revision argument, 1 for a config agent", async () => {
    expect(await cli("agents", "tag", "production", "nobody", "1")).toMatchObject({ code: 3, stdout: "" });
    expect(await cli("agents", "tag", "production", "nobody")).toEqual({ code: 3, stdout: "", stderr: "agentd: agent nobody not found\n" });
    expect(await cli("agents", "tag", "production", "tagged", "9")).toEqual({
      code: 3,
      stdout: "",
      stderr: "agentd: agent tagged has no revision 9\n",
    });
    expect(await cli("agents", "tag", "production", "tagged", "0")).toEqual({
      code: 2,
      stdout: "",
      stderr: 'agentd: <revision> expects a revision number (1, 2, ...), got "0"\n',
    });
    expect(await cli("agents", "tag", "production", "assistant")).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("only registry agents can be tagged"),
    });
    expect(await cli("agents", "tag", "production")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("missing required argument 'agentId'"),
    });
  });
});

describe("agentd agents list and delete", () => {
  it("lists config agents first, then registry agents newest first; --json and --limit", async () => {
    const listed = await cli("agents", "list");
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +SOURCE +REVISION +MODEL +TAGS +NAME$/);
    expect(lines[1]).toMatch(/^assistant +config +- +\(default\) +-$/);
    expect(lines.slice(2).map((line) => line.split(/ +/)[0])).toEqual(["tagged", "writer", "support", "greeter"]);
    expect(lines.find((line) => line.startsWith("tagged"))).toMatch(/^tagged +registry +2 +\(default\) +production@2$/);
    expect(lines.find((line) => line.startsWith("greeter"))).toMatch(/ Greeter$/);
    expect(jsonLines((await cli("agents", "list", "--json")).stdout).map((agent) => agent.id)).toEqual([
      "assistant",
      "tagged",
      "writer",
      "support",
      "greeter",
    ]);
    const limited = await cli("agents", "list", "--limit", "2");
    expect(limited.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(limited.stderr).toBe("(showing the first 2; use --limit to see more)\n");
    expect(await cli("agents", "list", "--limit", "none")).toEqual({
      code: 2,
      stdout: "",
      stderr: 'agentd: --limit expects a number from 1 to 10000, got "none"\n',
    });
  });

  it("deletes an agent and its tags; exits 3 for an unknown one, 1 for a config agent", async () => {
    expect(await cli("agents", "delete", "tagged")).toEqual({ code: 0, stdout: "deleted agent tagged and its tags\n", stderr: "" });
    expect(await cli("agents", "show", "tagged")).toMatchObject({ code: 3 });
    expect((await cli("agents", "tags", "--agent", "tagged")).stdout).toMatch(/^no tags/);
    expect(await cli("agents", "delete", "tagged")).toEqual({ code: 3, stdout: "", stderr: "agentd: agent tagged not found\n" });
    expect(await cli("agents", "delete", "assistant")).toMatchObject({ code: 1, stderr: expect.stringContaining("read-only") });
  });

  it("has help for the group and each command", async () => {
    const help = await cli("agents", "--help");
    expect(help.code).toBe(0);
    for (const command of ["list", "show", "create", "revise", "revisions", "delete", "tag", "tags", "untag"])
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    const show = await cli("agents", "show", "--help");
    expect(show).toMatchObject({ code: 0, stdout: expect.stringContaining("--revision <n>") });
  });
});

describe("agentd run with the registry", () => {
  it("runs by --tag, or by agent and --revision, and the run records which", async () => {
    await cli("agents", "create", "echo", "--system-prompt", "First.", "--model", "mock");
    await server.client.registry.addRevision("echo", { systemPrompt: "Second.", modelId: "mock" });
    await server.client.registry.putTag("echo-live", { agentId: "echo", revision: 1 });

    const tagged = await cli("run", "--tag", "echo-live", "-m", "hi", "--json");
    expect(tagged.code).toBe(0);
    const byTag = await server.client.runs.get(JSON.parse(tagged.stdout).runId);
    expect(byTag).toMatchObject({ agentId: "echo", agentRevision: 1, agentTag: "echo-live" });
    expect((await cli("runs", "get", byTag.id)).stdout).toContain("agent    echo revision 1 (tag echo-live)\n");

    const pinned = await cli("run", "--agent", "echo", "--revision", "1", "-m", "hi", "--json");
    expect(await server.client.runs.get(JSON.parse(pinned.stdout).runId)).toMatchObject({ agentRevision: 1, agentTag: null });
    const latest = await cli("run", "echo", "-m", "hi", "--json");
    expect(await server.client.runs.get(JSON.parse(latest.stdout).runId)).toMatchObject({ agentRevision: 2 });
  });

  it("exits 3 for an unknown tag, agent or revision, 2 for agents named two ways", async () => {
    expect(await cli("run", "--tag", "no-such-tag", "-m", "hi")).toEqual({
      code: 3,
      stdout: "",
      stderr: "agentd: tag 'no-such-tag' not found\n",
    });
    expect(await cli("run", "nobody", "-m", "hi")).toMatchObject({ code: 3, stderr: expect.stringContaining("nobody") });
    expect(await cli("run", "echo", "--revision", "5", "-m", "hi")).toMatchObject({ code: 3 });
    const usage: Array<[string[], string]> = [
      [["--tag", "echo-live", "echo"], "agentd: name the agent one way: an agent and --tag were both given\n"],
      [["--tag", "echo-live", "--system", "x"], "agentd: name the agent one way: --tag and --system were both given\n"],
      [
        ["--tag", "echo-live", "--revision", "1"],
        "agentd: --revision needs an agent (agentd run <agent> --revision <n>); a tag already names its revision\n",
      ],
      [["echo", "--agent", "other"], 'agentd: name the agent once: got "echo" and --agent "other"\n'],
      [["echo", "--revision", "latest"], 'agentd: --revision expects a revision number (1, 2, ...), got "latest"\n'],
      [
        ["--session", "ses_1", "--tag", "echo-live"],
        "agentd: --tag cannot be used with --session: the session keeps the agent it was created with\n",
      ],
    ];
    for (const [argv, stderr] of usage)
      expect(await cli("run", "-m", "hi", ...argv), argv.join(" ")).toEqual({ code: 2, stdout: "", stderr });
  });
});
