import { inPrefix, parseCidr, parseIp, unmapIp, type IpBytes } from "./address.js";

/**
 * Destinations an operator lets HTTP tools reach although the SSRF guard
 * would refuse them (an internal API on 10.0.0.5, a sidecar on loopback).
 * Built with `parseAllowlist` or `allowlistFromEnv`.
 */
export interface OutboundAllowlist {
  /** The entries as given. */
  readonly entries: readonly string[];
  /** `hostname:port` keys, hostnames canonicalised the way `new URL` does. */
  readonly hosts: ReadonlySet<string>;
  /** CIDR ranges: any address inside is allowed, on any port. */
  readonly networks: readonly { network: IpBytes; bits: number }[];
}

/** The environment variable `allowlistFromEnv` is meant for. */
export const HTTP_ALLOW_ENV = "AGENTD_HTTP_ALLOW";

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Parses entries of the form `host:port` (`api.internal:8080`,
 * `127.0.0.1:3000`, `[::1]:3000`) or a CIDR range (`10.0.0.0/8`, `::1/128`).
 * Throws an Error naming the first bad entry.
 */
export function parseAllowlist(entries: string[]): OutboundAllowlist {
  const hosts = new Set<string>();
  const networks: { network: IpBytes; bits: number }[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry.includes("/")) {
      const cidr = parseCidr(entry);
      if (!cidr) throw new Error(`outbound allowlist: "${entry}" is not a CIDR range like 10.0.0.0/8 or fd00::/8`);
      // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared unmapped.
      const network = cidr.bits >= 96 ? unmapIp(cidr.network) : cidr.network;
      networks.push({ network, bits: network === cidr.network ? cidr.bits : cidr.bits - 96 });
      continue;
    }
    const match = HOST_PORT.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      throw new Error(`outbound allowlist: "${entry}" is neither host:port (api.internal:8080, [::1]:3000) nor a CIDR range (10.0.0.0/8)`);
    }
    hosts.add(`${canonicalHostname(match[1]!, entry)}:${port}`);
  }
  return { entries: entries.map((entry) => entry.trim()), hosts, networks };
}

/** The allowlist in `AGENTD_HTTP_ALLOW`: comma-separated entries; empty when unset. */
export function allowlistFromEnv(value: string | undefined): OutboundAllowlist {
  return parseAllowlist((value ?? "").split(",").filter((entry) => entry.trim() !== ""));
}

/** True when the URL's hostname and port are an allowlisted `host:port`. */
export function allowsHost(allow: OutboundAllowlist, url: URL): boolean {
  return allow.hosts.has(`${url.hostname}:${portOf(url)}`);
}

/** True when the address lies in an allowlisted CIDR range. */
export function allowsAddress(allow: OutboundAllowlist, address: string): boolean {
  const bytes = parseIp(address);
  if (!bytes) return false;
  const plain = unmapIp(bytes);
  return allow.networks.some(({ network, bits }) => inPrefix(plain, network, bits));
}

export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

// The same canonical form the URL parser gives a request's hostname, so
// `LOCALHOST:80` matches http://localhost/ and `[0::1]:80` matches http://[::1]/.
function canonicalHostname(host: string, entry: string): string {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    throw new Error(`outbound allowlist: "${entry}" does not name a valid host`);
  }
}
