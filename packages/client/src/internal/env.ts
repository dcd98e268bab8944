/**
 * Reads an environment variable where there is an environment: Node, Bun and
 * Deno (with --allow-env) expose `process.env`; browsers have no `process`.
 */
export function readEnv(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  try {
    const value = proc?.env?.[name]?.trim();
    return value ? value : undefined;
  } catch {
    // Deno without --allow-env throws on access: treat it as unset.
    return undefined;
  }
}
