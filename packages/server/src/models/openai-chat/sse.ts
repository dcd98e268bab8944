const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const DATA = Buffer.from("data");
/** A line longer than this is not an LLM stream: fail instead of buffering without bound. */
const MAX_LINE_BYTES = 32 * 1024 * 1024;

/**
 * Server-sent events parser working on the raw Buffers of an HTTP response,
 * keeping only `data` (Chat Completions uses neither `event` nor `id`).
 *
 * Lines are found with Buffer.indexOf and decoded only once complete: '\n'
 * never occurs inside a multi-byte UTF-8 sequence, so a character split
 * across chunks is decoded whole, with no StringDecoder state to carry.
 * Line ends are LF or CRLF; a lone CR (legal in SSE, used by no Chat
 * Completions server) is not treated as a line end.
 */
export class SseParser {
  /** The start of an unterminated line, kept until its '\n' arrives. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The data lines of the event being read, joined with '\n'. */
  private data: string | undefined;
  private started = false;
  private readonly events: string[] = [];

  /**
   * The data of every event that `chunk` completes, in order. The array is
   * reused by the next call: read it before pushing again.
   */
  push(chunk: Buffer): string[] {
    this.events.length = 0;
    let buffer = chunk;
    if (!this.started) buffer = this.skipBom(buffer);
    let start = 0;
    let end = buffer.indexOf(LF);
    if (this.pending.length > 0) {
      if (end < 0) return this.keep(buffer), this.events;
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
    // Field name up to the first colon; only `data` matters (see class comment).
    const length = end - start;
    if (length < 4 || buffer.compare(DATA, 0, 4, start, start + 4) !== 0) return;
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

  private skipBom(buffer: Buffer): Buffer {
    // Wait for 3 bytes before deciding; a first chunk shorter than that is rare but legal.
    if (buffer.length < 3 && this.pending.length === 0 && buffer.length > 0 && buffer[0] === 0xef) return buffer;
    this.started = true;
    return buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? buffer.subarray(3) : buffer;
  }
}
