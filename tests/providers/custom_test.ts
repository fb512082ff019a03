/**
 * The `custom` provider's handling of OpenAI-compatible upstreams that differ from OpenAI.
 */
import { assert, assertEquals } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { serveFake } from "../fakes/serve.ts";
import { parseSseBody, startGateway } from "../helpers.ts";
import { OpenAiStreamMapper } from "../../src/providers/custom/stream.ts";
import type { ChatEvent } from "../../src/providers/types.ts";

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
