import { isIP } from "node:net";
import { portOf } from "./allowlist.js";
import { parseHttpUrl } from "./arguments.js";

/**
 * The hosts an HTTP tool defined in a request (a run or session body, not
 * the server config) may reach (issue #8). Whoever can create a run writes
 * such a tool, so without this list it could send the model's conversation,
 * the run's dependencies or whatever a prompt talks the model into to any
 * host on the internet. Empty by default: request-defined HTTP tools are off.
 *
 * Entries (config `httpTools.requestAllow`, env `AGENTD_HTTP_REQUEST_ALLOW`):
 *
 * - `api.example.com`: that host, on any port;
 * - `api.example.com:8443`: that host on that port (80/443 when the URL gives none);
 * - `*.example.com` (optionally `:port`): any subdomain, at any depth, not `example.com` itself;
 * - `*` (optionally `:port`): any host;
 * - IP literals, `203.0.113.7` or `[2001:db8::7]:443`, match in canonical form.
 *
 * This is a second gate, not a replacement for the SSRF guard: a listed host
 * that resolves to a private address is still refused unless the operator's
 * `httpTools.allow` lets it through.
 */
export interface RequestAllowlist {
  /** The entries as given, trimmed. */
  readonly entries: readonly string[];
  readonly rules: readonly RequestHostRule[];
}

interface RequestHostRule {
  /** `exact`: the hostname itself; `suffix`: a subdomain of it; `any`: every host. */
  kind: "exact" | "suffix" | "any";
  /** Canonical hostname (as `new URL` spells it), without a trailing dot. */
  host: string;
  /** Undefined: any port. */
  port: number | undefined;
}

/** The environment variable `requestAllowlistFromEnv` is meant for. */
export const HTTP_REQUEST_ALLOW_ENV = "AGENTD_HTTP_REQUEST_ALLOW";
const SETTINGS = `httpTools.requestAllow (config) or ${HTTP_REQUEST_ALLOW_ENV}`;

const ENTRY = /^(\*|\*\.[^:*[\]]+|\[[0-9A-Fa-f:.]+\]|[^:*[\]/]+)(?::(\d{1,5}))?$/;

/** Parses the entries; throws an Error naming the first bad one (the server does not start). */
export function parseRequestAllowlist(entries: string[]): RequestAllowlist {
  const rules: RequestHostRule[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    const bad = (why: string) => new Error(`httpTools.requestAllow: "${entry}" ${why}; use host, host:port, *.domain or *`);
    if (entry === "") throw new Error(`httpTools.requestAllow: an entry is empty; use host, host:port, *.domain or *`);
    if (entry.includes("://")) throw bad("has a scheme");
    const match = ENTRY.exec(entry);
    if (!match || /[\s/?#@]/.test(entry)) throw bad("is not a host pattern");
    const port = match[2] === undefined ? undefined : Number(match[2]);
    if (port !== undefined && (port < 1 || port > 65535)) throw bad("has a port outside 1-65535");
    const pattern = match[1]!;
    if (pattern === "*") {
      rules.push({ kind: "any", host: "", port });
      continue;
    }
    const wildcard = pattern.startsWith("*.");
    const host = canonical(wildcard ? pattern.slice(2) : pattern);
    if (host === undefined) throw bad("does not name a valid host");
    // `*.0.1` would canonicalise to the address 0.0.0.1: a wildcard stands for names only.
    if (wildcard && isIP(host)) throw bad("puts a wildcard in front of an IP address");
    rules.push({ kind: wildcard ? "suffix" : "exact", host, port });
  }
  return { entries: entries.map((entry) => entry.trim()), rules };
}

/** The list in `AGENTD_HTTP_REQUEST_ALLOW`: comma-separated entries; empty when unset. */
export function requestAllowlistFromEnv(value: string | undefined): RequestAllowlist {
  return parseRequestAllowlist((value ?? "").split(",").filter((entry) => entry.trim() !== ""));
}

/** Why a request-defined tool may not connect to `url`'s host, or undefined when it may. */
export function requestHostRefusal(list: RequestAllowlist, url: URL): string | undefined {
  if (list.rules.length === 0) {
    return `HTTP tools defined in a request are turned off on this server: the operator enables them by listing the hosts they may reach in ${SETTINGS}`;
  }
  const host = url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
  const port = portOf(url);
  const allowed = list.rules.some(
    (rule) =>
      (rule.port === undefined || rule.port === port) &&
      (rule.kind === "any" || (rule.kind === "exact" ? host === rule.host : host.endsWith(`.${rule.host}`))),
  );
  if (allowed) return undefined;
  return `${url.hostname}${url.port ? `:${url.port}` : ""} is not a host HTTP tools defined in a request may reach (the operator lists those in ${SETTINGS})`;
}

/**
 * Why a URL template's host is not fixed, or undefined when it is. Filling
 * every placeholder with two different values must give the same scheme,
 * host and port, with letters (a host label) and with digits (a port). A
 * template that parses with neither is left to the caller's URL check.
 */
export function templateHostProblem(template: string): string | undefined {
  const fill = (value: string) => parseHttpUrl(template.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, value));
  for (const [a, b] of [
    [fill("a"), fill("b")],
    [fill("1"), fill("2")],
  ]) {
    if (!a && !b) continue;
    if (!a || !b || a.protocol !== b.protocol || a.host !== b.host) {
      return "the URL's scheme, host or port is a placeholder, which HTTP tools defined in a request may not have (the host must be fixed to be checked against httpTools.requestAllow)";
    }
  }
  return undefined;
}

function canonical(host: string): string | undefined {
  try {
    const hostname = new URL(`http://${host}/`).hostname;
    return hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  } catch {
    return undefined;
  }
}
