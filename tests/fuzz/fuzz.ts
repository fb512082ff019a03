/**
 * Shared pieces of the property-based fuzz tests (fast-check): one fixed seed and a bounded number
 * of runs per property so that CI is reproducible and quick, a larger count on demand
 * (`FUZZ_RUNS=5000 deno test -A tests/fuzz/`), another seed to explore (`FUZZ_SEED=7`), a time
 * ceiling per case (no unbounded work), chunkings of a body, and the outcome of reading a stream.
 *
 * A failing property prints its seed and the shrunk counterexample; `FUZZ_SEED=<seed>` with
 * `FUZZ_PATH=<path>` replays exactly that case.
 *
 * @module
 */
import fc from "fast-check";
import { GatewayError } from "../../src/openai/errors.ts";
import type { ChatEvent } from "../../src/core/events.ts";

export { fc };

function envInt(name: string): number | undefined {
  const v = Deno.env.get(name);
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`);
  return n;
}

/** The seed of every property (fixed, so that a CI failure is reproducible). */
export const SEED = envInt("FUZZ_SEED") ?? 20_260_515;

/** Runs of a property: `ci` by default, `FUZZ_RUNS` when set. */
export function runs(ci: number): number {
  return envInt("FUZZ_RUNS") ?? ci;
}

/** Milliseconds one case may take at most: generous (the machine is shared), yet finite. */
export const CASE_CEILING_MS = envInt("FUZZ_CASE_MS") ?? 5_000;

/** Checks `property` with the fixed seed and `ci` runs (or `FUZZ_RUNS`). */
export async function check<T>(
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  ci: number,
): Promise<void> {
  const path = Deno.env.get("FUZZ_PATH");
  await fc.assert(property as fc.IAsyncProperty<T>, {
    seed: SEED,
    numRuns: runs(ci),
    ...(path ? { path } : {}),
  });
}

/**
 * Wraps a predicate so that a case taking longer than `ms` fails (work that grows without bound
 * on some input shows up as a failure with that input, not as a hung run).
 */
export function timed<A extends unknown[]>(
  fn: (...args: A) => unknown | Promise<unknown>,
  ms = CASE_CEILING_MS,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const t0 = performance.now();
    await fn(...args);
    const took = performance.now() - t0;
    if (took > ms) throw new Error(`one case took ${Math.round(took)} ms (ceiling ${ms} ms)`);
  };
}

/** `timed` for synchronous predicates (for `fc.property`). */
export function timedSync<A extends unknown[]>(
  fn: (...args: A) => unknown,
  ms = CASE_CEILING_MS,
): (...args: A) => void {
  return (...args: A) => {
    const t0 = performance.now();
    fn(...args);
    const took = performance.now() - t0;
    if (took > ms) throw new Error(`one case took ${Math.round(took)} ms (ceiling ${ms} ms)`);
  };
}

/** Cut points of a body: raw numbers (taken modulo its length), or "every byte its own piece". */
export const cutsArb: fc.Arbitrary<number[] | "bytes"> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.nat(), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant("bytes" as const) },
);

const enc = new TextEncoder();

/** `data` (text or bytes) cut into pieces at `cuts`. */
export function cut(data: string | Uint8Array, cuts: number[] | "bytes"): Uint8Array[] {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  if (cuts === "bytes") return Array.from(bytes, (b) => new Uint8Array([b]));
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of at) {
    out.push(bytes.slice(last, p));
    last = p;
  }
  out.push(bytes.slice(last));
  return out;
}

/** A body that delivers `pieces` one per read. */
export function bodyOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < pieces.length) c.enqueue(pieces[i++]);
      else c.close();
    },
  });
}

/** A body of `data` cut at `cuts`. */
export function body(data: string | Uint8Array, cuts: number[] | "bytes" = []) {
  return bodyOf(cut(data, cuts));
}

/** What reading a stream gave: every item, or the error that ended it. */
export type Outcome<T> = { ok: true; items: T[] } | { ok: false; error: unknown };

/** Reads `it` to its end. */
export async function outcome<T>(it: AsyncIterable<T> | Iterable<T>): Promise<Outcome<T>> {
  const items: T[] = [];
  try {
    for await (const v of it) items.push(v);
    return { ok: true, items };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Fails unless `err` is one of the `allowed` error types (by default a `GatewayError` with an
 * HTTP status of 4xx or 5xx): garbage from an upstream is an upstream error, never a TypeError.
 */
export function assertAllowedError(
  err: unknown,
  // deno-lint-ignore no-explicit-any
  allowed: (abstract new (...args: any[]) => unknown)[] = [GatewayError],
): void {
  if (!allowed.some((t) => err instanceof t)) {
    throw new Error(`threw ${describe(err)}, not one of ${allowed.map((t) => t.name).join(", ")}`);
  }
  if (err instanceof GatewayError && (err.status < 400 || err.status > 599)) {
    throw new Error(`a GatewayError with status ${err.status}: ${err.message}`);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack ?? ""}`;
  return String(err);
}

/** A comparable form of an outcome: its items, or the error's class, status and message. */
export function comparable<T>(o: Outcome<T>): unknown {
  if (o.ok) return { items: o.items };
  const e = o.error as { name?: string; status?: number; message?: string };
  return { error: e?.name, status: e?.status, message: e?.message };
}

/** What an answer says, chunking aside: per choice its text, reasoning, calls and finish. */
export interface Digest {
  [choice: number]: {
    text: string;
    reasoning: string;
    calls: Record<number, { id?: string; name?: string; args: string }>;
    citations: string[];
    finish?: string;
  };
}

/** The digest of a list of events (usage left out: it is the meter's business). */
export function digest(events: readonly ChatEvent[]): Digest {
  const out: Digest = {};
  const of = (c = 0) =>
    out[c] ??= { text: "", reasoning: "", calls: {}, citations: [], finish: undefined };
  for (const e of events) {
    switch (e.type) {
      case "text":
        of(e.choice).text += e.text;
        break;
      case "reasoning":
        of(e.choice).reasoning += e.text;
        break;
      case "tool_call": {
        const calls = of(e.choice).calls;
        const call = calls[e.index] ??= { id: e.id, name: e.name, args: "" };
        call.args += e.arguments;
        break;
      }
      case "citation":
        of(e.choice).citations.push(`${e.index} ${e.url}`);
        break;
      case "finish":
        of(e.choice).finish = e.reason;
        break;
    }
  }
  return out;
}

const FINISH_REASONS = new Set(["stop", "length", "tool_calls", "content_filter"]);

function isCount(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

function isIndex(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function optional(v: unknown, test: (v: unknown) => boolean): boolean {
  return v === undefined || test(v);
}

const isString = (v: unknown) => typeof v === "string";

/**
 * Fails unless every event has the types `core/events.ts` promises (a reader that lets an
 * upstream's number through as text breaks whatever reads the text next), and the first event of
 * each tool call names it.
 */
export function assertWellFormed(events: readonly ChatEvent[]): void {
  const named = new Set<string>();
  for (const e of events) {
    const ev = e as unknown as Record<string, unknown>;
    const ok = optional(ev.choice, isIndex) && (() => {
      switch (e.type) {
        case "text":
          return isString(ev.text);
        case "reasoning":
          return isString(ev.text) && optional(ev.signature, isString);
        case "tool_call": {
          const key = `${e.choice ?? 0}:${e.index}`;
          const first = !named.has(key);
          named.add(key);
          return isIndex(ev.index) && isString(ev.arguments) && optional(ev.id, isString) &&
            (first ? isString(ev.name) : optional(ev.name, isString)) &&
            optional(ev.extra, (x) => typeof x === "object" && x !== null);
        }
        case "citation":
          return isIndex(ev.index) && (ev.index as number) >= 1 && isString(ev.url) &&
            optional(ev.title, isString);
        case "usage":
          return isCount(ev.prompt_tokens) && isCount(ev.completion_tokens) &&
            optional(ev.cached_tokens, isCount) && optional(ev.reasoning_tokens, isCount) &&
            optional(ev.cache_creation_tokens, isCount);
        case "finish":
          return FINISH_REASONS.has(ev.reason as string) && optional(ev.stop_sequence, isString);
        default:
          return false;
      }
    })();
    if (!ok) throw new Error(`a malformed event: ${JSON.stringify(e)}`);
  }
}

/** A string of any code units, lone surrogates included (what a hostile peer may send). */
export const anyText: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map(String.fromCharCode) },
    { weight: 2, arbitrary: fc.constantFrom("\n", "\r", "\r\n", ":", "{", "}", '"', "<", ">") },
  ),
  maxLength: 200,
});

/** Ordinary answer text: letters, punctuation, line ends, CJK and emoji. */
export const answerText: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom("\n", "\r\n", "\t", "你", "好", "é", "🙂", "𝄞") },
  ),
  maxLength: 40,
});
