import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers.js";

/**
 * Issue #12: no value a caller controls splits a response header. fetch
 * refuses to send CR or LF in a header, so these requests go over a raw
 * socket, byte for byte: CR, LF, obs-text and percent-encoded CRLF in the
 * headers agentd reads (X-Request-Id, which it echoes; Idempotency-Key;
 * Last-Event-ID) and in the path and query (ids, cursors, `lastSeq`).
 */
interface RawResponse {
  status: number;
  /** The head's lines after the status line, as sent. */
  lines: string[];
  head: string;
}

function send(port: number, request: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      // Enough once the head is in: an event stream would not end by itself.
      const text = Buffer.concat(chunks).toString("latin1");
      if (text.includes("\r\n\r\n") && text.startsWith("HTTP/1.1 200") && /content-type: text\/event-stream/i.test(text)) socket.destroy();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const head = end === -1 ? text : text.slice(0, end);
      const [statusLine = "", ...lines] = head.split("\r\n");
      resolve({ status: Number(statusLine.split(" ")[1]), lines, head });
    });
    socket.end(request);
  });
}

/** One request, with `header` (raw bytes: CR and LF kept) among its headers. */
function request(method: string, path: string, key: string, header: Buffer, body?: string): Buffer {
  const lines = [
    `${method} ${path} HTTP/1.1`,
    "host: 127.0.0.1",
    `authorization: Bearer ${key}`,
    "connection: close",
    ...(body !== undefined ? ["content-type: application/json", `content-length: ${Buffer.byteLength(body)}`] : []),
  ];
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n`), header, Buffer.from(`\r\n\r\n${body ?? ""}`)]);
}

/** The marker every injection attempt tries to turn into a response header of its own. */
const INJECTED = "set-cookie: pwned=1";
const BREAKS = ["\r", "\n", "\r\n", "\r\n ", "\n\t", "%0d%0a", "%0D%0A", "\u0085", "\u2028"];

function attempts(name: string): Array<{ label: string; header: Buffer }> {
  return BREAKS.map((glue) => ({
    label: `${name}: 1${JSON.stringify(glue)}${INJECTED}`,
    // U+2028 as its UTF-8 bytes, U+0085 as the one latin1 byte: what a hostile client would put on the wire.
    header: Buffer.concat([Buffer.from(`${name}: 1`), Buffer.from(glue, glue === "\u0085" ? "latin1" : "utf8"), Buffer.from(INJECTED)]),
  }));
}

/** A head no one split: every line a well-formed field, no injected one, no CR or LF of the client's inside it. */
function expectIntact(response: RawResponse, label: string): void {
  expect(response.status, `${label}\n${response.head}`).toBeGreaterThanOrEqual(200);
  expect(response.status, `${label}\n${response.head}`).toBeLessThan(500);
  for (const line of response.lines) expect(line, `${label}: a header line`).toMatch(/^[A-Za-z0-9-]+: [\t\x20-\x7e]*$/);
  expect(
    response.lines.map((line) => line.slice(0, line.indexOf(":")).toLowerCase()),
    label,
  ).not.toContain("set-cookie");
  expect(response.head.toLowerCase(), label).not.toContain("pwned");
  const requestId = response.lines.find((line) => line.toLowerCase().startsWith("x-request-id:"));
  if (requestId !== undefined) expect(requestId.slice("x-request-id: ".length), label).toMatch(/^[\w.-]{1,128}$/);
}

describe("no header injection through values a caller controls", () => {
  let t: TestServer;
  let port = 0;
  let runId = "";
  let base = "";

  beforeAll(async () => {
    t = await startTestServer();
    port = Number(new URL(t.url).port);
    base = `/api/v1/workspaces/${t.workspace}`;
    const created = await t.request("POST", "/agent-runs", { systemPrompt: "s", modelId: "mock", prompt: "hi" });
    expect(created.status).toBe(202);
    runId = created.body.runId;
  });
  afterAll(() => t?.close());

  it("echoes a sane X-Request-Id, on JSON replies and on event streams (which also tell proxies not to buffer)", async () => {
    const json = await send(port, request("GET", `${base}/agent-runs/${runId}`, t.key, Buffer.from("x-request-id: trace-1.a_B")));
    expect(json.status).toBe(200);
    expect(json.lines).toContain("x-request-id: trace-1.a_B");
    const stream = await send(port, request("GET", `${base}/agent-runs/${runId}/stream`, t.key, Buffer.from("x-request-id: trace-2")));
    expect(stream.status).toBe(200);
    expect(stream.lines).toContain("x-request-id: trace-2");
    // nginx buffers proxied responses unless told not to: an event stream says so itself (docs/security.md "Behind a reverse proxy").
    expect(stream.lines.map((line) => line.toLowerCase())).toContain("x-accel-buffering: no");
  });

  it("X-Request-Id with CR, LF, obs-fold, encoded CRLF or non-ASCII is never echoed into the head", async () => {
    for (const { label, header } of attempts("x-request-id")) {
      expectIntact(await send(port, request("GET", `${base}/agent-runs/${runId}`, t.key, header)), label);
      expectIntact(await send(port, request("GET", `${base}/agent-runs/${runId}/stream`, t.key, header)), `${label} (stream)`);
    }
  });

  it("Idempotency-Key and Last-Event-ID with CR or LF split nothing", async () => {
    for (const { label, header } of attempts("idempotency-key")) {
      expectIntact(
        await send(
          port,
          request("POST", `${base}/agent-runs`, t.key, header, JSON.stringify({ systemPrompt: "s", modelId: "mock", prompt: "x" })),
        ),
        label,
      );
    }
    for (const { label, header } of attempts("last-event-id")) {
      expectIntact(await send(port, request("GET", `${base}/agent-runs/${runId}/stream`, t.key, header)), label);
    }
  });

  it("percent-encoded CR and LF in path ids, cursors and lastSeq split nothing", async () => {
    const crlf = `%0d%0a${encodeURIComponent(INJECTED)}`;
    const paths = [
      `/api/v1/workspaces/${t.workspace}${crlf}/agent-runs`,
      `${base}/agent-runs/${runId}${crlf}`,
      `${base}/agent-runs/${runId}${crlf}/stream`,
      `${base}/agent-runs/${runId}/stream?lastSeq=1${crlf}`,
      `${base}/agent-runs?cursor=${crlf}`,
      `${base}/agent-runs?limit=1${crlf}`,
      `${base}/agent-sessions/${crlf}`,
      `${base}/keys/${crlf}`,
    ];
    for (const path of paths) expectIntact(await send(port, request("GET", path, t.key, Buffer.from("x-probe: 1"))), path);
  });
});
