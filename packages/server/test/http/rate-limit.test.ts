import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createLogger, createServer, type AgentdServer } from "@agentd/server";
import { clusterEnv } from "./cluster-env.js";
import { startTestServer, type TestServer } from "../helpers.js";

/*
 * Issue #12, requests per minute per key: a token bucket (its own limit,
 * else the config's default for keys); past it, 429 rate_limited naming
 * the limit, with Retry-After and the IETF RateLimit headers; one key's
 * bucket is not another's; a cluster's workers share one bucket (Redis).
 */

const { ready, workerEnv } = await clusterEnv("cluster cases of the rate limit test");

const get = (url: string, key: string) => fetch(url, { headers: { authorization: `Bearer ${key}` } });

describe("requests per minute per key (embedded)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: { limits: { keyRequestsPerMinute: 1_000 } } });
  });
  afterAll(() => t?.close());

  it("a key over its limit gets 429 with Retry-After and RateLimit headers; another key is not slowed; PATCH raises it", async () => {
    const made = await t.request("POST", "/keys", { name: "limited", limits: { requestsPerMinute: 3 } });
    expect(made.status).toBe(201);
    expect(made.body.limits).toEqual({ requestsPerMinute: 3 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await get(t.api("/agent-runs"), made.body.key);
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-policy")).toBe('"requests";q=3;w=60');
        expect(last.headers.get("ratelimit")).toBe('"requests";r=2;t=0');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const body = (await last!.json()) as { code: string; message: string };
    expect(body.code).toBe("rate_limited");
    expect(body.message).toContain("requestsPerMinute");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get("ratelimit")).toMatch(/^"requests";r=0;t=\d+$/);

    // The server's own key has the config's default (1,000 a minute): untouched by the other's bucket.
    const own = await get(t.api("/agent-runs"), t.key);
    expect(own.status).toBe(200);
    expect(own.headers.get("ratelimit-policy")).toBe('"requests";q=1000;w=60');

    expect((await t.request("PATCH", `/keys/${made.body.id}`, { limits: { requestsPerMinute: 600 } })).status).toBe(200);
    // A new limit applies once the key's cached lookup lapses (1 s); the bucket refills at the new rate.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await get(t.api("/agent-runs"), made.body.key)).status).toBe(200);
  });

  it("refuses a bad limit, naming it", async () => {
    for (const limits of [{ requestsPerMinute: 0 }, { requestsPerMinute: 1.5 }, { requestsPerMinute: "10" }, { requestsPerSecond: 1 }]) {
      const refused = await t.request("POST", "/keys", { name: "bad", limits });
      expect(refused.status, JSON.stringify(limits)).toBe(400);
      expect(JSON.stringify(refused.body)).toMatch(/limits/);
    }
  });
});

describe.skipIf(!ready)("requests per minute per key (two workers on PostgreSQL + Redis)", () => {
  const servers: AgentdServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it("both workers take from one bucket: 6 allowed in all, however the requests are spread", async () => {
    const urls: string[] = [];
    for (const workerId of ["limit-a", "limit-b"]) {
      const server = await createServer({ env: workerEnv(workerId), logger: createLogger("silent") });
      servers.push(server);
      urls.push((await server.listen(0)).url);
    }
    const { key } = await createApiKey(servers[0]!.store, { workspace: "limited", limits: { requestsPerMinute: 6 } });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(`${urls[i % 2]}/api/v1/workspaces/limited/agent-runs`, key)).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(6);
    expect(statuses.slice(6)).toEqual([429, 429, 429, 429]);
  }, 30_000);
});
