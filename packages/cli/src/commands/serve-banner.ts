import { paths } from "@agentd/protocol";
import { DEFAULT_URL, DEFAULT_WORKSPACE } from "../context.js";

export interface BannerFacts {
  url: string;
  dataDir: string;
  configPath: string | null;
  defaultModelId: string | null;
  defaultModelIsMock: boolean;
  /** Whether OPENAI_API_KEY or ANTHROPIC_API_KEY is set. */
  providerKeySet: boolean;
  agents: string[];
  /** The key created on this start; absent when keys already existed. */
  newKey: string | undefined;
}

/** What `agentd serve` prints once it is listening: where things are, and how to make a first call. */
export function serveBanner(facts: BannerFacts): string {
  const lines = [
    `agentd is listening on ${facts.url}`,
    `  store:     ${facts.dataDir}`,
    `  config:    ${facts.configPath ?? "none (built-in defaults; create agentd.config.json to add agents and providers)"}`,
    `  model:     ${facts.defaultModelId ?? "none"}${facts.defaultModelId ? " (default)" : ""}`,
  ];
  if (facts.defaultModelIsMock) {
    lines.push(
      facts.providerKeySet
        ? "             the default model is the built-in deterministic mock, not an LLM: set defaultModelId in the config"
        : "             no OPENAI_API_KEY or ANTHROPIC_API_KEY was set, so the built-in deterministic mock model answers (not an LLM)",
    );
  }
  lines.push(`  agents:    ${facts.agents.length ? facts.agents.join(", ") : "none named (the examples below define one inline)"}`, "");

  const key = facts.newKey ?? "<your key>";
  if (facts.newKey) {
    lines.push(`First start: created an API key for workspace "${DEFAULT_WORKSPACE}". It is shown only once; store it now:`, `  ${facts.newKey}`, "");
  } else {
    lines.push(`Use an existing API key below, or create one: agentd keys create --workspace ${DEFAULT_WORKSPACE}`, "");
  }

  const agent = facts.agents[0];
  const body = JSON.stringify(agent ? { agentId: agent, prompt: "Hello" } : { systemPrompt: "You are a helpful assistant.", prompt: "Hello" });
  const base = `${facts.url.replace(/\/+$/, "")}${paths.workspace(DEFAULT_WORKSPACE)}`;
  const urlPrefix = facts.url.replace(/\/+$/, "") === DEFAULT_URL ? "" : `AGENTD_URL=${facts.url} `;
  const cliTarget = agent ?? `--system "You are a helpful assistant."`;
  // RUN_ID survives encodeURIComponent unchanged, so it can become a shell variable.
  const streamUrl = `${base}${paths.runStream("RUN_ID")}`.replace("RUN_ID", "$RUN_ID");
  lines.push(
    "Run an agent with curl (create the run, then stream its events):",
    `  RUN_ID=$(curl -sS -X POST '${base}${paths.runs()}' \\`,
    `    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`,
    `    -d '${body}' | sed -E 's/.*"runId": *"([^"]+)".*/\\1/')`,
    `  curl -sSN "${streamUrl}" -H 'Authorization: Bearer ${key}'`,
    "",
    "or with the CLI:",
    `  ${urlPrefix}AGENTD_API_KEY=${key} npx agentd run ${cliTarget} -m "Hello"`,
    "",
    "Press Ctrl-C to stop.",
  );
  return `${lines.join("\n")}\n`;
}
