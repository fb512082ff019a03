/**
 * The SignalR record reader (src/net/signalr.ts) against every framing of its input: records split
 * at every position, several records per frame, text and binary frames, UTF-8 split mid-character.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  formatRecord,
  MessageType,
  RECORD_SEPARATOR,
  SignalRParseError,
  SignalRReader,
} from "../../../src/net/signalr.ts";

const RECORDS = [
  {},
  { type: 6 },
  {
    type: 1,
    target: "update",
    arguments: [{ messages: [{ text: "Héllo wörld 你好 😊 \u001f", author: "bot" }] }],
  },
  { type: 2, invocationId: "0", item: { result: { value: "Success" } } },
  { type: 3, invocationId: "0" },
];
const STREAM = RECORDS.map(formatRecord).join("");

function readAll(frames: (string | Uint8Array)[]): unknown[] {
  const reader = new SignalRReader();
  const out: unknown[] = [];
  for (const f of frames) out.push(...reader.push(f));
  assert(!reader.partial);
  return out;
}

Deno.test("signalr: every record of one frame", () => {
  assertEquals(readAll([STREAM]), RECORDS);
});

Deno.test("signalr: a text stream cut at every position (two frames)", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assertEquals(readAll([STREAM.slice(0, i), STREAM.slice(i)]), RECORDS, `cut at ${i}`);
  }
});

Deno.test("signalr: cut at every pair of positions (three frames)", () => {
  const n = STREAM.length;
  for (let i = 0; i <= n; i += 3) {
    for (let j = i; j <= n; j += 5) {
      assertEquals(
        readAll([STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]),
        RECORDS,
        `cuts at ${i}, ${j}`,
      );
    }
  }
});

Deno.test("signalr: binary frames split at every byte, also inside a UTF-8 character", () => {
  const bytes = new TextEncoder().encode(STREAM);
  for (let i = 0; i <= bytes.length; i++) {
    assertEquals(readAll([bytes.slice(0, i), bytes.slice(i)]), RECORDS, `cut at byte ${i}`);
  }
  // One byte per frame.
  assertEquals(readAll(Array.from(bytes, (b) => new Uint8Array([b]))), RECORDS);
});

Deno.test("signalr: records are yielded as soon as their separator arrives", () => {
  const reader = new SignalRReader();
  const [first, second] = [formatRecord({ type: 6 }), formatRecord({ type: 7 })];
  assertEquals(reader.push(first + second.slice(0, 4)), [{ type: 6 }]);
  assert(reader.partial);
  assertEquals(reader.push(second.slice(4)), [{ type: 7 }]);
  assert(!reader.partial);
  // Empty records between separators are skipped.
  assertEquals(reader.push(RECORD_SEPARATOR + RECORD_SEPARATOR), []);
});

Deno.test("signalr: a record that is not JSON is a parse error naming it", () => {
  const reader = new SignalRReader();
  const err = assertThrows(() => reader.push(`{"type":1,${RECORD_SEPARATOR}`)) as SignalRParseError;
  assert(err instanceof SignalRParseError);
  assert(err.message.includes('{"type":1,'), err.message);
});

Deno.test("signalr: formatRecord and message types", () => {
  assertEquals(
    formatRecord({ protocol: "json", version: 1 }),
    '{"protocol":"json","version":1}\x1e',
  );
  assertEquals(MessageType.Invocation, 1);
  assertEquals(MessageType.StreamItem, 2);
  assertEquals(MessageType.Completion, 3);
  assertEquals(MessageType.Ping, 6);
  assertEquals(MessageType.Close, 7);
});
