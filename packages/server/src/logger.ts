import { redactKeys } from "./auth/key-format.js";
import { pino, type DestinationStream } from "pino";
import { captureTestLogLine, capturingTestLogs } from "./test-capture.js";

/** Structured logs, one JSON object per line on stderr. */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * The server's logger, on pino (issue #11): one JSON line per entry,
 * `{"level":"info","time":"<ISO 8601>","msg":...,...fields}`, the shape the
 * hand-written logger had, so log pipelines keep their parsers. An `err`
 * field is written as its name, message and stack only: not pino's default
 * serializer, which copies every property of the error, and a provider
 * SDK's error carries the request it failed (the AI SDK's
 * `requestBodyValues`: the prompt) and its headers. Writes are
 * synchronous to stderr (pino's default destination, fd 2): a line is on
 * its way before a crash, and one write per line costs about a microsecond
 * (docs/observability.md). `write` replaces stderr (tests capture lines).
 */
export function createLogger(level: LogLevel = "info", write?: (line: string) => void): Logger {
  const destination = write ? { write } : pino.destination({ dest: 2, sync: true });
  const wanted = level in LEVELS ? level : "info";
  return pino(
    {
      level: capturingTestLogs && LEVELS[wanted] > LEVELS.info ? "info" : wanted,
      // No pid and hostname on every line: the process's supervisor knows them.
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: errorFields },
    },
    capturingTestLogs ? capturedToo(destination, wanted) : destination,
  );
}

/** The test suite's capture (test-capture.ts): every line goes to it, and on to `destination` if at `level` or above. */
function capturedToo(destination: DestinationStream, level: LogLevel): DestinationStream {
  return {
    write(line: string) {
      captureTestLogLine(line);
      const label = /^\{"level":"(\w+)"/.exec(line)?.[1] as LogLevel | undefined;
      if (label === undefined || LEVELS[label] >= LEVELS[level]) destination.write(line);
    },
  };
}

function errorFields(value: unknown): unknown {
  // An error's message may quote what a request sent: a key in it is never written down.
  return value instanceof Error
    ? { name: value.name, message: redactKeys(value.message), ...(value.stack ? { stack: redactKeys(value.stack) } : {}) }
    : value;
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return value !== undefined && value in LEVELS ? (value as LogLevel) : "info";
}
