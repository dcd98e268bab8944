import type { LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { ToolError } from "../types.js";
import { classifyAddress } from "./address.js";
import { allowsAddress, allowsHost, HTTP_ALLOW_ENV, type OutboundAllowlist } from "./allowlist.js";

/**
 * Resolves a hostname to all its addresses; `dns.lookup` is one. Injected by
 * tests to map a name to loopback without a DNS server.
 */
export type Resolver = (
  hostname: string,
  options: { all: true; family?: number; hints?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** The message for a refused destination, or undefined when `address` may be reached for `url`. */
export function refusal(url: URL, address: string, allow: OutboundAllowlist): string | undefined {
  if (allowsHost(allow, url) || allowsAddress(allow, address)) return undefined;
  const kind = classifyAddress(address);
  if (kind === "public") return undefined;
  // For a name, the address itself is left out: the model (and whoever steers
  // it) learns the kind of network, not the layout of ours.
  const named = isIP(bareHostname(url)) ? "" : ` (it resolves to a ${kind} address)`;
  return `refused to connect to ${url.hostname}${named}: ${kind} addresses are not reachable from HTTP tools unless listed in ${HTTP_ALLOW_ENV}`;
}

/** The hostname without the brackets of an IPv6 literal, as http.request wants it. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * The `lookup` given to http.request. Node calls it for every hostname that
 * is not an IP literal and connects to exactly the addresses it returns, so
 * checking here judges the address actually connected to: a DNS answer that
 * changes between a check and the connect (rebinding) cannot slip through.
 * Every address is checked, not just the first: the socket may try them all
 * (Happy Eyeballs).
 */
export function checkedLookup(url: URL, allow: OutboundAllowlist, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { all: true, ...(options.family ? { family: Number(options.family) } : {}), ...(options.hints ? { hints: options.hints } : {}) }, (error, addresses) => {
      if (error) return callback(error, "");
      if (addresses.length === 0) return callback(new ToolError(`could not resolve ${hostname}`), "");
      for (const { address } of addresses) {
        const refused = refusal(url, address, allow);
        if (refused) return callback(new ToolError(refused), "");
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * Checks a URL whose hostname is an IP literal, for which Node skips `lookup`.
 * The URL parser has already turned 2130706433, 0x7f.1 and 127.1 into
 * 127.0.0.1 and ::ffff:127.0.0.1 into ::ffff:7f00:1, so only canonical forms get here.
 */
export function checkLiteral(url: URL, allow: OutboundAllowlist): void {
  const host = bareHostname(url);
  if (!isIP(host)) return;
  const refused = refusal(url, host, allow);
  if (refused) throw new ToolError(refused);
}
