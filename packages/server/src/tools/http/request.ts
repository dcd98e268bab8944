import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { ToolError } from "../types.js";
import type { OutboundAllowlist } from "./allowlist.js";
import { bareHostname, checkedLookup, checkLiteral, type Resolver } from "./guard.js";

/** One request of a call: the first, or one per redirect followed. */
export interface Hop {
  url: URL;
  method: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface SendOptions {
  allow: OutboundAllowlist;
  resolve: Resolver;
  /** Aborts the request and the reading of its body. */
  signal: AbortSignal;
}

/** Sends one hop through the SSRF guard; resolves when the response head arrives. */
export function send(hop: Hop, options: SendOptions): Promise<IncomingMessage> {
  const { url } = hop;
  return new Promise((resolve, reject) => {
    // A throw here rejects the promise.
    checkLiteral(url, options.allow);
    const transport = url.protocol === "https:" ? https : http;
    try {
      const request = transport.request({
        protocol: url.protocol,
        hostname: bareHostname(url),
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: hop.method,
        headers: { ...hop.headers, ...(hop.body ? { "content-length": String(hop.body.length) } : {}) },
        auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
        lookup: checkedLookup(url, options.allow, options.resolve),
        // No pooling: a pooled socket may have been opened by other code (or
        // another tool with another allowlist) without this lookup.
        agent: false,
        signal: options.signal,
      });
      // Stays attached after the response: a later error (an abort while the
      // body is read) reaches the body reader through the response instead.
      request.on("error", reject);
      request.on("response", resolve);
      request.end(hop.body);
    } catch (error) {
      // http.request throws synchronously for a header value with CR/LF; its
      // message names the header, never the (possibly secret) value.
      reject(new ToolError(`invalid request to ${url.host}: ${(error as Error).message}`, { cause: error }));
    }
  });
}

/**
 * Reads at most `maxBytes` of the body. Past the cap it stops reading and
 * destroys the socket, so a huge or endless response costs no more than the cap.
 */
export async function readBody(response: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      response.destroy();
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks), truncated: false };
}
