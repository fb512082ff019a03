/**
 * `Discovery`: values learnt from an upstream are kept, loads in flight are shared, a failed load
 * is remembered briefly (the caller falls back), entries are bounded.
 */
import { assertEquals } from "../assert.ts";
import { Discovery } from "../../src/providers/discovery.ts";

Deno.test("discovery: cached, shared while in flight, failures remembered then retried", async () => {
  const d = new Discovery<number>({ ttlMs: 60_000, failureMs: 50, max: 2 });
  let loads = 0;
  const slow = () => new Promise<number>((r) => setTimeout(() => r(++loads), 10));
  const [a, b] = await Promise.all([d.get("k", slow), d.get("k", slow)]);
  assertEquals([a, b, loads], [1, 1, 1]);
  assertEquals(await d.get("k", slow), 1);
  assertEquals(d.peek("k"), 1);
  let fails = 0;
  const broken = () => Promise.reject(new Error(`down ${++fails}`));
  assertEquals(await d.get("x", broken), undefined);
  assertEquals(await d.get("x", broken), undefined);
  assertEquals(fails, 1, "a failure is remembered");
  assertEquals(d.peek("x"), undefined);
  await new Promise((r) => setTimeout(r, 60));
  assertEquals(await d.get("x", () => Promise.resolve(7)), 7, "then asked again");
  d.put("y", 9);
  assertEquals(d.peek("y"), 9);
  assertEquals(d.peek("k"), undefined, "the oldest entry left (max 2)");
});
