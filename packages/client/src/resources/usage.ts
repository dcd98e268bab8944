import type { GetUsageResponse } from "@agentd/protocol";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";
import type { UsageParams } from "../types.js";

/** Token, call and cost totals of the workspace's runs (docs/traces.md "Usage totals"). */
export class UsageReports {
  constructor(private readonly transport: Transport) {}

  /**
   * Totals of the runs created in [from, to) (default: the last 30 days; at
   * most 92 days), with `groupBy` also per agent, model, UTC day or API key.
   * `costUsd` leaves out the runs whose cost is unknown, counted in
   * `costUnknownRuns`.
   */
  get(params: UsageParams = {}, options?: RequestOptions): Promise<GetUsageResponse> {
    const instant = (value: Date | string | undefined) => (value instanceof Date ? value.toISOString() : value);
    const query = { from: instant(params.from), to: instant(params.to), groupBy: params.groupBy };
    return this.transport.json({ ...operations.getUsage(), query, ...options });
  }
}
