import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import { captureContext, fakeServerModule } from "./helpers.js";

async function serveUntilStarted(argv: string[], server: ReturnType<typeof fakeServerModule>, env: Record<string, string | undefined> = {}) {
  const io = captureContext({ env, loadServer: async () => server.module });
  const exit = main(["serve", ...argv], io.context);
  for (let i = 0; i < 100 && !io.stdout().includes("Ctrl-C"); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return { io, exit };
}

describe("agentd serve", () => {
  it("creates and prints the first key, explains the mock model, and stops cleanly on a signal", async () => {
    const server = fakeServerModule({ apiKeys: 0, agents: ["assistant", "support"] });
    const { io, exit } = await serveUntilStarted([], server);
    const out = io.stdout();
    expect(out).toContain("agentd is listening on http://127.0.0.1:7700");
    expect(out).toContain("store:     /data/.agentd");
    expect(out).toContain("config:    none");
    expect(out).toContain("model:     mock:default (default)");
    expect(out).toContain("no OPENAI_API_KEY or ANTHROPIC_API_KEY was set, so the built-in deterministic mock model answers");
    expect(out).toContain("agents:    assistant, support");
    expect(out).toContain("\n  agd_NEWKEY\n");
    expect(out).toContain(`-d '{"agentId":"assistant","prompt":"Hello"}'`);
    expect(out).toContain("'http://127.0.0.1:7700/api/v1/workspaces/default/agent-runs'");
    expect(out).toContain(`curl -sSN "http://127.0.0.1:7700/api/v1/workspaces/default/agent-runs/$RUN_ID/stream" -H 'Authorization: Bearer agd_NEWKEY'`);
    expect(out).toContain(`  AGENTD_API_KEY=agd_NEWKEY npx agentd run assistant -m "Hello"`);
    expect(server.created).toEqual([{ workspace: "default", name: "first-start" }]);
    expect(server.calls).toEqual(["listen 7700"]);

    io.abort();
    expect(await exit).toBe(0);
    expect(server.calls).toEqual(["listen 7700", "server.close"]);
  });

  it("uses a placeholder key when keys exist, PORT from the environment, and an inline agent when none is named", async () => {
    const server = fakeServerModule({ apiKeys: 3, agents: [], mock: false, configPath: "/etc/agentd.config.json" });
    const { io, exit } = await serveUntilStarted(["--host", "0.0.0.0", "--data", "/srv/agentd"], server, { PORT: "8080" });
    const out = io.stdout();
    expect(server.created).toEqual([]);
    expect(server.calls[0]).toBe("listen 8080 0.0.0.0");
    expect(out).toContain("Bearer <your key>");
    expect(out).toContain("agentd keys create --workspace default");
    expect(out).toContain("store:     /srv/agentd");
    expect(out).toContain("config:    /etc/agentd.config.json");
    expect(out).not.toContain("deterministic mock");
    expect(out).toContain(`"systemPrompt":"You are a helpful assistant."`);
    expect(out).toContain(`AGENTD_URL=http://127.0.0.1:8080 AGENTD_API_KEY=<your key> npx agentd run --system "You are a helpful assistant." -m "Hello"`);
    io.abort();
    expect(await exit).toBe(0);
  });

  it("rejects a bad --port, PORT, grace period or backlog with exit code 2 before starting anything", async () => {
    for (const [argv, env, message] of [
      [["--port", "abc"], {}, "agentd: --port must be an integer 0-65535\n"],
      [["--port", "65536"], {}, "agentd: --port must be an integer 0-65535\n"],
      [["--port", "-1"], {}, "agentd: --port must be an integer 0-65535\n"],
      [[], { PORT: "http" }, "agentd: PORT must be an integer 0-65535\n"],
      [["--grace-ms", "soon"], {}, "agentd: --grace-ms must be a whole number of milliseconds (got 'soon')\n"],
      [[], { AGENTD_SHUTDOWN_GRACE_MS: "-5" }, "agentd: AGENTD_SHUTDOWN_GRACE_MS must be a whole number of milliseconds (got '-5')\n"],
      [["--backlog", "lots"], {}, "agentd: --backlog must be a whole number from 1 to 1000000 (got 'lots')\n"],
      [["--backlog", "0"], {}, "agentd: --backlog must be a whole number from 1 to 1000000 (got '0')\n"],
      [["--backlog", "2000000"], {}, "agentd: --backlog must be a whole number from 1 to 1000000 (got '2000000')\n"],
      [[], { AGENTD_LISTEN_BACKLOG: "1e4" }, "agentd: AGENTD_LISTEN_BACKLOG must be a whole number from 1 to 1000000 (got '1e4')\n"],
    ] as const) {
      const server = fakeServerModule();
      const io = captureContext({ env, loadServer: async () => server.module });
      expect(await main(["serve", ...argv], io.context)).toBe(2);
      expect(io.stderr()).toBe(message);
      expect(server.calls).toEqual([]);
    }
  });

  it("passes the listen backlog from --backlog, else AGENTD_LISTEN_BACKLOG, else leaves the server's default", async () => {
    for (const [argv, env, call] of [
      [["--backlog", "8192"], { AGENTD_LISTEN_BACKLOG: "100" }, "listen 7700 backlog=8192"],
      [[], { AGENTD_LISTEN_BACKLOG: "100" }, "listen 7700 backlog=100"],
      [[], {}, "listen 7700"],
    ] as const) {
      const server = fakeServerModule({ apiKeys: 1 });
      const { io, exit } = await serveUntilStarted([...argv], server, env);
      expect(server.calls[0]).toBe(call);
      io.abort();
      expect(await exit).toBe(0);
    }
  });

  it("reports a port in use without leaking a first key", async () => {
    const server = fakeServerModule({ listenError: Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" }) });
    const io = captureContext({ loadServer: async () => server.module });
    expect(await main(["serve", "--port", "9000"], io.context)).toBe(1);
    expect(io.stderr()).toBe("agentd: port 9000 is already in use: pass --port or set PORT\n");
    expect(server.created).toEqual([]);
    expect(server.calls).toEqual(["listen 9000", "server.close"]);
  });
});

describe("agentd keys create", () => {
  it("prints the key alone on the last line of stdout and the rest on stderr", async () => {
    const server = fakeServerModule();
    const io = captureContext({ loadServer: async () => server.module });
    expect(await main(["keys", "create", "--workspace", "acme", "--name", "ci", "--data", "/d"], io.context)).toBe(0);
    expect(io.stdout()).toBe("agd_NEWKEY\n");
    expect(io.stderr()).toContain('Created API key key_1 for workspace "acme" (data: /d)');
    expect(server.created).toEqual([{ workspace: "acme", name: "ci" }]);
    expect(server.calls).toEqual(["store.close"]);
  });

  it("defaults the workspace to AGENTD_WORKSPACE, then default", async () => {
    const server = fakeServerModule();
    await main(["keys", "create"], captureContext({ env: { AGENTD_WORKSPACE: "team" }, loadServer: async () => server.module }).context);
    await main(["keys", "create"], captureContext({ env: {}, loadServer: async () => server.module }).context);
    expect(server.created).toEqual([{ workspace: "team" }, { workspace: "default" }]);
  });
});
