/** One dispatched server-sent event. */
export interface SseMessage {
  /** The `id:` field of this event, if it had one. */
  id: string | undefined;
  /** The `event:` field; `message` when absent (as in the HTML spec). */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/**
 * Incremental parser for text/event-stream, following the HTML spec's
 * "event stream interpretation": lines end in CRLF, LF or a lone CR (also
 * when a chunk ends between CR and LF), `:` lines are comments, an event is
 * dispatched at a blank line and only if it has data.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export class SseDecoder {
  private buffer = "";
  private skipLeadingLf = false;
  private started = false;
  private data: string[] = [];
  private event = "";
  private id: string | undefined;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseMessage[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch === "\n" && this.skipLeadingLf && i === start) {
        this.skipLeadingLf = false;
        start = i + 1;
        continue;
      }
      this.skipLeadingLf = false;
      if (ch !== "\n" && ch !== "\r") continue;
      const message = this.line(this.buffer.slice(start, i));
      if (message) out.push(message);
      if (ch === "\r") {
        if (this.buffer[i + 1] === "\n") i++;
        else if (i + 1 === this.buffer.length) this.skipLeadingLf = true;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const message: SseMessage | undefined =
      this.data.length === 0 ? undefined : { id: this.id, event: this.event || "message", data: this.data.join("\n") };
    this.data = [];
    this.event = "";
    this.id = undefined;
    return message;
  }
}

/**
 * Reads SSE events from a response body. `onBytes` runs for every chunk,
 * heartbeat comments included, to feed an idle watchdog. Ending the
 * iteration early (`break`, `return`, a throw) cancels the body, and so does
 * `signal`, even with a `fetch` that does not tie its body to its signal.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, options: { onBytes?: () => void; signal?: AbortSignal } = {}): AsyncGenerator<SseMessage> {
  const { onBytes, signal } = options;
  const reader = body.getReader();
  const text = new TextDecoder();
  const decoder = new SseDecoder();
  let done = false;
  const onAbort = (): void => void reader.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const chunk = await reader.read();
      // A cancelled reader reports a clean end: it was not one.
      if (signal?.aborted) throw signal.reason;
      if (chunk.done) {
        done = true;
        // An event not followed by a blank line is incomplete: the spec drops it.
        decoder.push(text.decode());
        return;
      }
      onBytes?.();
      yield* decoder.push(text.decode(chunk.value, { stream: true }));
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
