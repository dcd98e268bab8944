import { describe, expect, it } from "vitest";
import { readSse, SseDecoder, type SseMessage } from "../src/internal/sse.js";

function decodeChunks(chunks: string[]): SseMessage[] {
  const decoder = new SseDecoder();
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

/** Every way of cutting `text` into two chunks must parse the same. */
function everySplit(text: string): SseMessage[][] {
  return Array.from({ length: text.length + 1 }, (_, i) => decodeChunks([text.slice(0, i), text.slice(i)]));
}

describe("SseDecoder", () => {
  it("parses id, event and data and defaults the event name", () => {
    expect(decodeChunks(["id: 3\nevent: result\ndata: {\"a\":1}\n\ndata: x\n\n"])).toEqual([
      { id: "3", event: "result", data: '{"a":1}' },
      { id: undefined, event: "message", data: "x" },
    ]);
  });

  it("joins multi-line data with \\n and keeps spaces after the first", () => {
    expect(decodeChunks(["data: one\ndata:two\ndata:   three\n\n"])).toEqual([{ id: undefined, event: "message", data: "one\ntwo\n  three" }]);
  });

  it("ignores comments (heartbeats) and unknown fields, and drops events without data", () => {
    expect(decodeChunks([": heartbeat\n\n:\nretry: 10\nfoo: bar\ndata: x\n\nevent: ping\n\n"])).toEqual([{ id: undefined, event: "message", data: "x" }]);
  });

  it("gives the same result whichever byte a chunk boundary falls on, with LF, CRLF or CR", () => {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const text = ["id: 1", "event: assistant_delta", 'data: {"text":"a:b"}', "", ": hb", "id: 2", "data: l1", "data: l2", "", ""].join(eol);
      const expected = [
        { id: "1", event: "assistant_delta", data: '{"text":"a:b"}' },
        { id: "2", event: "message", data: "l1\nl2" },
      ];
      for (const parsed of everySplit(text)) expect(parsed).toEqual(expected);
    }
  });

  it("treats a CR at the end of a chunk and an LF at the start of the next as one line end", () => {
    expect(decodeChunks(["data: a\r", "\n\r", "\ndata: b\r\n\r\n"])).toEqual([
      { id: undefined, event: "message", data: "a" },
      { id: undefined, event: "message", data: "b" },
    ]);
  });

  it("keeps an unfinished event until its blank line arrives", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("data: par")).toEqual([]);
    expect(decoder.push("tial\n")).toEqual([]);
    expect(decoder.push("\n")).toEqual([{ id: undefined, event: "message", data: "partial" }]);
  });

  it("strips a leading byte order mark only", () => {
    expect(decodeChunks(["\uFEFFdata: \uFEFFx\n\n"])).toEqual([{ id: undefined, event: "message", data: "\uFEFFx" }]);
  });
});

describe("readSse", () => {
  it("decodes UTF-8 split across chunks and reports every chunk for the watchdog", async () => {
    const bytes = new TextEncoder().encode('data: {"text":"héllo ✓"}\n\n: hb\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    let chunks = 0;
    const out: SseMessage[] = [];
    for await (const message of readSse(body, { onBytes: () => chunks++ })) out.push(message);
    expect(out).toEqual([{ id: undefined, event: "message", data: '{"text":"héllo ✓"}' }]);
    expect(chunks).toBe(bytes.length);
  });

  it("cancels the body when the reader stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: 1\n\ndata: 2\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of readSse(body)) {
      expect(message.data).toBe("1");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
