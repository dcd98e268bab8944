import { isIPv4, isIPv6 } from "node:net";

/**
 * Which kind of destination an IP address is. Everything but "public" is
 * refused by default: these are the ranges an SSRF reaches for (the cloud
 * metadata service at 169.254.169.254, admin ports on loopback, the private
 * network behind the server). Ranges from the IANA special-purpose registries:
 * https://www.iana.org/assignments/iana-ipv4-special-registry and
 * https://www.iana.org/assignments/iana-ipv6-special-registry
 */
export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "shared"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "invalid";

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = readonly number[];

/** Parses a textual IPv4 or IPv6 address (a `%zone` suffix is ignored); undefined if it is neither. */
export function parseIp(text: string): IpBytes | undefined {
  const address = text.replace(/%.*$/, "");
  if (isIPv4(address)) return address.split(".").map(Number);
  if (!isIPv6(address)) return undefined;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes its two hex groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const hex = quad
    ? address.slice(0, quad.index) + [[1, 2], [3, 4]].map(([high, low]) => (Number(quad[high!]) * 256 + Number(quad[low!])).toString(16)).join(":")
    : address;
  const [head, tail] = hex.split("::") as [string, string | undefined];
  const groups = (part: string | undefined): string[] => (part ? part.split(":") : []);
  const written = [...groups(head), ...groups(tail)].length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - written).fill("0"), ...groups(tail)];
  return all.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/** True when the first `bits` bits of `address` equal those of `network` (same family). */
export function inPrefix(address: IpBytes, network: IpBytes, bits: number): boolean {
  if (address.length !== network.length) return false;
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if ((address[bit / 8]! & mask) !== (network[bit / 8]! & mask)) return false;
  }
  return true;
}

/** Parses `address/bits`; undefined unless both parts are valid for the address family. */
export function parseCidr(text: string): { network: IpBytes; bits: number } | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const network = match ? parseIp(match[1]!) : undefined;
  const bits = Number(match?.[2]);
  return network && bits <= network.length * 8 && !match![1]!.includes("%") ? { network, bits } : undefined;
}

type Rule = readonly [network: IpBytes, bits: number, kind: AddressClass];
const rules = (table: [string, AddressClass][]): Rule[] =>
  table.map(([cidr, kind]) => {
    const { network, bits } = parseCidr(cidr)!;
    return [network, bits, kind];
  });

// First match wins: 255.255.255.255 before the reserved 240/4 around it.
const V4_RULES = rules([
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared"], // carrier-grade NAT (RFC 6598)
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"], // includes the metadata service 169.254.169.254
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"],
  ["192.0.2.0/24", "reserved"],
  ["192.88.99.0/24", "reserved"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"],
  ["198.51.100.0/24", "reserved"],
  ["203.0.113.0/24", "reserved"],
  ["224.0.0.0/4", "multicast"],
  ["255.255.255.255/32", "broadcast"],
  ["240.0.0.0/4", "reserved"],
]);

// IPv6 forms that carry an IPv4 address, judged by that address: mapped
// (::ffff:a.b.c.d), SIIT-translated, NAT64 (RFC 6052), 6to4 and the deprecated
// compatible form (::a.b.c.d). Each entry: the prefix and where the IPv4 bytes start.
const EMBEDDED_V4 = (
  [
    ["::ffff:0:0/96", 12],
    ["::ffff:0:0:0/96", 12],
    ["64:ff9b::/96", 12],
    ["2002::/16", 2],
    ["::/96", 12],
  ] as const
).map(([cidr, offset]) => ({ ...parseCidr(cidr)!, offset }));

const V6_RULES = rules([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b:1::/48", "private"], // local-use NAT64 (RFC 8215)
  ["fc00::/7", "private"], // unique local
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "multicast"],
  ["2001::/23", "reserved"], // protocol assignments, Teredo (hides an IPv4 address)
  ["2001:db8::/32", "reserved"], // documentation
  ["3fff::/20", "reserved"], // documentation (RFC 9637)
]);
const GLOBAL_UNICAST = parseIp("2000::")!;

/** Classifies a textual IP address; "invalid" when it is not one. */
export function classifyAddress(text: string): AddressClass {
  const bytes = parseIp(text);
  return bytes ? classifyBytes(bytes) : "invalid";
}

function classifyBytes(bytes: IpBytes): AddressClass {
  if (bytes.length === 4) return V4_RULES.find(([network, bits]) => inPrefix(bytes, network, bits))?.[2] ?? "public";
  // :: and ::1 sit inside ::/96 but are not IPv4-compatible addresses.
  const special = V6_RULES.slice(0, 2).find(([network, bits]) => inPrefix(bytes, network, bits));
  if (special) return special[2];
  const embedded = EMBEDDED_V4.find(({ network, bits }) => inPrefix(bytes, network, bits));
  if (embedded) return classifyBytes(bytes.slice(embedded.offset, embedded.offset + 4));
  const rule = V6_RULES.find(([network, bits]) => inPrefix(bytes, network, bits));
  if (rule) return rule[2];
  // Only 2000::/3 is allocated for global unicast; anything else is not a real destination.
  return inPrefix(bytes, GLOBAL_UNICAST, 3) ? "public" : "reserved";
}

/** The IPv4 address an IPv4-mapped IPv6 address carries, so an allowlisted 10.0.0.0/8 matches ::ffff:10.0.0.1. */
export function unmapIp(bytes: IpBytes): IpBytes {
  return bytes.length === 16 && inPrefix(bytes, EMBEDDED_V4[0]!.network, 96) ? bytes.slice(12) : bytes;
}
