/**
 * The block grammar of the Messages API on random event sequences (text, reasoning with
 * signatures, tool calls whose argument fragments interleave, citations): indexes start at 0 and
 * increase by one, every start has one stop, nothing overlaps, every delta fits its block, and all
 * content arrives (each call's arguments reassemble into its JSON).
 */
import { assert, assertEquals } from "../assert.ts";
import type { ChatEvent } from "../../src/core/events.ts";
import { type BlockOp, BlockSequencer, JsonDepth } from "../../src/anthropic/blocks.ts";

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arguments with the characters that could fool a nesting count. */
function argsOf(r: () => number, i: number): Record<string, unknown> {
  const tricky = ['{"', "}", "]", "[", '\\"', "\\\\", "é", "\n"];
  const s = Array.from({ length: 1 + Math.floor(r() * 6) }, () => tricky[Math.floor(r() * 8)])
    .join("");
  return { n: i, text: s, list: [1, { deep: [s, null] }], empty: {} };
}

function split(text: string, r: () => number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const n = 1 + Math.floor(r() * 7);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

interface Expected {
  text: string;
  reasoning: string;
  calls: Map<number, { id: string; name: string; args: unknown }>;
}

/** A random answer, and what a client must end up with. */
function randomEvents(seed: number): { events: ChatEvent[]; expected: Expected } {
  const r = rng(seed);
  const events: ChatEvent[] = [];
  const expected: Expected = { text: "", reasoning: "", calls: new Map() };
  // Pending argument fragments per call, emitted interleaved.
  const pending: { index: number; parts: string[] }[] = [];
  const callCount = Math.floor(r() * 4);
  let nextCall = 0;
  const steps = 5 + Math.floor(r() * 25);
  for (let s = 0; s < steps || pending.length > 0 || nextCall < callCount; s++) {
    const pick = r();
    if (pick < 0.25) {
      const t = `t${s} `;
      expected.text += t;
      events.push({ type: "text", text: t });
    } else if (pick < 0.4) {
      const t = `r${s} `;
      expected.reasoning += t;
      events.push({ type: "reasoning", text: t, ...(r() < 0.3 ? { signature: `sig${s}` } : {}) });
    } else if (pick < 0.55 && nextCall < callCount) {
      const index = nextCall++;
      const args = argsOf(r, index);
      const parts = split(JSON.stringify(args), r);
      const id = r() < 0.5 ? `call_x${seed}y${index}` : undefined;
      expected.calls.set(index, { id: id ?? "", name: `tool_${index}`, args });
      const first = r() < 0.5 ? parts.shift()! : "";
      events.push({ type: "tool_call", index, id, name: `tool_${index}`, arguments: first });
      pending.push({ index, parts });
    } else if (pick < 0.9 && pending.length > 0) {
      // Usually the latest call goes on; sometimes an earlier one (interleaving).
      const k = r() < 0.8 ? pending.length - 1 : Math.floor(r() * pending.length);
      const p = pending[k];
      const part = p.parts.shift();
      if (part !== undefined) events.push({ type: "tool_call", index: p.index, arguments: part });
      if (p.parts.length === 0) pending.splice(k, 1);
    } else if (pick < 0.95) {
      events.push({ type: "citation", index: 1 + (s % 3), url: `https://e.x/${s % 3}` });
    }
  }
  events.push({ type: "usage", prompt_tokens: 10, completion_tokens: 5 });
  events.push({ type: "finish", reason: expected.calls.size > 0 ? "tool_calls" : "stop" });
  return { events, expected };
}

/** Checks the grammar of `ops`; returns the content of each block. */
function checkGrammar(ops: BlockOp[]) {
  const blocks: { type: string; text: string; signature: string; id?: string; name?: string }[] =
    [];
  let open = -1;
  for (const op of ops) {
    if (op.op === "start") {
      assertEquals(open, -1, `block ${op.index} starts while ${open} is open`);
      assertEquals(op.index, blocks.length, "indexes increase by one from 0");
      const b = op.block;
      blocks.push({
        type: b.type,
        text: "",
        signature: "",
        ...(b.type === "tool_use" ? { id: b.id, name: b.name } : {}),
      });
      open = op.index;
    } else if (op.op === "stop") {
      assertEquals(op.index, open, "only the open block stops");
      open = -1;
    } else {
      assertEquals(op.index, open, "deltas go to the open block");
      const b = blocks[op.index];
      const d = op.delta;
      if (d.type === "text_delta") {
        assertEquals(b.type, "text");
        b.text += d.text;
      } else if (d.type === "thinking_delta") {
        assertEquals(b.type, "thinking");
        b.text += d.thinking;
      } else if (d.type === "signature_delta") {
        assertEquals(b.type, "thinking");
        b.signature = d.signature;
      } else {
        assertEquals(b.type, "tool_use");
        b.text += d.partial_json;
      }
    }
  }
  assertEquals(open, -1, "every block stopped");
  return blocks;
}

Deno.test("block grammar on 500 random event sequences: ordered, never overlapping, complete", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const { events, expected } = randomEvents(seed);
    const seq = new BlockSequencer(() => "toolu_fresh");
    const ops = [...events.flatMap((ev) => seq.push(ev)), ...seq.end()];
    const blocks = checkGrammar(ops);
    const text = blocks.filter((b) => b.type === "text").map((b) => b.text).join("");
    // Cited sources are footnotes after the text.
    assert(text.startsWith(expected.text), `seed ${seed}: text`);
    assertEquals(
      blocks.filter((b) => b.type === "thinking").map((b) => b.text).join(""),
      expected.reasoning,
      `seed ${seed}: thinking`,
    );
    const uses = blocks.filter((b) => b.type === "tool_use");
    assertEquals(uses.length, expected.calls.size, `seed ${seed}: calls`);
    for (const u of uses) {
      const n = Number(u.name!.slice(5));
      const want = expected.calls.get(n)!;
      assertEquals(JSON.parse(u.text), want.args, `seed ${seed}: arguments of call ${n}`);
      assertEquals(u.id, want.id ? `toolu_x${seed}y${n}` : "toolu_fresh");
    }
    assertEquals(seq.stopReason().reason, expected.calls.size > 0 ? "tool_use" : "end_turn");
  }
});

Deno.test("in the usual order every delta passes at once: nothing is held", () => {
  const seq = new BlockSequencer();
  const step = (ev: ChatEvent) => seq.push(ev).map((o) => o.op).join(",");
  assertEquals(step({ type: "reasoning", text: "hm" }), "start,delta");
  assertEquals(step({ type: "reasoning", text: "", signature: "s1" }), "delta");
  assertEquals(step({ type: "text", text: "Hi" }), "stop,start,delta");
  assertEquals(
    step({ type: "tool_call", index: 0, id: "call_a", name: "f", arguments: "" }),
    "stop,start",
  );
  assertEquals(step({ type: "tool_call", index: 0, arguments: '{"a":' }), "delta");
  assertEquals(step({ type: "tool_call", index: 0, arguments: "1}" }), "delta");
  assertEquals(
    step({ type: "tool_call", index: 1, id: "call_b", name: "g", arguments: "{}" }),
    "stop,start,delta",
  );
  assertEquals(seq.end().map((o) => o.op).join(","), "stop");
});

Deno.test("a call that starts before the open one is complete waits, then comes whole", () => {
  const seq = new BlockSequencer();
  const ops: BlockOp[] = [];
  const push = (ev: ChatEvent) => ops.push(...seq.push(ev));
  push({ type: "tool_call", index: 0, id: "call_a", name: "f", arguments: '{"a":' });
  push({ type: "tool_call", index: 1, id: "call_b", name: "g", arguments: '{"b":2}' });
  assertEquals(ops.length, 2); // the second call is held
  push({ type: "tool_call", index: 0, arguments: "1}" });
  assertEquals(ops.map((o) => o.op), ["start", "delta", "delta", "stop", "start", "delta"]);
  assertEquals(ops[5], {
    op: "delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: '{"b":2}' },
  });
});

Deno.test("stop reasons: max_tokens, stop_sequence with the sequence, refusal, tool_use first", () => {
  const reason = (evs: ChatEvent[]) => {
    const seq = new BlockSequencer();
    for (const ev of evs) seq.push(ev);
    return seq.stopReason();
  };
  assertEquals(reason([{ type: "finish", reason: "length" }]), {
    reason: "max_tokens",
    sequence: null,
  });
  assertEquals(reason([{ type: "finish", reason: "stop", stop_sequence: "END" }]), {
    reason: "stop_sequence",
    sequence: "END",
  });
  assertEquals(reason([{ type: "finish", reason: "content_filter" }]), {
    reason: "refusal",
    sequence: null,
  });
  assertEquals(
    reason([
      { type: "tool_call", index: 0, name: "f", arguments: "{}" },
      { type: "finish", reason: "stop" },
    ]),
    { reason: "tool_use", sequence: null },
  );
  assertEquals(reason([]), { reason: "end_turn", sequence: null });
});

Deno.test("JsonDepth: complete only when the value closed, strings and escapes skipped", () => {
  const cases: [string[], boolean][] = [
    [["{", '"a":"}', '"', "}"], true],
    [['{"a":"\\"}"'], false],
    [['{"a":"\\\\"}'], true],
    [["[1,[2]", "]"], true],
    [[""], false],
    [['{"x":{}'], false],
  ];
  for (const [parts, complete] of cases) {
    const d = new JsonDepth();
    for (const p of parts) d.feed(p);
    assertEquals(d.complete, complete, parts.join(""));
  }
});
