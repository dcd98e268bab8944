/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/): it throws
 * on any line the format does not allow, a sample of a family without a
 * `# TYPE`, a series given twice, or a histogram whose buckets are not
 * cumulative or whose `+Inf` bucket differs from its `_count`.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one series with exactly these labels; undefined if absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** The sum over every series of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = { histogram: ["_bucket", "_sum", "_count"], summary: ["_sum", "_count", ""] };

export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, index) => {
      const where = `line ${index + 1}: ${line}`;
      if (line === "") return;
      if (line.startsWith("#")) {
        const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (!match) {
          if (/^# (HELP|TYPE)\b/.test(line)) throw new Error(`malformed ${where}`);
          return; // a comment
        }
        const [, kind, name, rest] = match as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
        if (kind === "TYPE") {
          if (!TYPES.has(rest)) throw new Error(`unknown type, ${where}`);
          if (types.has(name)) throw new Error(`second TYPE, ${where}`);
          if (samples.some((sample) => familyOf(sample.name, types) === name)) throw new Error(`TYPE after samples, ${where}`);
          types.set(name, rest);
        } else {
          if (helps.has(name)) throw new Error(`second HELP, ${where}`);
          helps.add(name);
        }
        return;
      }
      const sample = parseSample(line, where);
      const family = familyOf(sample.name, types);
      if (family === undefined) throw new Error(`sample without a TYPE, ${where}`);
      const key = `${sample.name}{${Object.entries(sample.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}}`;
      if (seen.has(key)) throw new Error(`series given twice, ${where}`);
      seen.add(key);
      samples.push(sample);
    });
  checkHistograms(types, samples);
  const matches = (sample: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => sample.labels[k] === v);
  return {
    types,
    samples,
    value(name, labels = {}) {
      return samples.find(
        (sample) => sample.name === name && matches(sample, labels) && Object.keys(sample.labels).length === Object.keys(labels).length,
      )?.value;
    },
    sum(name, labels = {}) {
      return samples.filter((sample) => sample.name === name && matches(sample, labels)).reduce((total, sample) => total + sample.value, 0);
    },
  };
}

function familyOf(sampleName: string, types: Map<string, string>): string | undefined {
  if (types.has(sampleName) && !SUFFIXES[types.get(sampleName)!]) return sampleName;
  for (const [family, type] of types) {
    for (const suffix of SUFFIXES[type] ?? []) if (sampleName === family + suffix) return family;
  }
  return undefined;
}

function parseSample(line: string, where: string): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) throw new Error(`bad sample name, ${where}`);
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
      if (!label || !LABEL_NAME.test(label[1]!)) throw new Error(`bad label, ${where}`);
      if (label[1]! in labels) throw new Error(`label given twice, ${where}`);
      labels[label[1]!] = label[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
      rest = rest.slice(label[0].length);
      if (label[3] === "" && !rest.startsWith("}")) throw new Error(`labels not separated, ${where}`);
    }
    rest = rest.slice(1);
  }
  const value = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!value) throw new Error(`bad value, ${where}`);
  const number = parseNumber(value[1]!);
  if (number === undefined) throw new Error(`bad value, ${where}`);
  return { name, labels, value: number };
}

/** As Prometheus reads it (Go's strconv.ParseFloat): NaN and Inf in any case (prom-client writes `Nan`). */
function parseNumber(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : undefined;
}

/** Every histogram series: buckets by ascending `le`, cumulative, ending in `+Inf` = `_count`. */
function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const series = new Map<string, Sample[]>();
    for (const sample of samples.filter((s) => s.name === `${family}_bucket`)) {
      if (sample.labels.le === undefined) throw new Error(`${family}_bucket without le`);
      const { le: _le, ...rest } = sample.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), sample]);
    }
    for (const [key, buckets] of series) {
      const les = buckets.map((bucket) => parseNumber(bucket.labels.le!)!);
      if (les.at(-1) !== Infinity) throw new Error(`${family}${key}: no +Inf bucket last`);
      for (let i = 1; i < buckets.length; i++) {
        if (!(les[i]! > les[i - 1]!)) throw new Error(`${family}${key}: le not ascending`);
        if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family}${key}: buckets not cumulative`);
      }
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(s.labels) === key);
      if (count?.value !== buckets.at(-1)!.value) throw new Error(`${family}${key}: +Inf bucket differs from _count`);
    }
  }
}
