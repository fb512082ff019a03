/**
 * The properties every upstream stream reader must have, for any reader given as a `StreamSpec`
 * (a generator of complete upstream answers with what they must read as, and the reader):
 *
 * - a complete answer cut into pieces anywhere reads as its model says, and as in one piece;
 * - a truncated answer (any prefix of its bytes) is an error, or the whole answer (the cut came
 *   after its end): never a shorter answer that ends cleanly ("corrupted without error");
 * - events whose JSON has a random part replaced, frames dropped, duplicated or garbled, and
 *   plain garbage give an answer or one of the reader's documented errors (a `GatewayError` with
 *   a 4xx/5xx status), never a TypeError, and within the per-case time ceiling.
 *
 * @module
 */
import { assertEquals } from "../assert.ts";
import type { ChatEvent } from "../../src/core/events.ts";
import {
  anyText,
  assertAllowedError,
  assertWellFormed,
  body,
  check,
  comparable,
  cutsArb,
  type Digest,
  digest,
  fc,
  type Outcome,
  outcome,
  timed,
} from "./fuzz.ts";

/** One frame of an upstream stream: an SSE event (or an NDJSON line) with its JSON payload. */
export interface Frame {
  event?: string;
  /** The payload: JSON.stringify'd, or written as it is when `raw`. */
  data: unknown;
  raw?: boolean;
}

/** A complete upstream answer and what it must read as. */
export interface Answer {
  frames: Frame[];
  expect: Digest;
}

/** A reader under test. */
export interface StreamSpec {
  /** The reader's name in test names. */
  name: string;
  answer: fc.Arbitrary<Answer>;
  read(body: ReadableStream<Uint8Array>): AsyncIterable<ChatEvent>;
  /** How frames are written (default: SSE with `\n` line ends). */
  write?(frames: Frame[]): string;
  /** Makes events comparable across runs (e.g. drops ids the reader invents). */
  normalize?(events: ChatEvent[]): ChatEvent[];
  /** Error classes the reader may throw (default: GatewayError). */
  // deno-lint-ignore no-explicit-any
  errors?: (abstract new (...args: any[]) => unknown)[];
}

/** Frames as SSE: `event:` when named, one `data:` line, a blank line. */
export function writeSse(frames: Frame[]): string {
  return frames.map((f) => {
    const data = f.raw ? String(f.data) : JSON.stringify(f.data);
    const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join("");
    return (f.event !== undefined ? `event: ${f.event}\n` : "") + lines + "\n";
  }).join("");
}

/** Frames as NDJSON lines. */
export function writeNdjson(frames: Frame[]): string {
  return frames.map((f) => (f.raw ? String(f.data) : JSON.stringify(f.data)) + "\n").join("");
}

/** Every path to a node of a JSON value (the root is `[]`). */
function paths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  }
  return out;
}

/** `value` with the node at path number `pick` replaced (or removed, for `undefined`). */
export function mutateJson(value: unknown, pick: number, replacement: unknown): unknown {
  const all = paths(value);
  const path = all[pick % all.length];
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

/** What may replace a part of an upstream's JSON: any JSON, or a value of a confusing type. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(undefined, null, "", 0, -1, 1.5, 1e308, [], {}, "x", true, false, [null], {
    a: 1,
  }),
);

/** One change to a frame list. */
const frameEdit = fc.oneof(
  fc.record({ kind: fc.constant("json" as const), pick: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant("drop" as const) }),
  fc.record({ kind: fc.constant("dup" as const) }),
  fc.record({ kind: fc.constant("garbage" as const), text: anyText }),
  fc.record({ kind: fc.constant("rename" as const), event: fc.option(fc.string()) }),
);

type FrameEdit = typeof frameEdit extends fc.Arbitrary<infer E> ? E : never;

function applyEdits(frames: Frame[], edits: [number, FrameEdit][]): Frame[] {
  const out = [...frames];
  for (const [at, e] of edits) {
    if (out.length === 0) break;
    const i = at % out.length;
    const f = out[i];
    switch (e.kind) {
      case "json":
        out[i] = f.raw ? f : { ...f, data: mutateJson(f.data, e.pick, e.value) };
        if (out[i].data === undefined) out[i] = { ...f, data: null };
        break;
      case "drop":
        out.splice(i, 1);
        break;
      case "dup":
        out.splice(i, 0, f);
        break;
      case "garbage":
        out.splice(i, 0, { event: f.event, data: e.text.replace(/[\r\n]/g, " "), raw: true });
        break;
      case "rename":
        out[i] = { ...f, event: e.event ?? undefined };
        break;
    }
  }
  return out;
}

function readAll(spec: StreamSpec, wire: string | Uint8Array, cuts: number[] | "bytes" = []) {
  return outcome(spec.read(body(wire, cuts)));
}

function norm(spec: StreamSpec, o: Outcome<ChatEvent>): Outcome<ChatEvent> {
  return o.ok && spec.normalize ? { ok: true, items: spec.normalize(o.items) } : o;
}

/** An answer of well-formed events, or one of the reader's documented errors. */
function failIfBad(spec: StreamSpec, o: Outcome<ChatEvent>): void {
  if (!o.ok) assertAllowedError(o.error, spec.errors);
  else assertWellFormed(o.items);
}

/** Registers the properties of `spec` as Deno tests (`runs` per property in CI). */
export function streamProperties(spec: StreamSpec, runs = 150): void {
  const write = (frames: Frame[]) => (spec.write ?? writeSse)(frames);

  Deno.test(`fuzz ${spec.name}: a complete answer cut anywhere reads as its model`, async () => {
    await check(
      fc.asyncProperty(
        spec.answer,
        cutsArb,
        timed(async (a, cuts) => {
          const wire = write(a.frames);
          const whole = norm(spec, await readAll(spec, wire));
          if (!whole.ok) throw whole.error;
          assertEquals(digest(whole.items), a.expect);
          assertEquals(norm(spec, await readAll(spec, wire, cuts)), whole);
        }),
      ),
      runs,
    );
  });

  Deno.test(`fuzz ${spec.name}: a truncated answer is an error or the whole answer`, async () => {
    await check(
      fc.asyncProperty(
        spec.answer,
        fc.nat(),
        cutsArb,
        timed(async (a, at, cuts) => {
          const bytes = new TextEncoder().encode(write(a.frames));
          const prefix = bytes.slice(0, at % (bytes.length + 1));
          const got = await readAll(spec, prefix, cuts);
          failIfBad(spec, got);
          // Ending cleanly is right only when everything the answer says arrived.
          const read = norm(spec, got);
          if (read.ok) assertEquals(digest(read.items), a.expect);
        }),
      ),
      runs * 2,
    );
  });

  Deno.test(`fuzz ${spec.name}: odd JSON, dropped and garbled frames, documented errors only`, async () => {
    await check(
      fc.asyncProperty(
        spec.answer,
        fc.array(fc.tuple(fc.nat(), frameEdit), { minLength: 1, maxLength: 4 }),
        cutsArb,
        timed(async (a, edits, cuts) => {
          const wire = write(applyEdits(a.frames, edits));
          const whole = await readAll(spec, wire);
          failIfBad(spec, whole);
          const pieces = await readAll(spec, wire, cuts);
          assertEquals(comparable(norm(spec, pieces)), comparable(norm(spec, whole)));
        }),
      ),
      runs * 3,
    );
  });

  Deno.test(`fuzz ${spec.name}: garbage bodies give documented errors only`, async () => {
    await check(
      fc.asyncProperty(
        fc.oneof(
          anyText,
          fc.uint8Array({ maxLength: 300 }),
          fc.jsonValue().map((v) => `data: ${JSON.stringify(v)}\n\n`),
        ),
        timed(async (garbage) => {
          failIfBad(spec, await readAll(spec, garbage));
        }),
      ),
      runs,
    );
  });
}
