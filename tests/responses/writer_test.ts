/**
 * The Responses writer on synthetic event streams: the event grammar on random event sequences
 * (sequence numbers strictly increase, every item added is done, output indexes in order, deltas
 * add up to what `.done` says, the final response holds the done items), JSON mode answering the
 * same output, signatures, citations, incomplete and failed responses, early errors.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import type { ChatEvent } from "../../src/core/events.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { meter } from "../../src/providers/answer.ts";
import { ToolMap } from "../../src/responses/tools.ts";
import {
  type FinishedResponse,
  type ResponsesEnd,
  type ResponsesWriterOptions,
  writeResponses,
} from "../../src/responses/writer.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

await loadTokenizer();

type Ev = Record<string, unknown> & { type: string; sequence_number: number };

function options(over: Partial<ResponsesWriterOptions> = {}) {
  const ends: ResponsesEnd[] = [];
  const kept: FinishedResponse[] = [];
  const tools = new ToolMap();
  tools.add({ name: "lookup", custom: false });
  tools.add({ name: "spawn", namespace: "agents", custom: false });
  tools.add({ name: "apply_patch", custom: true });
  const o: ResponsesWriterOptions = {
    meta: { id: "resp_test", created_at: 1700000000, model: "client/model", echo: {} },
    tools,
    stream: true,
    encrypted: false,
    keepAliveMs: 15000,
    abort: new AbortController(),
    persist: (r) => void kept.push(r),
    onEnd: (e) => void ends.push(e),
    ...over,
  };
  return { o, ends, kept };
}

function events(list: ChatEvent[], fail?: Error): AsyncIterable<ChatEvent> {
  return meter(
    (async function* () {
      yield* list;
      if (fail) throw fail;
    })(),
    () => 11,
  );
}

/** The events of an SSE body, checking that each `event:` line names its data's type. */
function parse(text: string): { events: Ev[]; comments: number } {
  const out: Ev[] = [];
  let comments = 0;
  for (const block of text.split("\n\n")) {
    if (block === "") continue;
    if (block.startsWith(":")) {
      comments++;
      continue;
    }
    const [eventLine, dataLine] = block.split("\n");
    const ev = JSON.parse(dataLine.slice("data: ".length));
    assertEquals(eventLine, `event: ${ev.type}`);
    out.push(ev);
  }
  return { events: out, comments };
}

/** Checks the grammar of a stream; returns the output of its last lifecycle event. */
function checkGrammar(evs: Ev[]): { output: Record<string, unknown>[]; last: Ev } {
  evs.forEach((e, i) => assertEquals(e.sequence_number, i, `sequence of ${e.type}`));
  assertEquals(evs[0].type, "response.created");
  assertEquals(evs[1].type, "response.in_progress");
  const last = evs.at(-1)!;
  assert(
    ["response.completed", "response.incomplete", "response.failed"].includes(last.type),
    last.type,
  );
  const open = new Map<number, { id: string; text: string; args: string; summary: string }>();
  const done: Record<string, unknown>[] = [];
  let added = 0;
  for (const e of evs.slice(2, -1)) {
    const idx = e.output_index as number;
    switch (e.type) {
      case "response.output_item.added": {
        assertEquals(idx, added++, "items are added in output order");
        assertEquals(open.size, 0, "one item open at a time");
        const item = e.item as { id: string };
        open.set(idx, { id: item.id, text: "", args: "", summary: "" });
        break;
      }
      case "response.output_item.done": {
        const o = open.get(idx);
        assert(o, `done for an item not open: ${idx}`);
        const item = e.item as Record<string, unknown>;
        assertEquals(item.id, o.id);
        if (item.type === "message") {
          assertEquals((item.content as { text: string }[])[0].text, o.text);
        }
        if (item.type === "function_call") assertEquals(item.arguments, o.args);
        if (item.type === "reasoning") {
          assertEquals((item.summary as { text: string }[]).map((s) => s.text).join(""), o.summary);
        }
        open.delete(idx);
        done[idx] = item;
        break;
      }
      case "error":
        break;
      default: {
        const o = open.get(idx);
        assert(o, `${e.type} for an item not open: ${idx}`);
        assertEquals(e.item_id, o.id);
        if (e.type === "response.output_text.delta") o.text += e.delta;
        if (e.type === "response.output_text.done") assertEquals(e.text, o.text);
        if (e.type === "response.function_call_arguments.delta") o.args += e.delta;
        if (e.type === "response.function_call_arguments.done") assertEquals(e.arguments, o.args);
        if (e.type === "response.reasoning_summary_text.delta") o.summary += e.delta;
      }
    }
  }
  assertEquals(open.size, 0, "every item added is done");
  const output = (last.response as { output: Record<string, unknown>[] }).output;
  assertEquals(output, done);
  return { output, last };
}

/** A small seeded random source (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random answer: text, reasoning (some with signatures), calls made one after another. */
function randomEvents(rand: () => number): ChatEvent[] {
  const list: ChatEvent[] = [];
  let calls = 0;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const n = Math.floor(rand() * 14);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.3) list.push({ type: "text", text: pick(["a", "bc", "", "é\n", '"q"', "[1]"]) });
    else if (r < 0.45) {
      list.push({
        type: "reasoning",
        text: pick(["t", "", "xy"]),
        signature: pick([undefined, "s"]),
      });
    } else if (r < 0.65) {
      list.push({
        type: "tool_call",
        index: calls++,
        id: pick([undefined, `call_${i}`]),
        name: pick(["lookup", "spawn", "unknown_tool"]),
        arguments: pick(["", '{"a":', "{}"]),
      });
    } else if (r < 0.85 && calls > 0) {
      list.push({ type: "tool_call", index: calls - 1, arguments: pick(["1}", "", "x"]) });
    } else if (r < 0.93) {
      list.push({ type: "citation", index: 1 + Math.floor(rand() * 3), url: "https://e.x/" });
    }
  }
  list.push({ type: "finish", reason: pick(["stop", "length", "tool_calls", "content_filter"]) });
  return list;
}

Deno.test("property: random event sequences keep the Responses event grammar", async () => {
  const rand = random(20260101);
  for (let run = 0; run < 300; run++) {
    const list = randomEvents(rand);
    const failing = rand() < 0.15;
    const { o, kept } = options();
    const res = await writeResponses(events(list, failing ? new Error("boom") : undefined), o);
    const text = await res.text();
    const { events: evs } = parse(text);
    const { output, last } = checkGrammar(evs);
    const label = JSON.stringify(list);
    if (failing) {
      assertEquals(last.type, "response.failed", label);
      assertEquals(evs.at(-2)!.type, "error", label);
      assertEquals(kept.length, 0);
      continue;
    }
    const reason = (list.at(-1) as { reason: string }).reason;
    const incomplete = reason === "length" || reason === "content_filter";
    assertEquals(last.type, incomplete ? "response.incomplete" : "response.completed", label);
    assertEquals(kept.length, 1);
    // What the store keeps is what the client got (signatures aside).
    assertEquals(
      kept[0].response.output.map((i) => ({ ...i, encrypted_content: undefined })),
      output.map((i) => ({ ...i, encrypted_content: undefined })),
    );
    // The same events as JSON give the same output, ids aside.
    const json = options({ stream: false });
    const body = await (await writeResponses(events(list), json.o)).json();
    const strip = (items: Record<string, unknown>[]) =>
      items.map((i) => ({ ...i, id: undefined, call_id: i.call_id ? "x" : undefined }));
    assertEquals(strip(body.output), strip(output), label);
    assertEquals(body.status, incomplete ? "incomplete" : "completed");
  }
});

Deno.test("tool calls: namespaced and custom tools are written as the client declared them", async () => {
  const { o } = options();
  const res = await writeResponses(
    events([
      { type: "tool_call", index: 0, id: "call_a", name: "spawn", arguments: '{"x":1}' },
      { type: "tool_call", index: 1, id: "call_b", name: "apply_patch", arguments: '{"input":' },
      { type: "tool_call", index: 1, arguments: '"*** Begin Patch"}' },
      { type: "finish", reason: "tool_calls" },
    ]),
    o,
  );
  const { events: evs } = parse(await res.text());
  const { output } = checkGrammar(evs);
  assertEquals(output[0].namespace, "agents");
  assertEquals(output[0].name, "spawn");
  assertEquals([output[1].type, output[1].input, output[1].name], [
    "custom_tool_call",
    "*** Begin Patch",
    "apply_patch",
  ]);
  assert(evs.some((e) => e.type === "response.custom_tool_call_input.done"));
});

Deno.test("signatures are encrypted_content: shown when asked, always kept", async () => {
  const list: ChatEvent[] = [
    { type: "reasoning", text: "think", signature: "sig-1" },
    { type: "text", text: "answer" },
    { type: "finish", reason: "stop" },
  ];
  for (const encrypted of [false, true]) {
    const { o, kept } = options({ encrypted });
    const res = await writeResponses(events(list), o);
    const { output } = checkGrammar(parse(await res.text()).events);
    assertEquals(output[0].encrypted_content, encrypted ? "sig-1" : undefined);
    assertEquals(kept[0].response.output[0].encrypted_content, "sig-1");
  }
});

Deno.test("citations: url_citation annotations on the marker; stray sources as footnotes", async () => {
  const { o } = options({ stream: false });
  const res = await writeResponses(
    events([
      { type: "text", text: "Paris is big [1]." },
      { type: "citation", index: 1, url: "https://a.example/", title: "A" },
      { type: "tool_call", index: 0, name: "lookup", arguments: "{}" },
      { type: "citation", index: 2, url: "https://b.example/" },
      { type: "finish", reason: "stop" },
    ]),
    o,
  );
  const body = await res.json();
  const first = body.output[0].content[0];
  assertEquals(first.annotations, [{
    type: "url_citation",
    start_index: 13,
    end_index: 16,
    title: "A",
    url: "https://a.example/",
  }]);
  const notes = body.output[2].content[0];
  assertEquals(notes.text, "[2]: https://b.example/");
  assertEquals(notes.annotations[0].url, "https://b.example/");
});

Deno.test("usage, keep-alives while the upstream is silent, and the access-log end", async () => {
  const { o, ends } = options({ keepAliveMs: 30 });
  const slow = (async function* (): AsyncGenerator<ChatEvent> {
    yield { type: "text", text: "a" };
    await new Promise((r) => setTimeout(r, 120));
    yield { type: "usage", prompt_tokens: 5, completion_tokens: 2, reasoning_tokens: 1 };
    yield { type: "finish", reason: "stop" };
  })();
  const res = await writeResponses(slow, o);
  assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const { events: evs, comments } = parse(await res.text());
  assert(comments >= 1, `${comments} keep-alives`);
  const { last } = checkGrammar(evs);
  assertEquals((last.response as { usage: unknown }).usage, {
    input_tokens: 5,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: 2,
    output_tokens_details: { reasoning_tokens: 1 },
    total_tokens: 7,
  });
  assertEquals(ends[0].usage?.total_tokens, 7);
});

Deno.test("an error before the first event is an HTTP error in OpenAI's shape", async () => {
  for (const stream of [true, false]) {
    const { o, ends } = options({ stream });
    const res = await writeResponses(
      events(
        [],
        new GatewayError(429, "slow down", "rate_limit_error", null, null, {
          retryAfter: 3,
        }),
      ),
      o,
    );
    assertEquals(res.status, 429);
    assertEquals(res.headers.get("retry-after"), "3");
    const body = await res.json();
    assertStringIncludes(body.error.message, "slow down");
    assertEquals(ends[0].status, 429);
  }
});
