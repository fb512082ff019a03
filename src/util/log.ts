/**
 * A small levelled logger. Every line passes through `redact`, so a secret that reaches a log call
 * by mistake is still masked, and through `escapeLogText`, so that bytes an upstream sent (NUL,
 * 0xFF, line breaks) can neither forge a log line nor reach a terminal raw.
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

/**
 * Characters that must not reach a log line as they are: C0 controls but tab (NUL, CR and LF
 * would forge or break lines, ESC drives terminals), DEL and C1 controls, line and paragraph
 * separators, bidirectional overrides, U+FFFD (what invalid bytes such as 0xFF decode to), and
 * lone surrogates.
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every unsafe character written as an escape (`\n`, `\x00`, `\ufffd`). */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\r") return "\\r";
    const code = ch.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

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
    const text = escapeLogText(`${this.prefix}${redact(msg)}`);
    this.root.sink(l, `${time} ${l.toUpperCase().padEnd(5)} ${text}`);
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
