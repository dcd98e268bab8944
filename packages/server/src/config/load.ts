import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AgentdConfigSchema } from "./schema.js";
import type { AgentdConfig } from "./types.js";

/** Port `agentd serve` listens on without `--port` or `PORT`. */
export const DEFAULT_PORT = 7700;

const CONFIG_FILES = ["agentd.config.ts", "agentd.config.mts", "agentd.config.js", "agentd.config.mjs", "agentd.config.json"];

/** `--data`, else `AGENTD_DATA_DIR`, else `./.agentd` in the current directory. */
export function resolveDataDir(flag?: string, env: Record<string, string | undefined> = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env.AGENTD_DATA_DIR ?? ".agentd");
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Loads `--config FILE`, else the first `agentd.config.{ts,mts,js,mjs,json}`
 * in `cwd`. TypeScript configs are imported through tsx, so they can define
 * tools in code; JSON is parsed as is. Either way the result is validated.
 */
export async function loadConfig(flagPath?: string, cwd = process.cwd()): Promise<{ config: AgentdConfig; path: string | null }> {
  const path = flagPath !== undefined ? resolve(cwd, flagPath) : CONFIG_FILES.map((file) => resolve(cwd, file)).find((file) => existsSync(file));
  if (path === undefined) return { config: {}, path: null };
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  const raw = path.endsWith(".json") ? parseJsonFile(path) : await importModule(path);
  return { config: validateConfig(raw, path), path };
}

export function validateConfig(raw: unknown, source = "config"): AgentdConfig {
  const parsed = AgentdConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`).join("\n");
    throw new ConfigError(`invalid config in ${source}:\n${problems}`);
  }
  return parsed.data as AgentdConfig;
}

function parseJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

async function importModule(path: string): Promise<unknown> {
  const module = (path.endsWith(".ts") || path.endsWith(".mts")
    ? await (await import("tsx/esm/api")).tsImport(pathToFileURL(path).href, import.meta.url)
    : await import(pathToFileURL(path).href)) as { default?: unknown };
  return module.default ?? module;
}
