/**
 * Linked abort signals: every source's abort (with its reason) reaches the linked controller, and
 * the server's code links signals this way rather than with `AbortSignal.any`, whose weakly held
 * result can be collected while a fetch still depends on it (an upstream then keeps streaming
 * after its client left; seen in this suite before the change).
 */
import { assert, assertEquals } from "../assert.ts";
import { linkedController } from "../../src/util/signal.ts";

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
