/**
 * Linked abort signals: every source's abort (with its reason) reaches the linked controller, and
 * the server's code links signals this way rather than with `AbortSignal.any`, whose weakly held
 * result can be collected while a fetch still depends on it (an upstream then keeps streaming
 * after its client left; seen in this suite before the change).
 */
import { assert, assertEquals } from "../assert.ts";
import { linkedController, pause } from "../../src/util/signal.ts";

Deno.test("any source's abort reaches the linked controller with its reason", () => {
  const a = new AbortController();
  const b = new AbortController();
  const linked = linkedController([a.signal, undefined, b.signal]);
  assertEquals(linked.signal.aborted, false);
  const reason = new Error("client left");
  b.abort(reason);
  assertEquals(linked.signal.aborted, true);
  assertEquals(linked.signal.reason, reason);
  a.abort(new Error("later"));
  assertEquals(linked.signal.reason, reason);
});

Deno.test("an already aborted source aborts the linked controller at once", () => {
  const a = new AbortController();
  a.abort("gone");
  assertEquals(linkedController([a.signal]).signal.reason, "gone");
});

Deno.test("the server's modules do not use AbortSignal.any", async () => {
  const root = new URL("../../src/", import.meta.url).pathname;
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".ts") && !p.endsWith("util/signal.ts")) {
        if (/AbortSignal\.any\s*\(/.test(await Deno.readTextFile(p))) offenders.push(p);
      }
    }
  };
  await walk(root.replace(/\/$/, ""));
  assert(offenders.length === 0, `use linkedController instead in ${offenders.join(", ")}`);
});

Deno.test("pause: ends after its time, and leaves no wake function behind", async () => {
  const waiters: (() => void)[] = [];
  const t0 = performance.now();
  await pause(30, undefined, waiters);
  assert(performance.now() - t0 >= 25);
  assertEquals(waiters.length, 0);
});

Deno.test("pause: a wake function ends the wait early and takes itself out", async () => {
  const waiters: (() => void)[] = [];
  const other = () => {};
  waiters.push(other);
  const t0 = performance.now();
  const waiting = pause(10_000, undefined, waiters);
  assertEquals(waiters.length, 2);
  waiters[1]();
  await waiting;
  assert(performance.now() - t0 < 5000);
  assertEquals(waiters, [other]);
});

Deno.test("pause: an abort ends it, and an aborted signal does not wait at all", async () => {
  const waiters: (() => void)[] = [];
  const a = new AbortController();
  const t0 = performance.now();
  const waiting = pause(10_000, a.signal, waiters);
  a.abort();
  await waiting;
  await pause(10_000, a.signal, waiters);
  assert(performance.now() - t0 < 5000);
  assertEquals(waiters.length, 0);
});
