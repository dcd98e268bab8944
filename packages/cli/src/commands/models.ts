import type { ModelCatalog } from "@agentd/client";
import type { Command } from "commander";
import { clientFrom, type CliContext } from "../context.js";

export function registerModels(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  program
    .command("models")
    .description("list the models this workspace can run")
    .option("--json", "print the catalog as JSON")
    .action(async (flags: { json?: boolean }) => done(await modelsCommand(flags, context)));
}

export async function modelsCommand(flags: { json?: boolean }, context: CliContext): Promise<number> {
  const catalog = await clientFrom(context).models.list({ signal: context.signal });
  context.stdout.write(flags.json ? `${JSON.stringify(catalog, null, 2)}\n` : formatCatalog(catalog));
  return 0;
}

export function formatCatalog(catalog: ModelCatalog): string {
  if (catalog.models.length === 0) return "no models: configure a provider in agentd.config.json\n";
  const rows = [
    ["ID", "PROVIDER", "CONTEXT", "LABEL"],
    ...catalog.models.map((model) => {
      const notes = [model.id === catalog.defaultModelId ? "default" : "", model.mock ? "mock" : ""].filter(Boolean);
      return [model.id, model.provider, model.contextWindowTokens?.toLocaleString("en-US") ?? "-", `${model.label}${notes.length ? ` (${notes.join(", ")})` : ""}`];
    }),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ")).join("\n") + "\n";
}
