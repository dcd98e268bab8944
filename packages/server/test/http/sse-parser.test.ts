import type { ServerResponse } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readSse, SseDecoder, type SseMessage } from "../../../client/src/internal/sse.js";
import { errorFrame } from "../../src/http/sse/error-frame.js";
import { FrameWriter } from "../../src/http/sse/frame-writer.js";
import type { StoredEvent } from "../../src/store/types.js";

/**
 * The SDK's SSE parser against the server's frame writer, as a property:
 * any events with any text (every code point, lone surrogates, CR, LF,
 * U+2028, NUL, text that looks like SSE fields), split into chunks at any
 * byte (inside a UTF-8 sequence, between CR and LF), come out as exactly
 * the events written — same ids, types and data, none more.
 */

/** What the frame writer writes, collected instead of sent. */
function wire(events: StoredEvent[], heartbeatAfter: number[]): string {
  const out: string[] = [];
  const res = {
    write: (text: string) => out.push(text),
    end: (text?: string) => text && out.push(text),
    writableLength: 0,
    destroy: () => undefined,
  };
  const writer = new FrameWriter(res as unknown as ServerResponse, 0, Number.MAX_SAFE_INTEGER, () => undefined);
  events.forEach((event, i) => {
    writer.write([event]);
    // Heartbeats between frames, as an idle stream sends them.
    if (heartbeatAfter.includes(i)) out.push(": ping\n\n");
  });
  return out.join("");
}

const lookalikes = fc.constantFrom(
  "\r",
  "\n",
  "\r\n",
  "\u2028",
  "\u2029",
  "\u0000",
  "\ufeff",
  "data: ",
  "event: ",
  "id: ",
  ":",
  "\n\n",
  "retry: 0",
);
/** Strings of any UTF-16 code units (lone surrogates included) with SSE's special characters mixed in. */
const hostileText = fc
  .array(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: fc.constantFrom("\ud800", "\udfff", "a") }), lookalikes), {
    maxLength: 8,
  })
  .map((parts) => parts.join(""));

const eventsArbitrary = fc
  .array(
    fc.record({
      type: fc.constantFrom("assistant_delta", "tool_call", "local_tool_call", "started"),
      text: hostileText,
      extra: fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
    }),
    {
      minLength: 1,
      maxLength: 12,
    },
  )
  .map((drafts) =>
    drafts.map(({ type, text, extra }, i): StoredEvent => {
      const seq = i + 1;
      const last = i === drafts.length - 1;
      const fields = { ...extra, seq, type: last ? "result" : type, text };
      return { runId: "run_1", seq, type: fields.type, data: JSON.stringify(fields) };
    }),
  );

/** Byte offsets to cut the stream at, as fractions of its length. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 });

function chunksOf(bytes: Uint8Array, fractions: number[]): Uint8Array[] {
  const offsets = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of [...offsets, bytes.length]) {
    if (to > from) chunks.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return chunks;
}

async function parse(chunks: Uint8Array[]): Promise<SseMessage[]> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const messages: SseMessage[] = [];
  for await (const message of readSse(body)) messages.push(message);
  return messages;
}

function expected(events: StoredEvent[]): SseMessage[] {
  return events.map((event) => ({ id: String(event.seq), event: event.type, data: event.data }));
}

describe("the SDK's SSE parser reads the server's frames back exactly", () => {
  it("any events, any text, split at any byte", async () => {
    await fc.assert(
      fc.asyncProperty(eventsArbitrary, fc.array(fc.nat(12), { maxLength: 4 }), cuts, async (events, pings, at) => {
        const bytes = new TextEncoder().encode(wire(events, pings));
        const messages = await parse(chunksOf(bytes, at));
        expect(messages).toEqual(expected(events));
        // And back to the values: what the server stored, code unit for code unit (JSON escapes the lone surrogates).
        expect(messages.map((message) => JSON.parse(message.data))).toEqual(events.map((event) => JSON.parse(event.data)));
      }),
      { numRuns: 300 },
    );
  });

  it("the same events whatever line ending a proxy rewrites them to (CRLF, CR, LF), even with a chunk ending between CR and LF", async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArbitrary,
        fc.array(fc.constantFrom("\r\n", "\r", "\n"), { minLength: 1 }),
        cuts,
        fc.boolean(),
        async (events, endings, at, cutAfterEachCr) => {
          let line = 0;
          let previous = "";
          // A CR ending followed by an LF one would be one CRLF ending: the LF becomes CRLF then.
          const text = wire(events, []).replace(/\n/g, () => {
            const ending = endings[line++ % endings.length]!;
            previous = previous === "\r" && ending === "\n" ? "\r\n" : ending;
            return previous;
          });
          const bytes = new TextEncoder().encode(text);
          // Random cuts rarely fall between a CR and its LF: half the cases cut there every time.
          const afterCr = cutAfterEachCr ? [...bytes.keys()].filter((i) => bytes[i - 1] === 0x0d).map((i) => i / bytes.length) : [];
          const messages = await parse(chunksOf(bytes, [...at, ...afterCr]));
          expect(messages).toEqual(expected(events));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("every CR/LF split of CRLF line endings, one character at a time", () => {
    const events = [
      { runId: "r", seq: 1, type: "assistant_delta", data: JSON.stringify({ text: "a\r\nb\u2028" }) },
      { runId: "r", seq: 2, type: "result", data: JSON.stringify({ text: "\r" }) },
    ];
    const text = wire(events, [0]).replace(/\n/g, "\r\n");
    const decoder = new SseDecoder();
    const messages = [...text].flatMap((ch) => decoder.push(ch));
    expect(messages).toEqual(expected(events));
  });

  it("an error frame with hostile text in its message is one frame, without an id", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, cuts, async (message, at) => {
        const frame = errorFrame({ error: message, code: "internal", message, requestId: "req_1" });
        const messages = await parse(chunksOf(new TextEncoder().encode(frame), at));
        expect(messages).toHaveLength(1);
        expect(messages[0]?.id).toBeUndefined();
        expect(JSON.parse(messages[0]!.data)).toEqual({ type: "error", error: message, code: "internal", message, requestId: "req_1" });
      }),
      { numRuns: 200 },
    );
  });
});
