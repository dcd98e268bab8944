/**
 * `agentd keys list` and `agentd keys revoke` (issue #8): the real binary
 * against the store, offline, on SQLite (a data directory) and PostgreSQL
 * (DATABASE_URL, AGENTD_DB_SCHEMA); a revoked key is refused by a running
 * server within about a second. Needs the build (`npm test` builds first).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { captureCli, captureEnv } from "../../server/test/hygiene/capture.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "packages/cli/bin/agentd.js");
if (!existsSync(join(root, "packages/cli/dist/bin.js")))
  throw new Error("packages/cli/dist is missing: run `npm run build` (npm test does it)");

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", ...captureEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      captureCli(args, stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `keys create`, returning the key and its id. */
async function create(args: string[], env: Record<string, string> = {}): Promise<{ key: string; id: string }> {
  const created = await cli(["keys", "create", ...args], env);
  expect(created.code, created.stderr).toBe(0);
  return { key: created.stdout.trim(), id: /Created API key (key_\w+)/.exec(created.stderr)![1]! };
}

const jsonLines = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "agentd-cli-keys-"));
  dirs.push(dir);
  return dir;
}

describe("agentd keys list / revoke on SQLite", () => {
  it("lists keys newest first as a table or JSON lines, never the key or its hash; --workspace filters", async () => {
    const data = dataDir();
    const first = await create([
      "--workspace",
      "acme",
      "--name",
      "ci bot",
      "--scopes",
      "runs:read, runs:write",
      "--agents",
      "support",
      "--data",
      data,
    ]);
    const second = await create(["--workspace", "globex", "--data", data]);

    const table = await cli(["keys", "list", "--data", data]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+WORKSPACE\s+NAME\s+PREFIX\s+SCOPES\s+AGENTS\s+CREATED\s+EXPIRES\s+REVOKED$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      [
        second.id,
        "globex",
        "default",
        `${second.key.slice(0, 8)}…`,
        "*",
        "*",
        expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        "-",
        "-",
      ],
      [first.id, "acme", "ci bot", `${first.key.slice(0, 8)}…`, "runs:read,runs:write", "support", expect.any(String), "-", "-"],
    ]);

    const json = await cli(["keys", "list", "--json", "--data", data]);
    expect(json.code).toBe(0);
    const listed = jsonLines(json.stdout);
    expect(listed).toEqual([
      {
        id: second.id,
        workspace: "globex",
        workspaceId: expect.stringMatching(/^ws_/),
        name: "default",
        displayPrefix: second.key.slice(0, 8),
        scopes: ["*"],
        agents: [],
        expiresAt: null,
        limits: {},
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      },
      {
        id: first.id,
        workspace: "acme",
        workspaceId: expect.stringMatching(/^ws_/),
        name: "ci bot",
        displayPrefix: first.key.slice(0, 8),
        scopes: ["runs:read", "runs:write"],
        agents: ["support"],
        expiresAt: null,
        limits: {},
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    for (const output of [table.stdout, json.stdout]) {
      expect(output).not.toContain(first.key);
      expect(output).not.toMatch(/[0-9a-f]{64}/); // no hash
    }

    const acme = await cli(["keys", "list", "--workspace", "acme", "--json", "--data", data]);
    expect(jsonLines(acme.stdout).map((key) => key.id)).toEqual([first.id]);
    const missing = await cli(["keys", "list", "--workspace", "nope", "--data", data]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('agentd: workspace "nope" not found\n');
    expect(await cli(["keys", "list", "--data", dataDir()])).toEqual({ code: 0, stdout: "no keys\n", stderr: "" });
  });

  it("refuses bad --scopes, --agents and --expires-at flags before touching the store, naming the flag (exit 2)", async () => {
    const data = dataDir();
    for (const [flags, named] of [
      [["--scopes", "runs:everything"], "--scopes"],
      [["--scopes", "runs:read,runs:read"], "--scopes"],
      [["--agents", ","], "--agents"],
      [["--expires-at", "tomorrow"], "--expires-at"],
      [["--expires-at", "2001-01-01T00:00:00Z"], "--expires-at"],
    ] as const) {
      const refused = await cli(["keys", "create", ...flags, "--data", data]);
      expect(refused.code, flags.join(" ")).toBe(2);
      expect(refused.stderr, flags.join(" ")).toContain(named);
    }
    expect(await cli(["keys", "list", "--data", data])).toMatchObject({ code: 0, stdout: "no keys\n" });
  });

  it("revokes a key: a running server refuses it within 1.1 s; again is fine; an unknown id exits 3", async () => {
    const data = dataDir();
    const { createServer, createLogger } = await import("@agentd/server");
    const server = await createServer({ dataDir: data, logger: createLogger("silent"), env: {} });
    const { url } = await server.listen(0);
    try {
      const doomed = await create(["--workspace", "acme", "--name", "doomed", "--data", data]);
      const kept = await create(["--workspace", "acme", "--data", data]);
      const status = async (key: string) =>
        (await fetch(`${url}/api/v1/workspaces/acme/models`, { headers: { authorization: `Bearer ${key}` } })).status;
      expect(await status(doomed.key)).toBe(200);

      const revoked = await cli(["keys", "revoke", doomed.id, "--data", data]);
      const since = Date.now();
      expect(revoked).toEqual({
        code: 0,
        stdout: `Revoked API key ${doomed.id} (workspace "acme", name "doomed"). Servers refuse it within a second.\n`,
        stderr: "",
      });
      let refused = await status(doomed.key);
      while (refused === 200 && Date.now() - since < 3_000) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        refused = await status(doomed.key);
      }
      expect(refused).toBe(401);
      expect(Date.now() - since).toBeLessThanOrEqual(1_100);
      expect(await status(kept.key)).toBe(200);

      const again = await cli(["keys", "revoke", doomed.id, "--data", data]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        new RegExp(`^API key ${doomed.id} \\(workspace "acme", name "doomed"\\) was already revoked at \\d{4}-.+Z\\.\\n$`),
      );
      const listed = jsonLines((await cli(["keys", "list", "--json", "--data", data])).stdout);
      expect(listed.find((key) => key.id === doomed.id)?.revokedAt).toEqual(expect.stringMatching(/Z$/));
      expect(listed.find((key) => key.id === kept.id)?.revokedAt).toBeNull();

      const unknown = await cli(["keys", "revoke", "key_missing", "--data", data]);
      expect(unknown.code).toBe(3);
      expect(unknown.stdout).toBe("");
      expect(unknown.stderr).toBe(`agentd: no API key with id "key_missing" (data: ${data}); see \`agentd keys list\`\n`);
      expect((await cli(["keys", "revoke", "--data", data])).code).toBe(2);
    } finally {
      await server.close();
    }
  }, 30_000);
});

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const pgUp = await new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 })
  .connect()
  .then((client) => client.end().then(() => true))
  .catch(() => false);
if (!pgUp) console.warn(`agentd keys on PostgreSQL SKIPPED: no PostgreSQL at ${databaseUrl}`);

describe.skipIf(!pgUp)("agentd keys list / revoke on PostgreSQL", () => {
  const schema = `agentd_test_${randomBytes(5).toString("hex")}`;
  afterAll(async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("works from DATABASE_URL and AGENTD_DB_SCHEMA, with no data directory", async () => {
    const env = { DATABASE_URL: databaseUrl, AGENTD_DB_SCHEMA: schema, HOME: tmpdir() };
    const made = await create(["--workspace", "pg", "--name", "ops"], env);
    expect(jsonLines((await cli(["keys", "list", "--json"], env)).stdout)).toEqual([
      expect.objectContaining({ id: made.id, workspace: "pg", name: "ops", revokedAt: null }),
    ]);
    const revoked = await cli(["keys", "revoke", made.id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API key ${made.id}`);
    expect(jsonLines((await cli(["keys", "list", "--json", "--workspace", "pg"], env)).stdout)[0]?.revokedAt).toEqual(expect.any(String));
    const unknown = await cli(["keys", "revoke", "key_missing"], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^agentd: no API key with id "key_missing" \(database: postgres:\/\/.+\); see `agentd keys list`\n$/);
  }, 30_000);
});
