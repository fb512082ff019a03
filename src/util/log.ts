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

/** The level and sink a logger and all its children share. */
interface Root {
  level: LogLevel;
  sink: Sink;
}

class PrefixLogger implements Logger {
  constructor(private readonly root: Root, private readonly prefix: string) {}

  get level(): LogLevel {
    return this.root.level;
  }

  set level(l: LogLevel) {
    this.root.level = l;
  }

  #at(l: LogLevel, msg: string): void {
    if (LEVELS.indexOf(l) < LEVELS.indexOf(this.root.level)) return;
    const time = new Date().toISOString();
    this.root.sink(l, `${time} ${l.toUpperCase().padEnd(5)} ${this.prefix}${redact(msg)}`);
  }

  trace(msg: string): void {
    this.#at("trace", msg);
  }
  debug(msg: string): void {
    this.#at("debug", msg);
  }
  info(msg: string): void {
    this.#at("info", msg);
  }
  warn(msg: string): void {
    this.#at("warn", msg);
  }
  error(msg: string): void {
    this.#at("error", msg);
  }

  /** Children share the level (changing it changes it for all) and the sink; cheap per request. */
  child(p: string): Logger {
    return new PrefixLogger(this.root, `${this.prefix}${p} `);
  }
}

/** Creates a logger at `level` writing to `sink`. */
export function createLogger(
  level: LogLevel = "info",
  sink: Sink = defaultSink,
  prefix = "",
): Logger {
  return new PrefixLogger({ level, sink }, prefix);
}
