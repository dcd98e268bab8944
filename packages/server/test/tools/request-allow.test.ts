import { describe, expect, it } from "vitest";
import {
  parseRequestAllowlist,
  requestAllowlistFromEnv,
  requestHostRefusal,
  templateHostProblem,
} from "../../src/tools/http/request-allow.js";

const allows = (entries: string[], url: string) => requestHostRefusal(parseRequestAllowlist(entries), new URL(url)) === undefined;

describe("the allowlist of request-defined HTTP tools", () => {
  it("is empty by default and then refuses everything, naming the settings", () => {
    const refusal = requestHostRefusal(requestAllowlistFromEnv(undefined), new URL("https://api.example.com/"));
    expect(refusal).toContain("httpTools.requestAllow");
    expect(refusal).toContain("AGENTD_HTTP_REQUEST_ALLOW");
  });

  it("host: that host on any port, and only that host", () => {
    expect(allows(["api.example.com"], "https://api.example.com/x")).toBe(true);
    expect(allows(["api.example.com"], "http://api.example.com:8080/x")).toBe(true);
    expect(allows(["API.Example.COM"], "https://api.example.com./x")).toBe(true);
    expect(allows(["api.example.com"], "https://x.api.example.com/")).toBe(false);
    expect(allows(["api.example.com"], "https://api.example.com.evil.net/")).toBe(false);
    expect(allows(["api.example.com"], "https://evilapi.example.com/")).toBe(false);
    expect(allows(["api.example.com"], "https://example.com/")).toBe(false);
  });

  it("host:port: that port only (80 or 443 when the URL gives none)", () => {
    expect(allows(["api.example.com:8443"], "https://api.example.com:8443/")).toBe(true);
    expect(allows(["api.example.com:8443"], "https://api.example.com/")).toBe(false);
    expect(allows(["api.example.com:443"], "https://api.example.com/")).toBe(true);
    expect(allows(["api.example.com:443"], "http://api.example.com/")).toBe(false);
  });

  it("*.domain: its subdomains at any depth, not the domain itself", () => {
    expect(allows(["*.example.com"], "https://a.example.com/")).toBe(true);
    expect(allows(["*.example.com"], "https://a.b.example.com:9000/")).toBe(true);
    expect(allows(["*.example.com"], "https://example.com/")).toBe(false);
    expect(allows(["*.example.com"], "https://badexample.com/")).toBe(false);
    expect(allows(["*.example.com:443"], "http://a.example.com/")).toBe(false);
  });

  it("*: any host; IP literals match in their canonical form", () => {
    expect(allows(["*"], "https://anything.example/")).toBe(true);
    expect(allows(["*"], "http://93.184.216.34/")).toBe(true);
    expect(allows(["*:443"], "http://anything.example/")).toBe(false);
    expect(allows(["93.184.216.34"], "http://1572395042/")).toBe(true);
    expect(allows(["[2606:2800:220:1:248:1893:25c8:1946]:443"], "https://[2606:2800:0220:0001:0248:1893:25c8:1946]/")).toBe(true);
    expect(allows(["bücher.example"], "https://xn--bcher-kva.example/")).toBe(true);
  });

  it("refuses malformed entries, naming them", () => {
    for (const entry of [
      "",
      "https://api.example.com",
      "api.example.com/path",
      "api.*.com",
      "*example.com",
      "*.",
      "*.0.1",
      "api.example.com:0",
      "api.example.com:99999",
      "a b",
    ]) {
      expect(() => parseRequestAllowlist([entry]), entry).toThrow(entry === "" ? /empty/ : entry);
    }
    expect(requestAllowlistFromEnv(" a.example , ,b.example:8080 ").entries).toEqual(["a.example", "b.example:8080"]);
  });

  it("finds URL templates whose host depends on a placeholder", () => {
    expect(templateHostProblem("https://api.example.com/users/{id}?q={q}")).toBeUndefined();
    expect(templateHostProblem("https://{user}:{password}@api.example.com/")).toBeUndefined();
    for (const template of [
      "https://{host}/",
      "https://api.{tld}/",
      "https://api.example.com:{port}/",
      "https://api.example.com{path}",
      "http:{x}",
    ]) {
      expect(templateHostProblem(template), template).toMatch(/placeholder/);
    }
  });
});
