/**
 * The in-process response store: bounded in entries and bytes (least recently used out), a time
 * to live, markers for responses not kept, item lookup for `item_reference`.
 */
import { assert, assertEquals } from "../assert.ts";
import type { ResponseObject } from "../../src/responses/object.ts";
import { MemoryResponseStore, type StoredResponse } from "../../src/responses/store.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

await loadTokenizer();

function stored(id: string, text = "x", itemIds: string[] = []): StoredResponse {
  return {
    id,
    response: {
      id,
      object: "response",
      created_at: 1,
      status: "completed",
      error: null,
      incomplete_details: null,
      output: [{
        id: `msg_${id}`,
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text, annotations: [] }],
      }],
      usage: null,
    } as ResponseObject,
    input: itemIds.map((i) => ({
      id: i,
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "q" }],
    })),
    extras: {},
  };
}

function store(limits: Partial<{ maxEntries: number; maxBytes: number; ttl: number }> = {}) {
  const clock = { now: 1_000_000 };
  const s = new MemoryResponseStore(
    () => ({ maxEntries: 3, maxBytes: 1_000_000, ttl: 60, ...limits }),
    () => clock.now,
  );
  return { s, clock };
}

Deno.test("store: keeps, reads, deletes", async () => {
  const { s } = store();
  await s.put(stored("r1"));
  assertEquals((await s.get("r1"))?.kind, "stored");
  assertEquals(await s.delete("r1"), true);
  assertEquals(await s.get("r1"), undefined);
  assertEquals(await s.delete("r1"), false);
  assertEquals(s.size, { entries: 0, bytes: 0 });
});

Deno.test("store: at most max-entries, the least recently used go first", async () => {
  const { s } = store({ maxEntries: 3 });
  for (const id of ["a", "b", "c"]) await s.put(stored(id));
  await s.get("a"); // a is now the most recently used
  await s.put(stored("d"));
  assertEquals(await s.get("b"), undefined);
  for (const id of ["a", "c", "d"]) assertEquals((await s.get(id))?.kind, "stored", id);
  assertEquals(s.size.entries, 3);
});

Deno.test("store: at most max-bytes; one response larger than that is marked, not kept", async () => {
  const one = new TextEncoder().encode(JSON.stringify(stored("a", "y".repeat(1000)))).length;
  const { s } = store({ maxEntries: 100, maxBytes: one * 2 + 10 });
  for (const id of ["a", "b", "c"]) await s.put(stored(id, "y".repeat(1000)));
  assertEquals(await s.get("a"), undefined);
  assert(s.size.bytes <= one * 2 + 10, `${s.size.bytes} bytes`);
  await s.put(stored("huge", "z".repeat(10_000)));
  assertEquals(await s.get("huge"), { kind: "not-stored", reason: "too-large" });
});

Deno.test("store: entries expire after the ttl", async () => {
  const { s, clock } = store({ ttl: 10 });
  await s.put(stored("a"));
  clock.now += 9_000;
  assertEquals((await s.get("a"))?.kind, "stored");
  clock.now += 2_000;
  assertEquals(await s.get("a"), undefined);
  assertEquals(s.size.entries, 0);
});

Deno.test("store: store-false markers say why; items are found through the newest response", async () => {
  const { s } = store({ maxEntries: 10 });
  await s.skip("r0", "store-false");
  assertEquals(await s.get("r0"), { kind: "not-stored", reason: "store-false" });
  await s.put(stored("r1", "x", ["msg_in1"]));
  assertEquals((await s.item("msg_r1"))?.type, "message");
  // The next turn holds the whole conversation: earlier items stay findable after r1 goes.
  const next = stored("r2", "y", ["msg_in1", "msg_r1"]);
  await s.put(next);
  await s.delete("r1");
  assertEquals((await s.item("msg_r1"))?.id, "msg_r1");
  assertEquals((await s.item("msg_in1"))?.id, "msg_in1");
  await s.delete("r2");
  assertEquals(await s.item("msg_in1"), undefined);
});
