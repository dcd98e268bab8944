import { z } from "zod";
import { METADATA_LIMITS } from "./metadata.js";
import { RUN_STATUSES, RunSnapshot, RunStatus } from "./runs.js";

/*
 * `GET /agent-runs`: listing runs with filters and cursor pagination. Its own
 * file rather than runs.ts: query-string parsing is a behaviour of its own.
 */
/** Page sizes of `GET /agent-runs`. */
export const LIST_RUNS_LIMIT = { default: 20, max: 100 } as const;

/** Echoes of caller input in messages are cut short: an error body should not mirror a huge query. */
const quote = (value: string): string => `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;

/** A query parameter that may be repeated arrives as one string or a list of them. */
const repeatable = z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : [value]));

/** `?status=paused&status=running` or `?status=paused,running`. */
const statusFilter = repeatable.transform((values, ctx) => {
  const statuses = new Set<RunStatus>();
  for (const piece of values.flatMap((value) => value.split(","))) {
    const parsed = RunStatus.safeParse(piece.trim());
    if (parsed.success) statuses.add(parsed.data);
    else ctx.addIssue({ code: "custom", message: `invalid value ${quote(piece)} (one of ${RUN_STATUSES.join(", ")})` });
  }
  return [...statuses];
});

/**
 * Seed 004 §4.2: repeated `?metadata=key:value`, AND-combined. Only the first
 * `:` splits (keys cannot contain one; values may). Not comma-separated,
 * because values may contain commas.
 */
const metadataFilter = repeatable.transform((pairs, ctx) => {
  const entries = new Map<string, string>();
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  for (const pair of pairs) {
    const colon = pair.indexOf(":");
    const key = pair.slice(0, colon);
    const value = pair.slice(colon + 1);
    if (colon <= 0) fail(`expected key:value (got ${quote(pair)})`);
    else if (!METADATA_LIMITS.keyPattern.test(key)) fail(`key ${quote(key)} must match ^[A-Za-z0-9._-]{1,64}$`);
    else if (value.length > METADATA_LIMITS.maxValueLength)
      fail(`the value of ${quote(key)} is longer than ${METADATA_LIMITS.maxValueLength} characters`);
    // A run has one value per key, so two values for a key could never both match.
    else if (entries.has(key)) fail(`key ${quote(key)} is given twice`);
    else entries.set(key, value);
  }
  if (entries.size > METADATA_LIMITS.maxEntries) fail(`at most ${METADATA_LIMITS.maxEntries} entries (a run has no more)`);
  // fromEntries defines own properties, so even a key like `__proto__` stays a plain entry.
  return Object.fromEntries(entries);
});

/** A date (`2026-01-31`, UTC midnight) or a date-time with a zone (`Z` or `±hh:mm`): local times would be ambiguous. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A query parameter's instant, normalized to `toISOString()` form, which is
 * how runs store `createdAt`, so the store compares like with like (also
 * `GET /usage`'s `from` and `to`).
 */
export const IsoInstant = z.string().transform((value, ctx) => {
  const ms = ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    ctx.addIssue({
      code: "custom",
      message: `expected an ISO 8601 date-time with a zone, such as 2026-01-31T12:00:00Z (got ${quote(value)})`,
    });
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
});

const pageLimit = z
  .string()
  .transform((value, ctx) => {
    const limit = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
    if (!(limit >= 1 && limit <= LIST_RUNS_LIMIT.max)) {
      ctx.addIssue({ code: "custom", message: `must be an integer from 1 to ${LIST_RUNS_LIMIT.max} (got ${quote(value)})` });
    }
    return limit;
  })
  .default(LIST_RUNS_LIMIT.default);

/**
 * `GET /agent-runs` query parameters, as strings (a repeated parameter as a
 * list). Every filter is optional; given filters are AND-combined. Unknown
 * parameters are rejected, as unknown body fields are: a typo is an error,
 * not a filter silently ignored.
 */
export const ListRunsQuery = z.strictObject({
  status: statusFilter.optional(),
  agentId: z.string().min(1).max(200).optional(),
  sessionId: z.string().min(1).max(200).optional(),
  metadata: metadataFilter.optional(),
  /** Runs created strictly after this instant. */
  createdAfter: IsoInstant.optional(),
  /** Runs created strictly before this instant. */
  createdBefore: IsoInstant.optional(),
  limit: pageLimit,
  /** A previous page's `nextCursor`; pass the same filters with it. */
  cursor: z.string().min(1).max(512).optional(),
});
export type ListRunsQuery = z.output<typeof ListRunsQuery>;

/** One page of runs, newest first (`createdAt` desc, then `id` desc). `nextCursor` is null on the last page. */
export const ListRunsResponse = z.object({
  runs: z.array(RunSnapshot),
  nextCursor: z.string().nullable(),
});
export type ListRunsResponse = z.infer<typeof ListRunsResponse>;
