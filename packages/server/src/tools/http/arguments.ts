import type { HttpHeaderValue, ToolParameters } from "@agentd/protocol";
import { ToolError } from "../types.js";
import { CREDENTIAL_HEADERS, isDescriptiveHeader } from "./secrets.js";

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The `{param}` names of a URL template, in order, without repeats. */
export function placeholders(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (match) => match[1]!))];
}

/**
 * Fills the template's placeholders from the arguments, each URL-encoded so
 * a value cannot add path segments, a query or a fragment. Returns the URL
 * and the arguments the template did not use.
 */
export function fillUrl(template: string, args: Record<string, unknown>): { url: URL; rest: Record<string, unknown> } {
  const used = new Set<string>();
  const filled = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = args[name];
    if (value === undefined || value === null) throw new ToolError(`missing argument "${name}" for the URL`);
    used.add(name);
    return encodeURIComponent(typeof value === "string" ? value : JSON.stringify(value));
  });
  const url = parseHttpUrl(filled);
  if (!url) throw new ToolError(`the filled URL is not a valid http(s) URL`);
  return { url, rest: Object.fromEntries(Object.entries(args).filter(([name]) => !used.has(name))) };
}

/** The URL when it parses and is http: or https:, the only schemes HTTP tools speak. */
export function parseHttpUrl(text: string, base?: URL): URL | undefined {
  try {
    const url = new URL(text, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Appends arguments to the query string: arrays repeat the key, objects go as JSON, null and undefined are left out. */
export function appendQuery(url: URL, args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      url.searchParams.append(name, typeof item === "string" ? item : JSON.stringify(item));
    }
  }
}

/**
 * The request headers, lowercased, with `{ env }` values read now (so a
 * rotated secret applies to the next call). Also returns which names are
 * bound to the tool's origin (`{ env }` values and literal credentials such
 * as Authorization: dropped on a redirect to another origin) and which
 * values are secret (every `{ env }` value, every literal one but those of
 * descriptive headers like Accept), to redact from what the call returns.
 */
export function resolveHeaders(
  spec: Record<string, HttpHeaderValue> | undefined,
  env: Record<string, string | undefined>,
): { headers: Record<string, string>; originBound: Set<string>; secrets: string[] } {
  const headers: Record<string, string> = {};
  const originBound = new Set<string>();
  const secrets: string[] = [];
  for (const [rawName, value] of Object.entries(spec ?? {})) {
    const name = rawName.toLowerCase();
    if (typeof value === "string") {
      headers[name] = value;
      if (CREDENTIAL_HEADERS.has(name)) originBound.add(name);
      if (!isDescriptiveHeader(name)) secrets.push(value);
      continue;
    }
    const found = env[value.env];
    // Names the variable so the operator can fix it; the value is never in a message.
    if (found === undefined || found === "") throw new ToolError(`header "${rawName}" needs the environment variable ${value.env}, which is not set`);
    headers[name] = (value.prefix ?? "") + found;
    originBound.add(name);
    secrets.push(headers[name], found);
  }
  return { headers, originBound, secrets };
}

/** Parameters for a ref that gives none: one required string per placeholder, other properties allowed. */
export function defaultParameters(template: string): ToolParameters {
  const names = placeholders(template);
  return { type: "object", properties: Object.fromEntries(names.map((name) => [name, { type: "string" }])), required: names };
}
