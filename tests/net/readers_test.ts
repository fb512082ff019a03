/**
 * The SSE, NDJSON and line readers against every chunking of their input.
 */
import { assertEquals, assertRejects } from "../assert.ts";
import { LineSplitter, readLines } from "../../src/net/lines.ts";
import { readNdjson } from "../../src/net/ndjson.ts";
import { formatSse, readSse, type SseEvent } from "../../src/net/sse.ts";
import { bodyOf as body, collect, splits } from "../chunks.ts";

const enc = new TextEncoder();

Deno.test("lines: LF, CRLF, lone CR and a final unterminated line, at every split", async () => {
  const text = "alpha\r\nbeta\ngamma\rdelta\r\n\r\nünïcødé 你好\nlast";
  const expected = ["alpha", "beta", "gamma", "delta", "", "ünïcødé 你好", "last"];
  for (const pieces of splits(text)) {
    assertEquals(await collect(readLines(body(pieces))), expected);
  }
});

Deno.test("lines: a CRLF split between chunks is one line end", () => {
  const s = new LineSplitter();
  assertEquals(s.push("a\r"), ["a"]);
  assertEquals(s.push("\nb\r"), ["b"]);
  assertEquals(s.push("\r\n"), [""]);
  assertEquals(s.flush(), undefined);
});

Deno.test("lines: one very long line in many small chunks costs linear time", async () => {
  const line = "x".repeat(2_000_000);
  const bytes = enc.encode(line + "\n");
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 64) pieces.push(bytes.slice(i, i + 64));
  const t0 = performance.now();
  const lines = await collect(readLines(body(pieces)));
  const ms = performance.now() - t0;
  assertEquals(lines.length, 1);
  assertEquals(lines[0].length, 2_000_000);
  // Quadratic re-scanning would take minutes here; linear takes well under a second.
  if (ms > 20_000) throw new Error(`took ${ms} ms`);
});

const SSE_TEXT = [
  ": a comment line\n",
  "event: completion\r\n",
  'data: {"completion":"Hel"}\r\n',
  "\r\n",
  "data: first line\n",
  "data: second line\n",
  "id: 7\n",
  "\n",
  "data:no-space\n",
  "\n",
  "retry: 1000\n",
  "data: [DONE]",
].join("");

const SSE_EVENTS: SseEvent[] = [
  { event: "completion", data: '{"completion":"Hel"}', id: undefined },
  { event: undefined, data: "first line\nsecond line", id: "7" },
  { event: undefined, data: "no-space", id: undefined },
  { event: undefined, data: "[DONE]", id: undefined },
];

Deno.test("sse: events, multi-line data, comments, CRLF, final event without blank line, at every split", async () => {
  for (const pieces of splits(SSE_TEXT)) {
    assertEquals(await collect(readSse(body(pieces))), SSE_EVENTS);
  }
});

Deno.test("sse: lone CR line ends, and a final event ended by a lone CR, at every split", async () => {
  const text = "event: a\rdata: one\r\rdata: two\r";
  for (const pieces of splits(text)) {
    assertEquals(await collect(readSse(body(pieces))), [
      { event: "a", data: "one", id: undefined },
      { event: undefined, data: "two", id: undefined },
    ]);
  }
});

Deno.test("sse: one very long data line in many small chunks costs linear time", async () => {
  const line = "x".repeat(4_000_000);
  const bytes = enc.encode(`data: ${line}\n\n`);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 64) pieces.push(bytes.slice(i, i + 64));
  const t0 = performance.now();
  const events = await collect(readSse(body(pieces)));
  const ms = performance.now() - t0;
  assertEquals(events.length, 1);
  assertEquals(events[0].data.length, 4_000_000);
  // Re-scanning the growing line per chunk would take minutes here; linear takes well under one.
  if (ms > 20_000) throw new Error(`took ${ms} ms`);
});

Deno.test("sse: a UTF-8 character split across chunks arrives whole", async () => {
  const text = 'data: {"t":"你好🙂"}\n\n';
  for (const pieces of splits(text)) {
    const [ev] = await collect(readSse(body(pieces)));
    assertEquals(JSON.parse(ev.data), { t: "你好🙂" });
  }
});

Deno.test("sse: formatSse writes multi-line data as several data lines", async () => {
  assertEquals(formatSse("x"), "data: x\n\n");
  assertEquals(formatSse("a\nb", "ev"), "event: ev\ndata: a\ndata: b\n\n");
  const [ev] = await collect(readSse(body([enc.encode(formatSse("a\r\nb\nc"))])));
  assertEquals(ev.data, "a\nb\nc");
});

Deno.test("ndjson: values at every split, blank lines skipped, a bad line is an error", async () => {
  const text =
    '{"event_type":"stream-start"}\n\n{"event_type":"text-generation","text":"hi\\n"}\r\n{"is_finished":true}';
  for (const pieces of splits(text)) {
    assertEquals(await collect(readNdjson(body(pieces))), [
      { event_type: "stream-start" },
      { event_type: "text-generation", text: "hi\n" },
      { is_finished: true },
    ]);
  }
  await assertRejects(
    () => collect(readNdjson(body([enc.encode('{"a":1}\n<html>oops</html>\n')]))),
    Error,
    "not a JSON line: <html>oops</html>",
  );
});

Deno.test("readers cancel the body when the consumer stops early", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(enc.encode("data: x\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const _ of readSse(stream)) break;
  assertEquals(cancelled, true);
});
