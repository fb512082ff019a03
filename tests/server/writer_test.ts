/**
 * The response writer on synthetic event streams: exact chunk shapes, tool-call indexes, usage,
 * include_usage, [DONE], keep-alives, errors before and after the stream started, cancellation.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import type { ChatEvent } from "../../src/core/events.ts";
import { meter } from "../../src/providers/answer.ts";
import { writeChat, type WriterEnd, type WriterOptions } from "../../src/openai/writer.ts";
import { parseSseBody } from "../helpers.ts";

function options(over: Partial<WriterOptions> = {}): WriterOptions & { ends: WriterEnd[] } {
  const ends: WriterEnd[] = [];
  return {
    meta: { id: "chatcmpl-test", created: 1700000000, model: "client/model" },
    stream: true,
    includeUsage: false,
    keepAliveMs: 15000,
    abort: new AbortController(),
    onEnd: (e) => ends.push(e),
    ends,
    ...over,
  };
}

/** The events as the pipeline hands them to the writer: metered (a prompt estimate of 11). */
function events(list: ChatEvent[], delayMs = 0): AsyncIterable<ChatEvent> {
  return meter(
    (async function* () {
      for (const e of list) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        yield e;
      }
    })(),
    () => 11,
  );
}

type Chunk = {
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: Record<string, number>;
  [k: string]: unknown;
};

Deno.test("stream: role chunk, content deltas, finish with usage, [DONE]", async () => {
  const o = options();
  const res = await writeChat(
    events([
      { type: "text", text: "Hel" },
      { type: "text", text: "lo" },
      { type: "usage", prompt_tokens: 5, completion_tokens: 2 },
      { type: "finish", reason: "stop" },
    ]),
    o,
  );
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assertEquals(res.headers.get("x-accel-buffering"), "no");
  const text = await res.text();
  const { events: chunks, done } = parseSseBody<Chunk>(text);
  assert(done);
  assert(text.endsWith("data: [DONE]\n\n"));
  assertEquals(chunks.map((c) => c.choices[0].delta), [
    { role: "assistant", content: "" },
    { content: "Hel" },
    { content: "lo" },
    {},
  ]);
  for (const c of chunks) {
    assertEquals([c.id, c.object, c.created, c.model], [
      "chatcmpl-test",
      "chat.completion.chunk",
      1700000000,
      "client/model",
    ]);
  }
  assertEquals(chunks[3].choices[0].finish_reason, "stop");
  assertEquals(chunks[3].usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  assertEquals(chunks.slice(0, 3).map((c) => "usage" in c), [false, false, false]);
  assertEquals(o.ends[0].status, 200);
});

Deno.test("stream: include_usage adds one usage-only chunk with empty choices", async () => {
  const res = await writeChat(
    events([{ type: "text", text: "hi there" }]),
    options({ includeUsage: true }),
  );
  const { events: chunks } = parseSseBody<Chunk>(await res.text());
  const last = chunks[chunks.length - 1];
  assertEquals(last.choices, []);
  // No usage event came: prompt is the estimate, completion is counted with the tokenizer.
  assertEquals(last.usage, { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 });
  assertEquals(chunks.filter((c) => c.choices.length === 0).length, 1);
});

Deno.test("stream: tool calls get indexes 0..n in order, id/type/name only in the first delta", async () => {
  const res = await writeChat(
    events([
      { type: "text", text: "Let me check." },
      { type: "tool_call", index: 5, id: "call_a", name: "weather", arguments: "" },
      { type: "tool_call", index: 5, arguments: '{"city":' },
      { type: "tool_call", index: 9, name: "time", arguments: '{"tz":"UTC"}' },
      { type: "tool_call", index: 5, arguments: '"Paris"}' },
      { type: "finish", reason: "stop" },
    ]),
    options(),
  );
  const { events: chunks } = parseSseBody<Chunk>(await res.text());
  const deltas = chunks.map((c) => c.choices[0].delta.tool_calls).filter(Boolean) as Record<
    string,
    unknown
  >[][];
  assertEquals(deltas[0], [{
    index: 0,
    id: "call_a",
    type: "function",
    function: { name: "weather", arguments: "" },
  }]);
  assertEquals(deltas[1], [{ index: 0, function: { arguments: '{"city":' } }]);
  const second = deltas[2][0] as {
    index: number;
    id: string;
    type: string;
    function: { name: string };
  };
  assertEquals(second.index, 1);
  assertMatch(second.id, /^call_[A-Za-z0-9]{24}$/);
  assertEquals(second.function.name, "time");
  assertEquals(deltas[3], [{ index: 0, function: { arguments: '"Paris"}' } }]);
  // A "stop" with tool calls becomes "tool_calls".
  assertEquals(chunks[chunks.length - 1].choices[0].finish_reason, "tool_calls");
});

Deno.test("json: content null with only tool calls, reasoning kept, finish tool_calls", async () => {
  const res = await writeChat(
    events([
      { type: "reasoning", text: "thinking" },
      {
        type: "tool_call",
        index: 0,
        id: "call_x",
        name: "f",
        arguments: "{}",
        extra: { extra_content: { google: { thought_signature: "sig" } } },
      },
    ]),
    options({ stream: false }),
  );
  assertEquals(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assertEquals(body.object, "chat.completion");
  assertEquals(body.model, "client/model");
  assertEquals(body.choices[0], {
    index: 0,
    message: {
      role: "assistant",
      content: null,
      refusal: null,
      reasoning_content: "thinking",
      tool_calls: [{
        id: "call_x",
        type: "function",
        function: { name: "f", arguments: "{}" },
        extra_content: { google: { thought_signature: "sig" } },
      }],
    },
    logprobs: null,
    finish_reason: "tool_calls",
  });
  assertEquals(body.usage.prompt_tokens, 11);
});

Deno.test("json: several choices in index order", async () => {
  const res = await writeChat(
    events([
      { type: "text", text: "B", choice: 1 },
      { type: "text", text: "A", choice: 0 },
      { type: "finish", reason: "length", choice: 1 },
    ]),
    options({ stream: false }),
  );
  const body = await res.json();
  assertEquals(body.choices.map((c: { message: { content: string } }) => c.message.content), [
    "A",
    "B",
  ]);
  assertEquals(body.choices.map((c: { finish_reason: string }) => c.finish_reason), [
    "stop",
    "length",
  ]);
});

Deno.test("an error before the first event is a JSON error with its status", async () => {
  // deno-lint-ignore require-yield
  async function* failing(): AsyncGenerator<ChatEvent> {
    throw new GatewayError(
      429,
      "slow down sk-abcdefghijklmnopqrstuvwx",
      "rate_limit_error",
      "rate_limit_exceeded",
      null,
      { retryAfter: 30 },
    );
  }
  for (const stream of [true, false]) {
    const o = options({ stream });
    const res = await writeChat(failing(), o);
    assertEquals(res.status, 429);
    assertEquals(res.headers.get("retry-after"), "30");
    const body = await res.json();
    assertEquals(body.error.type, "rate_limit_error");
    assertEquals(body.error.code, "rate_limit_exceeded");
    assert(!body.error.message.includes("abcdefghijklmnopqrstuvwx"), body.error.message);
    assertEquals(o.ends[0].status, 429);
  }
});

Deno.test("an error after the stream started is an SSE error event, then [DONE]", async () => {
  async function* failing(): AsyncGenerator<ChatEvent> {
    yield { type: "text", text: "partial" };
    throw new GatewayError(502, "upstream broke");
  }
  const o = options();
  const res = await writeChat(failing(), o);
  assertEquals(res.status, 200);
  const text = await res.text();
  const { events: chunks, done } = parseSseBody(text);
  assert(done);
  assertEquals(chunks[chunks.length - 1], {
    error: { message: "upstream broke", type: "upstream_error", param: null, code: null },
  });
  assertEquals(o.ends[0].error?.status, 502);
});

Deno.test("keep-alive comments while the upstream is silent, before and after the first event", async () => {
  async function* slow(): AsyncGenerator<ChatEvent> {
    await new Promise((r) => setTimeout(r, 130));
    yield { type: "text", text: "a" };
    await new Promise((r) => setTimeout(r, 130));
    yield { type: "text", text: "b" };
  }
  const res = await writeChat(slow(), options({ keepAliveMs: 50 }));
  // Committed at 200 before the first event arrived.
  assertEquals(res.status, 200);
  const text = await res.text();
  const { events: chunks, comments } = parseSseBody(text);
  assert(comments.length >= 2, text);
  assert(comments.every((c) => c === ": keep-alive"));
  assert(text.startsWith(": keep-alive\n\n"), text);
  // And one between the first event and the second.
  assert(text.indexOf(": keep-alive", text.indexOf('"content":"a"')) > 0, text);
  assertEquals(
    chunks.map((c) => (c as Chunk).choices[0].delta.content).filter(Boolean),
    ["", "a", "b"].filter(Boolean),
  );
});

Deno.test("each event is written as it comes, not batched", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  async function* gated(): AsyncGenerator<ChatEvent> {
    yield { type: "text", text: "first" };
    await gate;
    yield { type: "text", text: "second" };
  }
  const res = await writeChat(gated(), options());
  const reader = res.body!.getReader();
  let seen = "";
  while (!seen.includes('"content":"first"')) {
    seen += new TextDecoder().decode((await reader.read()).value);
  }
  assert(!seen.includes("second"));
  release();
  while (!seen.includes("[DONE]")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  assert(seen.includes('"content":"second"'));
});

Deno.test("cancelling the body aborts the request and closes the provider's iterator", async () => {
  let finalized = false;
  async function* endless(): AsyncGenerator<ChatEvent> {
    try {
      while (true) {
        yield { type: "text", text: "x" };
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      finalized = true;
    }
  }
  const o = options();
  const res = await writeChat(endless(), o);
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  assertEquals(o.abort.signal.aborted, true);
  for (let i = 0; i < 50 && !finalized; i++) await new Promise((r) => setTimeout(r, 10));
  assertEquals(finalized, true);
  assertEquals(o.ends[0].aborted, true);
});

Deno.test("an empty answer still streams a role chunk, a finish and [DONE]", async () => {
  const res = await writeChat(events([]), options());
  const { events: chunks, done } = parseSseBody<Chunk>(await res.text());
  assert(done);
  assertEquals(chunks.map((c) => c.choices[0].delta), [{ role: "assistant", content: "" }, {}]);
  assertEquals(chunks[1].choices[0].finish_reason, "stop");
});

Deno.test("the text-chunk fast path writes exactly what chunkJson writes", async () => {
  const { chunkJson, chunkPrefix, textChunkJson } = await import("../../src/openai/response.ts");
  const meta = { id: 'chatcmpl-"odd"', created: 1, model: "a/b\\c \u2028" };
  const prefix = chunkPrefix(meta);
  for (const text of ["plain", 'quote " and \\ and \n newline', "emoji 🙂 你好", "\u0000\u001f"]) {
    assertEquals(textChunkJson(prefix, 2, "content", text), chunkJson(meta, 2, { content: text }));
    assertEquals(
      textChunkJson(prefix, 0, "reasoning_content", text),
      chunkJson(meta, 0, { reasoning_content: text }),
    );
  }
});
