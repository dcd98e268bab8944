import { z } from "zod";
import { IsoInstant } from "./run-list.js";

/*
 * `GET /usage` (issue #11, docs/traces.md "Usage totals"): a workspace's
 * token, call and cost totals over a window of run creation times, whole or
 * grouped by agent, model, day or API key. Its own file: usage.ts is the
 * run's usage, which runs.ts needs, and this one needs the run listing's
 * instants (which need runs.ts).
 */

/** What `groupBy` takes: the run's named agent, its model, the UTC day it was created, the API key that started it. */
export const USAGE_GROUP_BY = ["agent", "model", "day", "key"] as const;
export const UsageGroupBy = z.enum(USAGE_GROUP_BY);
export type UsageGroupBy = z.infer<typeof UsageGroupBy>;

/**
 * The window of `GET /usage`: the last `defaultDays` when `from` is not
 * given, and at most `maxDays` wide (every calendar quarter fits), so one
 * request reads a bounded range of runs; a longer period is several
 * requests, whose totals add up (every field is a sum or a count).
 */
export const USAGE_WINDOW = { defaultDays: 30, maxDays: 92 } as const;

const DAY_MS = 86_400_000;

/** Epoch ms of an instant IsoInstant has normalized; NaN for one it refused (left as sent), so a refused value is never compared. */
const parsedMs = (value: string | undefined): number => {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value ? ms : Number.NaN;
};

/**
 * `GET /usage` query parameters. `from` and `to` (instants as the run
 * listing takes them) make the window [from, to) of `createdAt`; `to`
 * defaults to now and `from` to `defaultDays` before `to`. After parsing
 * both are set (ISO 8601 UTC); `to` must be after `from`, and the window at
 * most `maxDays` long. Unknown parameters are rejected.
 */
export const UsageQuery = z
  .strictObject({
    from: IsoInstant.optional(),
    to: IsoInstant.optional(),
    // Through z.string() first: a repeated parameter (a list) is "given more than once", as the run listing's.
    groupBy: z.string().pipe(UsageGroupBy).optional(),
  })
  // Checks may run on a query with failed fields (an unknown parameter beside
  // them): an instant that did not parse is left as it is, and not compared.
  .overwrite((query) => {
    const to = query.to ?? new Date().toISOString();
    const toMs = parsedMs(to);
    const from = query.from ?? (Number.isNaN(toMs) ? undefined : new Date(toMs - USAGE_WINDOW.defaultDays * DAY_MS).toISOString());
    return { ...query, to, ...(from !== undefined ? { from } : {}) };
  })
  .superRefine((query, ctx) => {
    const from = parsedMs(query.from);
    const to = parsedMs(query.to);
    if (Number.isNaN(from) || Number.isNaN(to)) return;
    if (to <= from) ctx.addIssue({ code: "custom", path: ["to"], message: `must be after from (${query.from}; got ${query.to})` });
    else if (to - from > USAGE_WINDOW.maxDays * DAY_MS) {
      const days = Math.ceil((to - from) / DAY_MS);
      ctx.addIssue({
        code: "custom",
        path: ["from"],
        message: `the window is at most ${USAGE_WINDOW.maxDays} days (${query.from} to ${query.to} is ${days} days); ask for several windows and add them up`,
      });
    }
  });
/** A parsed query: `from` and `to` are always set (the schema fills them in). */
export type UsageQuery = z.output<typeof UsageQuery> & { from: string; to: string };

/**
 * Sums over a set of runs. `costUsd` is over the runs whose cost is known
 * (a run whose every model call had a price, or that used no tokens); the
 * runs whose cost is unknown (a model without a price) are counted in
 * `costUnknownRuns` and left out of it, never counted as 0: with
 * `costUnknownRuns > 0`, `costUsd` is a lower bound, and it is null when no
 * run's cost is known.
 */
export const UsageTotals = z.object({
  runs: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  /** Of inputTokens, those read from the provider's prompt cache. */
  cachedInputTokens: z.number().int(),
  modelCalls: z.number().int(),
  toolCalls: z.number().int(),
  costUsd: z.number().nullable(),
  costUnknownRuns: z.number().int(),
});
export type UsageTotals = z.infer<typeof UsageTotals>;

/**
 * One group: `key` is the agent id, the model id, the UTC day
 * (`2026-01-31`) or the API key id (`key_…`); null for runs without one
 * (an inline agent; a run started before runs recorded their key, or not
 * through the API).
 */
export const UsageGroup = UsageTotals.extend({ key: z.string().nullable() });
export type UsageGroup = z.infer<typeof UsageGroup>;

/** `GET /usage`: the window as applied, the totals, and the groups by key (null last); `groups` is empty without `groupBy`. */
export const GetUsageResponse = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: UsageGroupBy.nullable(),
  totals: UsageTotals,
  groups: z.array(UsageGroup),
});
export type GetUsageResponse = z.infer<typeof GetUsageResponse>;
