import http from "node:http";
import { parseSse, type SseFrame } from "../helpers.js";

/**
 * A client that reads a run's stream but loses the connection at random
 * byte offsets (mid-frame too), then reconnects from the last complete
 * frame's seq, as a real client would, until it has the terminal event.
 */
export async function readWithCuts(
  url: string,
  key: string,
  random: () => number,
  maxCuts = 5,
): Promise<{ frames: SseFrame[]; cuts: number }> {
  const frames: SseFrame[] = [];
  let cuts = 0;
  for (;;) {
    const lastSeq = frames.at(-1)?.data.seq ?? 0;
    const cutAt = cuts < maxCuts && random() < 0.7 ? Math.floor(random() * 400) : Infinity;
    const text = await readOnce(`${url}?lastSeq=${lastSeq}`, key, cutAt);
    // Only whole frames (ending in a blank line) count; a torn one is read again.
    const end = text.lastIndexOf("\n\n");
    const complete = end < 0 ? "" : text.slice(0, end + 2);
    for (const frame of parseSse(complete)) frames.push(frame);
    if (text.length >= cutAt) cuts++;
    const last = frames.at(-1)?.data.type;
    if (last === "result" || last === "cancelled") return { frames, cuts };
  }
}

function readOnce(url: string, key: string, cutAt: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { authorization: `Bearer ${key}` } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
        if (text.length >= cutAt) {
          request.destroy();
          resolve(text.slice(0, cutAt));
        }
      });
      response.on("end", () => resolve(text));
      response.on("error", () => resolve(text));
    });
    request.on("error", (error) => (request.destroyed ? undefined : reject(error)));
  });
}

