import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SseParser } from "../../src/models/http/sse.js";

/** Feeds `chunks` in order and returns every event's data, end of body included. */
function parse(chunks: Array<string | Buffer>): string[] {
  const parser = new SseParser();
  const events: string[] = [];
  for (const chunk of chunks) events.push(...parser.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
  events.push(...parser.end());
  return events;
}

/** `bytes` cut at every position into two chunks, and into single bytes. */
function everySplit(bytes: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let at = 0; at <= bytes.length; at++) splits.push([bytes.subarray(0, at), bytes.subarray(at)]);
  splits.push([...bytes].map((byte) => Buffer.from([byte])));
  return splits;
}

describe("SseParser", () => {
  test("one data line per event, several events in one chunk", () => {
    expect(parse(['data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'])).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
  });

  test("a chunk split anywhere, even inside `data:`, gives the same events", () => {
    const stream = Buffer.from('data: {"content":"tok0"}\n\ndata: [DONE]\n\n');
    for (const chunks of everySplit(stream)) expect(parse(chunks)).toEqual(['{"content":"tok0"}', "[DONE]"]);
    expect(parse(["da", "ta: x\n", "\n"])).toEqual(["x"]);
  });

  test("a multi-byte UTF-8 character split across chunks is decoded whole", () => {
    const stream = Buffer.from('data: {"content":"héllo 😀 世界"}\n\n');
    const emoji = stream.indexOf(Buffer.from("😀"));
    expect(parse([stream.subarray(0, emoji + 2), stream.subarray(emoji + 2)])).toEqual(['{"content":"héllo 😀 世界"}']);
    for (const chunks of everySplit(stream)) expect(parse(chunks)).toEqual(['{"content":"héllo 😀 世界"}']);
  });

  test("CRLF line ends, a CR and its LF in different chunks included", () => {
    expect(parse(["data: a\r\n\r\ndata: b\r\n\r\n"])).toEqual(["a", "b"]);
    for (const chunks of everySplit(Buffer.from("data: a\r\n\r\ndata: b\r\n\r\n"))) expect(parse(chunks)).toEqual(["a", "b"]);
  });

  test("comments and keep-alives make no event", () => {
    expect(parse([": keep-alive\n\n", ":\n\ndata: x\n: between lines\n\n", ": OPENROUTER PROCESSING\n\n"])).toEqual(["x"]);
  });

  test("data lines of one event join with newlines; other fields are ignored", () => {
    expect(parse(["event: message\nid: 7\nretry: 100\ndata: one\ndata:two\ndata\ndata: \n\n"])).toEqual(["one\ntwo\n\n"]);
    expect(parse(["database: x\ndatum: y\n\n"])).toEqual([]);
  });

  test("blank lines alone dispatch nothing; an unterminated last event still counts at the end", () => {
    expect(parse(["\n\n\n"])).toEqual([]);
    expect(parse(["data: a\n\ndata: [DONE]"])).toEqual(["a", "[DONE]"]);
    expect(parse(["data: a\n"])).toEqual(["a"]);
  });

  test("a line spread over many chunks is joined once", () => {
    const long = "x".repeat(100_000);
    const bytes = Buffer.from(`data: ${long}\n\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 1000) chunks.push(bytes.subarray(at, at + 1000));
    expect(parse(chunks)).toEqual([long]);
  });

  test("property: any events, line ends, comments and chunking parse back to the same data", () => {
    const event = fc.array(fc.string({ unit: "grapheme", maxLength: 12 }).filter((line) => !/[\r\n]/.test(line)), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(event, fc.boolean(), fc.boolean()), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (events, cuts) => {
          const text = events
            .map(([lines, crlf, comment]) => {
              const eol = crlf ? "\r\n" : "\n";
              return `${comment ? `: ping${eol}` : ""}${lines.map((line) => `data: ${line}${eol}`).join("")}${eol}`;
            })
            .join("");
          const bytes = Buffer.from(text);
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((start, index) => bytes.subarray(start, [...points, bytes.length][index]));
          expect(parse(chunks)).toEqual(events.map(([lines]) => lines.join("\n")));
        },
      ),
    );
  });
});
