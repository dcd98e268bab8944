import { describe, expect, it } from "vitest";
import { parseExposition } from "./prometheus-text.js";

// The reader the /metrics test relies on must refuse what Prometheus refuses.
describe("the strict exposition reader", () => {
  const histogram = (buckets: string) => `# TYPE h histogram\n${buckets}h_sum 1\nh_count 2\n`;

  it("reads counters, labels with escapes, and histograms", () => {
    const parsed = parseExposition(
      `# HELP c A counter\n# TYPE c counter\nc{a="x\\"y\\\\z",b=""} 3\n${histogram('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\n')}`,
    );
    expect(parsed.value("c", { a: 'x"y\\z', b: "" })).toBe(3);
    expect(parsed.value("h_count")).toBe(2);
  });

  it.each([
    ["a sample without TYPE", "c 1\n"],
    ["a missing final newline", "# TYPE c counter\nc 1"],
    ["a series twice", '# TYPE c counter\nc{a="1"} 1\nc{a="1"} 2\n'],
    ["a bad label", "# TYPE c counter\nc{a=1} 1\n"],
    ["a bad value", "# TYPE c counter\nc 1,5\n"],
    ["buckets not cumulative", histogram('h_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\n')],
    ["no +Inf bucket", histogram('h_bucket{le="1"} 2\n')],
    ["+Inf bucket not the count", histogram('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\n')],
  ])("refuses %s", (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
