/**
 * Body timeouts: the first byte and the silence between chunks, both for readers that take
 * chunks straight from the guard (SSE, NDJSON, lines) and for ones that read the wrapper.
 */
import { assertEquals, assertRejects } from "../assert.ts";
import { guardBody } from "../../src/net/guard.ts";
import { readSse } from "../../src/net/sse.ts";
import { collect } from "../chunks.ts";

const enc = new TextEncoder();

/** A body that sends `parts`, then stays silent (open) until cancelled. */
function silentAfter(
  parts: string[],
): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let i = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) c.enqueue(enc.encode(parts[i++]));
      else return new Promise(() => {});
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { body, cancelled: () => cancelled };
}

const timeout = () => new Error("went silent");

Deno.test("idle: a stream read straight from the guard fails after the silence, upstream cancelled", async () => {
  const up = silentAfter(["data: a\n\n", "data: b\n\n"]);
  const seen: string[] = [];
  await assertRejects(
    async () => {
      for await (const ev of readSse(guardBody(up.body, 5, 0.15, timeout))) seen.push(ev.data);
    },
    Error,
    "went silent",
  );
  assertEquals(seen, ["a", "b"]);
  assertEquals(up.cancelled(), true);
});

Deno.test("first byte: nothing at all within the limit fails", async () => {
  const up = silentAfter([]);
  await assertRejects(
    () => collect(readSse(guardBody(up.body, 0.1, 10, timeout))),
    Error,
    "went silent",
  );
});

Deno.test("the wrapper path (a whole-body read) times out too", async () => {
  const up = silentAfter(['{"partial":']);
  await assertRejects(
    () => new Response(guardBody(up.body, 5, 0.1, timeout)).text(),
    Error,
    "went silent",
  );
  assertEquals(up.cancelled(), true);
});

Deno.test("chunks arriving in time keep the stream alive past the idle limit in total", async () => {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 40));
      if (i++ < 8) c.enqueue(enc.encode(`data: ${i}\n\n`));
      else c.close();
    },
  }, { highWaterMark: 0 });
  // 8 chunks 40 ms apart: 320 ms in all, never 150 ms of silence.
  const events = await collect(readSse(guardBody(body, 5, 0.15, timeout)));
  assertEquals(events.map((e) => e.data), ["1", "2", "3", "4", "5", "6", "7", "8"]);
});

Deno.test("abort: a pending read of the wrapper fails with the signal's reason, upstream cancelled", async () => {
  const up = silentAfter(['{"partial":']);
  const abort = new AbortController();
  const reader = guardBody(up.body, 0, 0, timeout, abort.signal).getReader();
  assertEquals(new TextDecoder().decode((await reader.read()).value), '{"partial":');
  const pending = reader.read();
  abort.abort(new DOMException("client disconnected", "AbortError"));
  const err = await pending.then(() => undefined, (e) => e);
  assertEquals([err?.name, err?.message], ["AbortError", "client disconnected"]);
  assertEquals(up.cancelled(), true);
});

Deno.test("abort: readers that take chunks straight from the guard stop with the reason", async () => {
  const up = silentAfter(["data: a\n\n"]);
  const abort = new AbortController();
  const seen: string[] = [];
  await assertRejects(
    async () => {
      for await (const ev of readSse(guardBody(up.body, 5, 5, timeout, abort.signal))) {
        seen.push(ev.data);
        setTimeout(() => abort.abort(new DOMException("request ended", "AbortError")), 10);
      }
    },
    DOMException,
    "request ended",
  );
  assertEquals(seen, ["a"]);
  assertEquals(up.cancelled(), true);
});

Deno.test("abort: a signal aborted before the body is read fails the first read", async () => {
  const up = silentAfter(["never read"]);
  const abort = new AbortController();
  abort.abort(new DOMException("gone", "AbortError"));
  await assertRejects(
    () => new Response(guardBody(up.body, 0, 0, timeout, abort.signal)).text(),
    DOMException,
    "gone",
  );
  assertEquals(up.cancelled(), true);
});

Deno.test("abort: after the body ended, an abort changes nothing", async () => {
  const abort = new AbortController();
  const body = new Response("whole").body!;
  const text = await new Response(guardBody(body, 5, 5, timeout, abort.signal)).text();
  abort.abort();
  assertEquals(text, "whole");
});

Deno.test("abort: reaches the upstream even after the fetch's response object was collected", async () => {
  // Deno's own fetch loses the abort once its response is garbage-collected; the fixture forces
  // collections between the first chunk and the abort, in a process where gc() is exposed.
  const fixture = new URL("./gc_abort_fixture.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--v8-flags=--expose-gc",
      fixture.href,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(JSON.parse(stdout.trim()), {
    first: "first",
    read: "AbortError: client disconnected",
    upstreamSawAbort: true,
  });
});
