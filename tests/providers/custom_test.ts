/**
 * The `custom` provider's handling of OpenAI-compatible upstreams that differ from OpenAI.
 */
import { assert, assertEquals } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { serveFake } from "../fakes/serve.ts";
import { parseSseBody, startGateway } from "../helpers.ts";
import { OpenAiStreamMapper } from "../../src/providers/custom/stream.ts";
import type { ChatEvent } from "../../src/providers/types.ts";
import { toCustomRequest } from "../../src/providers/custom/request.ts";
import type { ChatRequest } from "../../src/openai/schema.ts";

type Chunk = {
  choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: Record<string, number>;
};

async function post(origin: string, body: unknown) {
  return await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("an upstream refusing stream_options is asked again without it", async () => {
  const upstream = await startFakeOpenAi({ rejectStreamOptions: true });
  const gw = await startGateway({
    "custom-llm": [{ prefix: "u", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
  });
  try {
    const res = await post(gw.origin, {
      model: "u/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { events, done } = parseSseBody<Chunk>(await res.text());
    assertEquals(done, true);
    assertEquals(
      events.filter((e) => e.choices.length).map((e) => e.choices[0].delta.content ?? "").join(""),
      "Hello! You said: hi",
    );
    // The client still gets its usage chunk (counted by the gateway).
    assertEquals(events.at(-1)!.choices, []);
    assert(
      (events.at(-1) as { usage?: { completion_tokens: number } }).usage!.completion_tokens > 0,
    );
    const bodies = upstream.chatBodies();
    assertEquals(bodies.length, 2);
    assertEquals(bodies[0].stream_options, { include_usage: true });
    assertEquals("stream_options" in bodies[1], false);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("non-streamed requests are non-streamed upstream; streamed ones ask for usage", async () => {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [{ prefix: "u", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
  });
  try {
    await (await post(gw.origin, {
      model: "u/gpt-4o-mini",
      messages: [{ role: "user", content: "a" }],
    })).json();
    await (await post(gw.origin, {
      model: "u/gpt-4o-mini",
      messages: [{ role: "user", content: "b" }],
      stream: true,
    })).text();
    const [plain, streamed] = upstream.chatBodies();
    assertEquals([plain.stream, "stream_options" in plain], [false, false]);
    assertEquals([streamed.stream, streamed.stream_options], [true, { include_usage: true }]);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("an upstream answering JSON to a stream request is still streamed to the client", async () => {
  const fake = await serveFake(() =>
    new Response(
      JSON.stringify({
        id: "x",
        object: "chat.completion",
        choices: [{
          index: 0,
          message: { role: "assistant", content: "whole answer", reasoning_content: "hmm" },
          finish_reason: "length",
        }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      }),
      { headers: { "content-type": "application/json" } },
    )
  );
  const gw = await startGateway({
    "custom-llm": [{ prefix: "j", "base-url": `${fake.origin}/v1`, models: ["m"] }],
  });
  try {
    const res = await post(gw.origin, {
      model: "j/m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const { events } = parseSseBody<Chunk>(await res.text());
    assertEquals(events.map((e) => e.choices[0].delta), [
      { role: "assistant", content: "" },
      { reasoning_content: "hmm" },
      { content: "whole answer" },
      {},
    ]);
    assertEquals(events.at(-1)!.choices[0].finish_reason, "length");
    assertEquals(events.at(-1)!.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("an upstream's 400 over a broken tool conversation reaches the client as that 400", async () => {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    "custom-llm": [{ prefix: "u", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
  });
  try {
    // A tool result that answers no call: OpenAI refuses the conversation.
    const res = await post(gw.origin, {
      model: "u/gpt-4o-mini",
      messages: [
        { role: "user", content: "hi" },
        { role: "tool", tool_call_id: "call_nowhere", content: "42" },
      ],
    });
    assertEquals(res.status, 400);
    const body = await res.json();
    assertEquals(body.error.type, "invalid_request_error");
    assertEquals(
      body.error.message,
      "custom upstream answered 400: Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
    );
    assertEquals(upstream.requests.length, 1);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("stream mapper: tool calls without index, by id, continuing the last; reasoning; usage after finish", () => {
  const m = new OpenAiStreamMapper("custom");
  const ev: ChatEvent[] = [];
  const feed = (o: unknown) => ev.push(...m.map(JSON.stringify(o)));
  feed({ choices: [{ index: 0, delta: { reasoning: "think" } }] });
  feed({
    choices: [{
      index: 0,
      delta: { tool_calls: [{ id: "c1", function: { name: "a", arguments: '{"x"' } }] },
    }],
  });
  feed({ choices: [{ index: 0, delta: { tool_calls: [{ function: { arguments: ":1}" } }] } }] });
  feed({
    choices: [{
      index: 0,
      delta: { tool_calls: [{ id: "c2", function: { name: "b", arguments: "{}" } }] },
    }],
  });
  feed({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] });
  feed({
    choices: [],
    usage: {
      prompt_tokens: 9,
      completion_tokens: 4,
      completion_tokens_details: { reasoning_tokens: 1 },
    },
  });
  ev.push(...m.end());
  assertEquals(ev, [
    { type: "reasoning", text: "think", choice: 0 },
    { type: "tool_call", index: 0, id: "c1", name: "a", arguments: '{"x"', choice: 0 },
    { type: "tool_call", index: 0, arguments: ":1}", choice: 0 },
    { type: "tool_call", index: 1, id: "c2", name: "b", arguments: "{}", choice: 0 },
    { type: "finish", reason: "tool_calls", choice: 0 },
    {
      type: "usage",
      prompt_tokens: 9,
      completion_tokens: 4,
      cached_tokens: undefined,
      reasoning_tokens: 1,
    },
  ]);
});

Deno.test("stream mapper: a usage with negative or non-numeric counts is dropped for the meter (fuzz finding)", () => {
  for (const usage of [{ prompt_tokens: -1, completion_tokens: 0 }, { prompt_tokens: "9" }, 7]) {
    const m = new OpenAiStreamMapper("custom");
    const ev = [...m.map(JSON.stringify({ choices: [], usage })), ...m.end()];
    assertEquals(ev, [], JSON.stringify(usage));
  }
});

Deno.test("custom: the internal reasoning fields become reasoning_effort; signatures stay home", () => {
  const base = {
    model: "up/m",
    messages: [
      { role: "user", content: "q" },
      { role: "assistant", content: "a", reasoning_content: "r", reasoning_signature: "sig" },
      { role: "user", content: "q2" },
    ],
    vendor_extension: { keep: true },
  } as unknown as ChatRequest;
  const o = { upstreamModel: "m", stream: true, streamUsage: true };
  const withBudget = toCustomRequest({ ...base, reasoning: { budget_tokens: 10_000 } }, o);
  assertEquals(withBudget.reasoning_effort, "medium");
  assertEquals("reasoning" in withBudget, false);
  assertEquals(withBudget.model, "m");
  assertEquals(withBudget.stream_options, { include_usage: true });
  assertEquals(withBudget.vendor_extension, { keep: true });
  const msgs = withBudget.messages as Record<string, unknown>[];
  assertEquals("reasoning_signature" in msgs[1], false);
  assertEquals(msgs[1].reasoning_content, "r");
  assertEquals(toCustomRequest({ ...base, reasoning_effort: "high" }, o).reasoning_effort, "high");
  const off = toCustomRequest({ ...base, reasoning: { enabled: false, budget_tokens: 100 } }, o);
  assertEquals("reasoning_effort" in off, false);
  const plain = toCustomRequest(base, { ...o, stream: false });
  assertEquals("stream_options" in plain, false);
  assertEquals(plain.stream, false);
});

Deno.test("custom: a stream cut off before any finish reason or [DONE] is an error, never a stop", async () => {
  const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const chunk = (content: string) => ({
    id: "c",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
  const fake = await serveFake(() =>
    new Response(sse(chunk("partial ")) + sse(chunk("answer")), {
      headers: { "content-type": "text/event-stream" },
    })
  );
  const gw = await startGateway({
    "custom-llm": [{ prefix: "cut", "base-url": `${fake.origin}/v1`, models: ["m"] }],
  });
  try {
    const streamed = await post(gw.origin, {
      model: "cut/m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const { events, done } = parseSseBody<Chunk & { error?: { message: string } }>(
      await streamed.text(),
    );
    assertEquals(done, true);
    const last = events.at(-1)!;
    assert(last.error, `the stream ends with an error, not a finish: ${JSON.stringify(last)}`);
    assert(/ended before the answer did/.test(last.error.message), last.error.message);
    assert(!events.some((e) => e.choices?.[0]?.finish_reason), "no finish_reason was sent");
    const whole = await post(gw.origin, {
      model: "cut/m",
      messages: [{ role: "user", content: "x" }],
    });
    assertEquals(whole.status, 502);
    assert(/ended before the answer did/.test((await whole.json()).error.message));
  } finally {
    await gw.close();
    await fake.close();
  }
});

/** An upstream that starts a chunked SSE answer, then drops the TCP connection mid-body. */
function droppingUpstream() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const enc = new TextEncoder();
  const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
  const data = (content: string) =>
    `data: ${
      JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })
    }\n\n`;
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(65536);
        await conn.read(buf);
        await conn.write(enc.encode(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
            chunk(data("partial ")) + chunk(data("answer")),
        ));
        await new Promise((r) => setTimeout(r, 50));
        conn.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    origin: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close: () => listener.close(),
  };
}

Deno.test("custom: an upstream dropping the connection mid-body is the upstream's 502, never ours", async () => {
  const up = droppingUpstream();
  const gw = await startGateway({
    "custom-llm": [{ prefix: "drop", "base-url": `${up.origin}/v1`, models: ["m"] }],
  });
  try {
    const streamed = await post(gw.origin, {
      model: "drop/m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const { events } = parseSseBody<Chunk & { error?: { message: string; type: string } }>(
      await streamed.text(),
    );
    const err = events.at(-1)!.error!;
    assertEquals(err.type, "upstream_error");
    assert(/broke off the answer/.test(err.message), err.message);
    const whole = await post(gw.origin, {
      model: "drop/m",
      messages: [{ role: "user", content: "x" }],
    });
    assertEquals(whole.status, 502);
    const body = await whole.json();
    assertEquals(body.error.type, "upstream_error");
    assert(!gw.logs.some((l) => /internal error|server_error/.test(l)), gw.logs.join("\n"));
  } finally {
    await gw.close();
    up.close();
  }
});

Deno.test("custom: stream events of the wrong shape are the upstream's 502, never a 500 (fuzz finding)", async () => {
  const bad = [
    "null",
    '{"choices":{}}',
    '{"choices":[null]}',
    '{"choices":[{"index":0,"delta":{"content":5},"finish_reason":null}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":"x"}]},"finish_reason":null}]}',
  ];
  let next = 0;
  const fake = await serveFake(() =>
    new Response(`data: ${bad[next++ % bad.length]}\n\ndata: [DONE]\n\n`, {
      headers: { "content-type": "text/event-stream" },
    })
  );
  const gw = await startGateway({
    "custom-llm": [{ prefix: "odd", "base-url": `${fake.origin}/v1`, models: ["m"] }],
  });
  try {
    for (const data of bad) {
      const res = await post(gw.origin, {
        model: "odd/m",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      });
      // The error comes before any event: the status says it (else it ends the stream).
      assertEquals(res.status, 502, data);
      const { error } = await res.json();
      assertEquals(error?.type, "upstream_error", `${data}: ${JSON.stringify(error)}`);
      assert(/not as documented/.test(error!.message), error!.message);
    }
    const whole = await post(gw.origin, {
      model: "odd/m",
      messages: [{ role: "user", content: "x" }],
    });
    assertEquals(whole.status, 502);
  } finally {
    await gw.close();
    await fake.close();
  }
});
