const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
/** A line longer than this is not an LLM stream: fail instead of buffering without bound. */
const MAX_LINE_BYTES = 32 * 1024 * 1024;

/**
 * Server-sent events parser working on the raw Buffers of an HTTP response,
 * keeping only `data` (Chat Completions uses neither `event` nor `id`).
 *
 * Lines are found with Buffer.indexOf and decoded only once complete: '\n'
 * never occurs inside a multi-byte UTF-8 sequence, so a character split
 * across chunks is decoded whole, with no StringDecoder state to carry.
 * Line ends are LF or CRLF. Not handled, as no Chat Completions server
 * sends them: a lone CR as a line end, a leading byte-order mark.
 */
export class SseParser {
  /** The start of an unterminated line, kept until its '\n' arrives. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The data lines of the event being read, joined with '\n'. */
  private data: string | undefined;
  private readonly events: string[] = [];

  /**
   * The data of every event that `chunk` completes, in order. The array is
   * reused by the next call: read it before pushing again.
   */
  push(chunk: Buffer): string[] {
    this.events.length = 0;
    let buffer = chunk;
    let start = 0;
    let end = buffer.indexOf(LF);
    if (this.pending.length > 0) {
      if (end < 0) return (this.keep(buffer), this.events);
      // One concat per line however many chunks it came in: linear, not quadratic.
      const head = this.pending;
      head.push(buffer);
      buffer = Buffer.concat(head, this.pendingBytes + buffer.length);
      end += this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
    }
    while (end >= 0) {
      this.line(buffer, start, end > start && buffer[end - 1] === CR ? end - 1 : end);
      start = end + 1;
      end = buffer.indexOf(LF, start);
    }
    if (start < buffer.length) this.keep(start === 0 ? buffer : buffer.subarray(start));
    return this.events;
  }

  /** At the end of the body: an unterminated last line and event still count. */
  end(): string[] {
    this.events.length = 0;
    if (this.pending.length > 0) {
      const rest = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.line(rest, 0, rest[rest.length - 1] === CR ? rest.length - 1 : rest.length);
    }
    this.dispatch();
    return this.events;
  }

  private line(buffer: Buffer, start: number, end: number): void {
    if (start === end) return this.dispatch();
    if (buffer[start] === COLON) return; // a comment, e.g. `: keep-alive`
    // The field name runs to the first colon; only `data` matters here.
    // 0x64 0x61 0x74 0x61 = "data", compared in place to decode nothing else.
    if (end - start < 4 || buffer[start] !== 0x64 || buffer[start + 1] !== 0x61 || buffer[start + 2] !== 0x74 || buffer[start + 3] !== 0x61)
      return;
    let from = start + 4;
    if (from < end) {
      if (buffer[from] !== COLON) return; // `dataX...`: another field
      from += 1;
      if (buffer[from] === SPACE) from += 1;
    }
    const value = buffer.toString("utf8", from, end);
    this.data = this.data === undefined ? value : `${this.data}\n${value}`;
  }

  private dispatch(): void {
    if (this.data === undefined) return;
    this.events.push(this.data);
    this.data = undefined;
  }

  private keep(buffer: Buffer): void {
    this.pendingBytes += buffer.length;
    if (this.pendingBytes > MAX_LINE_BYTES) throw new Error(`an event-stream line is longer than ${MAX_LINE_BYTES} bytes`);
    this.pending.push(buffer);
  }
}
