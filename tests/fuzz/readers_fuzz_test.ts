/**
 * Property-based tests of the byte-stream readers (`net/lines.ts`, `net/sse.ts`, `net/ndjson.ts`):
 * a body cut at arbitrary positions reads as a model of its text says, and as the whole body
 * reads; random bytes never throw anything but the reader's documented error.
 */
import { assertEquals } from "../assert.ts";
import { LineSplitter, readLines } from "../../src/net/lines.ts";
import { NdjsonError, readNdjson } from "../../src/net/ndjson.ts";
import { formatSse, readSse, type SseEvent } from "../../src/net/sse.ts";
import {
  anyText,
  assertAllowedError,
  body,
  check,
  comparable,
  cutsArb,
  fc,
  outcome,
  timed,
} from "./fuzz.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a text becomes after a round trip through UTF-8 (lone surrogates turn into U+FFFD). */
function utf8(text: string): string {
  return dec.decode(enc.encode(text));
}

const eol = fc.constantFrom("\n", "\r\n", "\r");

/** The lines of `text` as the readers define them. */
function linesOf(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (/[\r\n]$/.test(text)) lines.pop();
  return lines;
}

Deno.test("fuzz lines: any text cut anywhere gives its lines", async () => {
  await check(
    fc.asyncProperty(
      anyText,
      cutsArb,
      timed(async (text, cuts) => {
        const got = await outcome(readLines(body(text, cuts)));
        assertEquals(got, { ok: true, items: linesOf(utf8(text)) });
      }),
    ),
    300,
  );
});

Deno.test("fuzz lines: LineSplitter fed text pieces gives the lines of the whole", async () => {
  await check(
    fc.property(fc.array(anyText, { maxLength: 8 }), (pieces) => {
      const s = new LineSplitter();
      const lines = pieces.flatMap((p) => s.push(p));
      const last = s.flush();
      if (last !== undefined) lines.push(last);
      assertEquals(lines, linesOf(pieces.join("")));
    }),
    500,
  );
});

Deno.test("fuzz lines: random bytes read the same whatever the cuts", async () => {
  await check(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 300 }),
      cutsArb,
      timed(async (bytes, cuts) => {
        const whole = await outcome(readLines(body(bytes)));
        const pieces = await outcome(readLines(body(bytes, cuts)));
        assertEquals(pieces, whole);
        assertEquals(whole, { ok: true, items: linesOf(dec.decode(bytes)) });
      }),
    ),
    300,
  );
});

const sseName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/);

const sseEvent: fc.Arbitrary<SseEvent> = fc.record({
  event: fc.option(sseName, { nil: undefined }),
  data: anyText,
  id: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), { nil: undefined }),
}, { requiredKeys: ["data"] });

/** How an upstream may write the same events. */
const sseStyle = fc.record({
  eol,
  /** `data: x` or `data:x`. */
  space: fc.boolean(),
  /** Comments (keep-alives) before events. */
  comments: fc.array(fc.boolean(), { maxLength: 10 }),
  /** Whether the last event ends with a blank line. */
  finalBlank: fc.boolean(),
  /** `retry:` lines, which are no events. */
  retry: fc.boolean(),
});

type Style = typeof sseStyle extends fc.Arbitrary<infer S> ? S : never;

function writeSse(events: SseEvent[], style: Style): string {
  let out = "";
  events.forEach((e, i) => {
    if (style.comments[i]) out += `: keep-alive ${i}${style.eol}`;
    if (style.retry && i === 0) out += `retry: 3000${style.eol}`;
    if (e.event !== undefined) out += `event: ${e.event}${style.eol}`;
    if (e.id !== undefined) out += `id: ${e.id}${style.eol}`;
    for (const line of e.data.split(/\r\n|\r|\n/)) {
      // Without the space, a value that starts with one would lose it: the format strips one.
      out += (style.space || line.startsWith(" ") ? "data: " : "data:") + line + style.eol;
    }
    if (i < events.length - 1 || style.finalBlank) out += style.eol;
  });
  return out;
}

/** What a reader gives for `events`: data line ends become `\n`, text goes through UTF-8. */
function expectedSse(events: SseEvent[]): SseEvent[] {
  return events.map((e) => ({
    event: e.event,
    data: utf8(e.data).split(/\r\n|\r|\n/).join("\n"),
    id: e.id,
  }));
}

Deno.test("fuzz sse: events written any valid way and cut anywhere read back as sent", async () => {
  await check(
    fc.asyncProperty(
      fc.array(sseEvent, { maxLength: 8 }),
      sseStyle,
      cutsArb,
      timed(async (events, style, cuts) => {
        const wire = writeSse(events, style);
        const got = await outcome(readSse(body(wire, cuts)));
        assertEquals(got, { ok: true, items: expectedSse(events) });
      }),
    ),
    400,
  );
});

Deno.test("fuzz sse: formatSse output reads back as the data it wrote", async () => {
  await check(
    fc.asyncProperty(
      fc.array(fc.tuple(anyText, fc.option(sseName, { nil: undefined })), { maxLength: 6 }),
      cutsArb,
      timed(async (items, cuts) => {
        const wire = items.map(([data, event]) => formatSse(data, event)).join("");
        const got = await outcome(readSse(body(wire, cuts)));
        assertEquals(
          got,
          {
            ok: true,
            items: expectedSse(items.map(([data, event]) => ({ data, event, id: undefined }))),
          },
        );
      }),
    ),
    300,
  );
});

Deno.test("fuzz sse: random bytes never throw and read the same whatever the cuts", async () => {
  await check(
    fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 400 }), anyText.map((t) => enc.encode(t))),
      cutsArb,
      timed(async (bytes, cuts) => {
        const whole = await outcome(readSse(body(bytes)));
        if (!whole.ok) assertAllowedError(whole.error, []);
        assertEquals(comparable(await outcome(readSse(body(bytes, cuts)))), comparable(whole));
      }),
    ),
    400,
  );
});

/** A JSON value as it reads back (`-0` becomes `0`, and so on). */
const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)));

Deno.test("fuzz ndjson: values one per line, blank lines anywhere, cut anywhere", async () => {
  await check(
    fc.asyncProperty(
      fc.array(fc.tuple(jsonValue, fc.constantFrom("", " ", "\t", "  \t ")), { maxLength: 8 }),
      eol,
      fc.boolean(),
      cutsArb,
      timed(async (items, end, finalEol, cuts) => {
        let wire = "";
        items.forEach(([v, blank], i) => {
          wire += JSON.stringify(v);
          if (i < items.length - 1 || finalEol) wire += end;
          if (blank !== "" && i < items.length - 1) wire += blank + end;
        });
        const got = await outcome(readNdjson(body(wire, cuts)));
        assertEquals(got, { ok: true, items: items.map(([v]) => v) });
      }),
    ),
    300,
  );
});

Deno.test("fuzz ndjson: random text gives values or NdjsonError, whatever the cuts", async () => {
  await check(
    fc.asyncProperty(
      fc.array(fc.oneof(anyText, jsonValue.map((v) => JSON.stringify(v))), { maxLength: 6 }),
      eol,
      cutsArb,
      timed(async (lines, end, cuts) => {
        const wire = lines.join(end);
        const whole = await outcome(readNdjson(body(wire)));
        if (!whole.ok) assertAllowedError(whole.error, [NdjsonError]);
        assertEquals(comparable(await outcome(readNdjson(body(wire, cuts)))), comparable(whole));
      }),
    ),
    300,
  );
});
