// A lean HTTP client for the load generator: node:http with keep-alive, so
// the client's own overhead stays small next to what is being measured.
import http from "node:http";

export const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function postJson(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const request = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => (response.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`HTTP ${response.statusCode}: ${text}`))));
    });
    request.on("error", reject);
    request.end(payload);
  });
}

/** Reads a stream until `done(text)` says so; `onFirst(text)` can watch for the first interesting byte. */
export function readUntil(url, method, body, headers, done, onChunk) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(url, { method, agent, headers: { ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}), ...headers } }, (response) => {
      if (response.statusCode >= 300) return reject(new Error(`HTTP ${response.statusCode}`));
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => {
        text += chunk;
        onChunk?.(text);
        if (done(text)) {
          resolve(text);
          response.resume();
        }
      });
      response.on("end", () => resolve(text));
    });
    request.on("error", reject);
    request.end(payload);
  });
}
