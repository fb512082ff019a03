/**
 * A small levelled logger. Every line passes through `redact`, so a secret that reaches a log call
 * by mistake is still masked.
 *
 * @module
 */
import { redact } from "./mask.ts";

/** Log levels from most to least verbose. */
export const LEVELS = ["trace", "debug", "info", "warn", "error", "silent"] as const;
/** One log level. */
export type LogLevel = typeof LEVELS[number];

/** The logger every module receives. */
export interface Logger {
  level: LogLevel;
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** A logger whose lines carry `prefix` (a request id, a provider). */
  child(prefix: string): Logger;
}

/** Where lines go; replaceable in tests. */
export type Sink = (level: LogLevel, line: string) => void;

function defaultSink(level: LogLevel, line: string): void {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

/** Creates a logger at `level` writing to `sink`. */
export function createLogger(
  level: LogLevel = "info",
  sink: Sink = defaultSink,
  prefix = "",
): Logger {
  const state = { level };
  const at = (l: LogLevel) => (msg: string) => {
    if (LEVELS.indexOf(l) < LEVELS.indexOf(state.level)) return;
    const time = new Date().toISOString();
    sink(l, `${time} ${l.toUpperCase().padEnd(5)} ${prefix}${redact(msg)}`);
  };
  const logger: Logger = {
    get level() {
      return state.level;
    },
    set level(l: LogLevel) {
      state.level = l;
    },
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (p: string) => {
      const c = createLogger(state.level, sink, `${prefix}${p} `);
      return c;
    },
  };
  return logger;
}
