import type { IncomingHttpHeaders } from "node:http";

/** Longest wait a provider may ask for that we keep; beyond it the number is treated as noise. */
const MAX_WAIT_MS = 10 * 60_000;

/**
 * How long the provider asks us to wait before trying again, in
 * milliseconds, or undefined when it does not say. In order:
 * `retry-after-ms` (OpenAI), `retry-after` (seconds or an HTTP date, RFC
 * 9110), then on a 429 the soonest rate-limit reset: OpenAI's
 * `x-ratelimit-reset-requests` / `-tokens` ("1s", "6m0s", "120ms") and
 * Anthropic's `anthropic-ratelimit-*-reset` (RFC 3339 times).
 */
export function retryAfterMs(headers: IncomingHttpHeaders, status: number, now = Date.now()): number | undefined {
  const ms = number(header(headers, "retry-after-ms"));
  if (ms !== undefined) return clamp(ms);
  const after = header(headers, "retry-after");
  if (after !== undefined) {
    const seconds = number(after);
    if (seconds !== undefined) return clamp(seconds * 1000);
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return clamp(date - now);
  }
  if (status !== 429) return undefined;
  const resets: number[] = [];
  for (const name of ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]) {
    const value = duration(header(headers, name));
    if (value !== undefined) resets.push(value);
  }
  for (const name of [
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-reset",
  ]) {
    const value = header(headers, name);
    const date = value === undefined ? Number.NaN : Date.parse(value);
    if (!Number.isNaN(date)) resets.push(date - now);
  }
  // A reset already passed says "now"; the soonest one is when a request may succeed again.
  return resets.length === 0 ? undefined : clamp(Math.min(...resets));
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

/** OpenAI's durations: `1s`, `6m0s`, `1h2m3.5s`, `120ms`. */
function duration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(text.trim());
  if (match === null || match[0] === "") return undefined;
  const [, h = "0", m = "0", s = "0", millis = "0"] = match;
  return Number(h) * 3_600_000 + Number(m) * 60_000 + Number(s) * 1000 + Number(millis);
}

const clamp = (ms: number): number => Math.max(0, Math.min(MAX_WAIT_MS, Math.round(ms)));
