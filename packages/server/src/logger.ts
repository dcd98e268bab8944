/** Structured logs, one JSON object per line on stderr. */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export function createLogger(level: LogLevel = "info", write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const threshold = LEVELS[level] ?? LEVELS.info;
  const log = (name: "info" | "warn" | "error") => (fields: Record<string, unknown>, message: string) => {
    if (LEVELS[name] < threshold) return;
    const entry: Record<string, unknown> = { level: name, time: new Date().toISOString(), msg: message };
    for (const [key, value] of Object.entries(fields)) {
      entry[key] = value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return { info: log("info"), warn: log("warn"), error: log("error") };
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return value !== undefined && value in LEVELS ? (value as LogLevel) : "info";
}
