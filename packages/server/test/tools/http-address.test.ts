import { describe, expect, it } from "vitest";
import { classifyAddress, parseIp } from "../../src/tools/http/address.js";
import { allowlistFromEnv, allowsAddress, allowsHost, parseAllowlist } from "../../src/tools/http/allowlist.js";

describe("classifyAddress", () => {
  it.each([
    // IPv4 and the boundaries of each range
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.255.255.255", "unspecified"],
    ["1.0.0.0", "public"],
    ["9.255.255.255", "public"],
    ["10.0.0.0", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.0", "public"],
    ["100.63.255.255", "public"],
    ["100.64.0.0", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.0", "public"],
    ["126.255.255.255", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["128.0.0.0", "public"],
    ["169.254.169.254", "link-local"],
    ["169.253.255.255", "public"],
    ["169.255.0.0", "public"],
    ["172.15.255.255", "public"],
    ["172.16.0.0", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "public"],
    ["192.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["192.167.255.255", "public"],
    ["192.168.0.0", "private"],
    ["192.168.255.255", "private"],
    ["192.169.0.0", "public"],
    ["198.18.0.1", "reserved"],
    ["198.20.0.0", "public"],
    ["203.0.113.9", "reserved"],
    ["223.255.255.255", "public"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["2606:4700:4700::1111", "public"],
    ["2001:4860:4860::8888", "public"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fbff:ffff::1", "reserved"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "reserved"], // Teredo
    ["100::1", "reserved"], // discard-only
    ["4000::1", "reserved"], // outside 2000::/3
    // IPv6 forms that carry an IPv4 address
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0:0:0:0:0:ffff:7f00:0001", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:172.15.255.255", "public"],
    ["::ffff:172.16.0.0", "private"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["::ffff:8.8.8.8", "public"],
    ["::ffff:0:127.0.0.1", "loopback"], // SIIT-translated
    ["::127.0.0.1", "loopback"], // IPv4-compatible
    ["::7f00:1", "loopback"],
    ["::8.8.8.8", "public"],
    ["64:ff9b::127.0.0.1", "loopback"], // NAT64
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["64:ff9b::c0a8:1", "private"],
    ["64:ff9b::808:808", "public"],
    ["64:ff9b:1::1", "private"],
    ["2002:7f00:1::", "loopback"], // 6to4
    ["2002:c0a8:101::1", "private"],
    ["2002:808:808::1", "public"],
    // not addresses
    ["localhost", "invalid"],
    ["127.1", "invalid"],
    ["", "invalid"],
  ])("%s is %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it("parses IPv6 with a trailing dotted quad into the same bytes as its hex form", () => {
    expect(parseIp("::ffff:127.0.0.1")).toEqual(parseIp("::ffff:7f00:1"));
    expect(parseIp("1:2:3:4:5:6:7:8")).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  });
});

describe("the outbound allowlist", () => {
  const url = (text: string) => new URL(text);

  it("lets host:port entries through on exactly that hostname and port", () => {
    const allow = parseAllowlist(["api.internal:8080", "LOCALHOST:80", "[0::1]:3000", "127.0.0.1:443"]);
    expect(allowsHost(allow, url("http://api.internal:8080/x"))).toBe(true);
    expect(allowsHost(allow, url("http://api.internal:8081/x"))).toBe(false);
    expect(allowsHost(allow, url("http://localhost/"))).toBe(true);
    expect(allowsHost(allow, url("http://[::1]:3000/"))).toBe(true);
    expect(allowsHost(allow, url("https://127.0.0.1/"))).toBe(true);
    expect(allowsHost(allow, url("http://127.0.0.1/"))).toBe(false);
    expect(allowsHost(allow, url("http://2130706433:443/"))).toBe(true); // the same host, spelled oddly
    expect(allowsHost(allow, url("http://other.internal:8080/"))).toBe(false);
  });

  it("lets any address of a CIDR entry through, mapped IPv6 forms included", () => {
    const allow = parseAllowlist(["10.0.0.0/8", "fd00::/8", "::ffff:192.168.1.0/120"]);
    expect(allowsAddress(allow, "10.20.30.40")).toBe(true);
    expect(allowsAddress(allow, "::ffff:10.20.30.40")).toBe(true);
    expect(allowsAddress(allow, "11.0.0.1")).toBe(false);
    expect(allowsAddress(allow, "fd00::5")).toBe(true);
    expect(allowsAddress(allow, "fe80::5")).toBe(false);
    expect(allowsAddress(allow, "192.168.1.77")).toBe(true);
    expect(allowsAddress(allow, "192.168.2.1")).toBe(false);
    expect(allowsAddress(parseAllowlist(["127.0.0.1/32"]), "127.0.0.2")).toBe(false);
  });

  it.each(["example.com", "10.0.0.0/33", "::1/129", "10.0.0/8", "host:99999", "host:0", "::1:80", "http://x:80", "*.example.com:443", "a b:80", "fe80::1%eth0/64"])(
    "rejects the bad entry %s, naming it",
    (entry) => {
      expect(() => parseAllowlist(["10.0.0.0/8", entry])).toThrow(`"${entry}"`);
    },
  );

  it("reads AGENTD_HTTP_ALLOW as comma-separated entries, tolerating spaces and empty items", () => {
    const allow = allowlistFromEnv(" 10.0.0.0/8, api.internal:8080 ,,");
    expect(allow.entries).toEqual(["10.0.0.0/8", "api.internal:8080"]);
    expect(allowsAddress(allow, "10.1.1.1")).toBe(true);
    expect(allowlistFromEnv(undefined).entries).toEqual([]);
    expect(() => allowlistFromEnv("10.0.0.0/8,nope")).toThrow('"nope"');
  });
});
