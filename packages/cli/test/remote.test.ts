/**
 * The CLI as a remote user installs it (STYLE.md: each package installs for
 * its own job): the real `agentd` binary with `@agentd/server` and the
 * database drivers made unloadable still lists, shows, tags and runs
 * registry agents and reads traces over HTTP; only `serve` needs the
 * server. Needs the build (`npm test` builds first).
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveServer, type LiveServer } from "./live-server.js";
import { captureCli, captureEnv } from "../../server/test/hygiene/capture.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "packages/cli/bin/agentd.js");
if (!existsSync(join(root, "packages/cli/dist/bin.js")))
  throw new Error("packages/cli/dist is missing: run `npm run build` (npm test does it)");

const BLOCKED = ["@agentd/server", "better-sqlite3", "pg", "ioredis"];

let server: LiveServer;
let env: Record<string, string>;
let blocker: string;

beforeAll(async () => {
  server = await liveServer({ agents: { assistant: { systemPrompt: "You help." } } });
  env = server.env;
  // A resolve hook refusing the server and the drivers, as if they were not installed.
  const hooks = join(server.dir, "hooks.mjs");
  writeFileSync(
    hooks,
    `const blocked = ${JSON.stringify(BLOCKED)};
export async function resolve(specifier, context, next) {
  if (blocked.includes(specifier)) throw Object.assign(new Error("Cannot find package '" + specifier + "' (blocked by the test)"), { code: "ERR_MODULE_NOT_FOUND" });
  return next(specifier, context);
}\n`,
  );
  blocker = join(server.dir, "block.mjs");
  writeFileSync(blocker, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
});
afterAll(() => server.close());

function agentd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", pathToFileURL(blocker).href, bin, ...args], {
      env: { PATH: process.env.PATH ?? "", ...captureEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
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

describe("agentd without @agentd/server installed", () => {
  it("manages registry agents, runs one by tag and reads its trace", async () => {
    expect(await agentd(["agents", "create", "remote", "--system-prompt", "Be brief.", "--model", "mock"])).toMatchObject({
      code: 0,
      stderr: "",
    });
    expect(await agentd(["agents", "tag", "live", "remote"])).toMatchObject({ code: 0, stdout: "live → remote revision 1\n" });
    const run = await agentd(["run", "--tag", "live", "-m", "hello", "--json"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    expect(await agentd(["traces", "show", runId])).toMatchObject({ code: 0, stdout: expect.stringContaining("run remote") });
    expect(await agentd(["agents", "show", "nobody"])).toEqual({ code: 3, stdout: "", stderr: "agentd: agent nobody not found\n" });
  });

  it("says so when serve needs it (the blocker works)", async () => {
    const serve = await agentd(["serve", "--port", "0"]);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain("Cannot find package '@agentd/server' (blocked by the test)");
  });
});
