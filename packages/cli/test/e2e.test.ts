/**
 * End to end: the real `agentd` binary (packages/cli/bin/agentd.js) against a
 * real server started in-process on port 0. Needs the build (`npm test`
 * builds first); without it the suite fails, it does not skip.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

function cli(
  args: string[],
  env: Record<string, string>,
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", ...captureEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      captureCli(args, stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("agentd CLI end to end", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentd-cli-e2e-"));
  let server: { close(): Promise<void> } | undefined;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const { createServer, createApiKey } = await import("@agentd/server");
    const app = await createServer({
      dataDir,
      config: { agents: { assistant: { systemPrompt: "You are a helpful assistant." } } },
      env: {},
    });
    server = app;
    const { url } = await app.listen(0, "127.0.0.1");
    const { key } = await createApiKey(app.store, { workspace: "default", name: "e2e" });
    env = { AGENTD_URL: url, AGENTD_API_KEY: key, AGENTD_WORKSPACE: "default" };
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a named agent, plain and streaming", async () => {
    const plain = await cli(["run", "assistant", "-m", "Hello"], env);
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().length).toBeGreaterThan(0);

    const streamed = await cli(["run", "assistant", "-m", "Hello", "--stream"], env);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout.trim()).toBe(plain.stdout.trim());

    const json = await cli(["run", "--system", "Be brief.", "-m", "Hello", "--json"], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "completed", subtype: "success" });
  });

  it("lists models, the mock marked as such", async () => {
    const result = await cli(["models", "--json"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).models.some((model: { mock?: boolean }) => model.mock)).toBe(true);
  });

  it("creates a key next to a running server, usable at once", async () => {
    const created = await cli(["keys", "create", "--workspace", "default", "--name", "second", "--data", dataDir], {});
    expect(created.code).toBe(0);
    const key = created.stdout.trimEnd().split("\n").at(-1) ?? "";
    expect(key).toMatch(/^agd_/);
    expect((await cli(["models"], { ...env, AGENTD_API_KEY: key })).code).toBe(0);
  });

  it("fails clearly without a key or with a wrong one", async () => {
    const missing = await cli(["run", "assistant", "-m", "Hi"], { AGENTD_URL: env.AGENTD_URL ?? "" });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("agentd keys create --workspace default");
    const wrong = await cli(["models"], { ...env, AGENTD_API_KEY: "agd_wrong" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^agentd: /);
  });

  it("serve prints a first key and copy-paste commands that work, and exits 0 on SIGINT", async () => {
    const serveDir = mkdtempSync(join(tmpdir(), "agentd-serve-e2e-"));
    try {
      let banner = "";
      const exited = cli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", serveDir], { HOME: tmpdir() }, (text, child) => {
        if (!banner && text.includes("Press Ctrl-C")) {
          banner = text;
          const url = /listening on (\S+)/.exec(text)?.[1] ?? "";
          const key = /^ {2}(agd_\S+)$/m.exec(text)?.[1] ?? "";
          void cli(["run", "--system", "Be brief.", "-m", "Hello"], { AGENTD_URL: url, AGENTD_API_KEY: key }).then((run) => {
            banner += `\n[run exit ${run.code}]`;
            child.kill("SIGINT");
          });
        }
      });
      const result = await exited;
      expect(result.code).toBe(0);
      expect(banner).toContain("no OPENAI_API_KEY or ANTHROPIC_API_KEY was set");
      expect(banner).toContain("[run exit 0]");
    } finally {
      rmSync(serveDir, { recursive: true, force: true });
    }
  });

  it("rejects a bad port with exit code 2", async () => {
    const result = await cli(["serve", "--port", "70000"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("agentd: --port must be an integer 0-65535\n");
  });
});
