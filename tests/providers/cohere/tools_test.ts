/**
 * Cohere v2 tools through the running gateway with the `openai` client: JSON-schema tools, calls
 * streamed with Cohere's ids, the plan as reasoning, results matched by id, `tool_choice` per
 * model, citations as footnotes, the prompt emulator.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { createCohereProvider } from "../../../src/providers/cohere/mod.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { testDeps } from "../../context.ts";
import { lastBody, setup } from "./_setup.ts";

const weather: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get-weather",
    description: "Weather of a city",
    strict: true,
    parameters: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
      required: ["city"],
      additionalProperties: false,
    },
  },
};
const clock: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "now", description: "The time" },
};

type Call = OpenAI.Chat.ChatCompletionMessageFunctionToolCall;

Deno.test("cohere tools: JSON-schema tools, calls with Cohere's ids under the client's names", async () => {
  await using t = await setup();
  t.fake.respond = (b) => {
    const name = String((b.tools as { function: { name: string } }[])[0].function.name);
    return {
      plan: "I will look up the weather.",
      toolCalls: [
        { name, arguments: { city: "Paris" }, id: "get_weather_aaaa1111" },
        { name, arguments: { city: "Rome" }, id: "get_weather_bbbb2222" },
      ],
    };
  };
  const req = {
    model: "command-a-03-2025",
    messages: [{ role: "user" as const, content: "weather?" }],
    tools: [weather, clock],
  };
  const res = await t.client.chat.completions.create(req);
  const tools = lastBody(t.fake).tools as { type: string; function: Record<string, unknown> }[];
  assertMatch(String(tools[0].function.name), /^get_weather_[0-9a-f]{8}$/);
  assertEquals(tools[0], {
    type: "function",
    function: {
      name: tools[0].function.name,
      description: "Weather of a city",
      parameters: {
        type: "object",
        properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
        required: ["city"],
        additionalProperties: false,
      },
    },
  });
  assertEquals(tools[1], {
    type: "function",
    function: {
      name: "now",
      description: "The time",
      parameters: { type: "object", properties: {} },
    },
  });
  const msg = res.choices[0].message;
  assertEquals(res.choices[0].finish_reason, "tool_calls");
  assertEquals(
    (msg as { reasoning_content?: string }).reasoning_content,
    "I will look up the weather.",
  );
  assertEquals(msg.content, null);
  const calls = msg.tool_calls! as Call[];
  assertEquals(calls.map((c) => c.id), ["get_weather_aaaa1111", "get_weather_bbbb2222"]);
  assertEquals(calls.map((c) => c.function.name), ["get-weather", "get-weather"]);
  assertEquals(calls.map((c) => JSON.parse(c.function.arguments)), [{ city: "Paris" }, {
    city: "Rome",
  }]);

  const final = await t.client.chat.completions.stream(req).finalChatCompletion();
  assertEquals(final.choices[0].finish_reason, "tool_calls");
  assertEquals(
    (final.choices[0].message.tool_calls as Call[]).map((c) => JSON.parse(c.function.arguments)),
    [{ city: "Paris" }, { city: "Rome" }],
  );
});

Deno.test("cohere tools: results go back as tool messages matched by id", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "Paris 20C, Rome 25C." });
  const res = await t.client.chat.completions.create({
    model: "command-a-03-2025",
    tools: [weather],
    messages: [
      { role: "user", content: "weather in Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          {
            id: "c1",
            type: "function",
            function: { name: "get-weather", arguments: '{"city":"Paris"}' },
          },
          {
            id: "c2",
            type: "function",
            function: { name: "get-weather", arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: '{"temp":20}' },
      { role: "tool", tool_call_id: "c2", content: "25C and sunny" },
      { role: "assistant", content: "Paris is 20C." },
      { role: "user", content: "and the sources?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "c3",
          type: "function",
          function: { name: "get-weather", arguments: "" },
        }],
      },
      {
        role: "tool",
        tool_call_id: "c3",
        content: '[{"url":"https://a.example"},{"url":"https://b.example"}]',
      },
    ],
  });
  assertEquals(res.choices[0].message.content, "Paris 20C, Rome 25C.");
  const body = lastBody(t.fake);
  const name = String((body.tools as { function: { name: string } }[])[0].function.name);
  const call = (id: string, args: string) => ({
    id,
    type: "function",
    function: { name, arguments: args },
  });
  assertEquals(body.messages, [
    { role: "user", content: "weather in Paris and Rome?" },
    {
      role: "assistant",
      tool_calls: [call("c1", '{"city":"Paris"}'), call("c2", '{"city":"Rome"}')],
      tool_plan: "Checking both.",
    },
    { role: "tool", tool_call_id: "c1", content: '{"temp":20}' },
    { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "25C and sunny" }] },
    { role: "assistant", content: "Paris is 20C." },
    { role: "user", content: "and the sources?" },
    { role: "assistant", tool_calls: [call("c3", "{}")] },
    {
      role: "tool",
      tool_call_id: "c3",
      content: [
        { type: "document", document: { data: { url: "https://a.example" } } },
        { type: "document", document: { data: { url: "https://b.example" } } },
      ],
    },
  ]);
});

Deno.test("cohere tools: a result that answers no call is a 400, nothing sent", async () => {
  await using t = await setup();
  const before = t.fake.requests.length;
  const err = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "command-a-03-2025",
        tools: [weather],
        messages: [
          { role: "user", content: "weather?" },
          { role: "tool", tool_call_id: "nope", content: "sunny" },
        ],
      }),
    OpenAI.BadRequestError,
  );
  assertMatch(err.message, /tool_call_id 'nope' matches no tool call/);
  assertEquals(err.param, "messages[1].tool_call_id");
  const bad = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "command-a-03-2025",
        messages: [
          { role: "user", content: "weather?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{
              id: "call_1",
              type: "function",
              function: { name: "w", arguments: "{city: Paris" },
            }],
          },
          { role: "tool", tool_call_id: "call_1", content: "sunny" },
        ],
      }),
    OpenAI.BadRequestError,
  );
  assertMatch(bad.message, /function\.arguments is not valid JSON/);
  assertEquals(t.fake.requests.length, before, "nothing was sent upstream");
});

Deno.test("cohere tools: tool_choice as REQUIRED/NONE where the model takes it", async () => {
  await using t = await setup();
  const ask = (model: string, tool_choice: OpenAI.Chat.ChatCompletionToolChoiceOption) =>
    t.client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "weather?" }],
      tools: [weather, clock],
      tool_choice,
    });
  await ask("command-r7b-12-2024", "required");
  assertEquals(lastBody(t.fake).tool_choice, "REQUIRED");
  await ask("command-r7b-12-2024", "none");
  assertEquals(lastBody(t.fake).tool_choice, "NONE");
  assertEquals((lastBody(t.fake).tools as unknown[]).length, 2);
  await ask("command-a-03-2025", { type: "function", function: { name: "now" } });
  assertEquals(lastBody(t.fake).tool_choice, "REQUIRED");
  assertEquals(
    (lastBody(t.fake).tools as { function: { name: string } }[]).map((x) => x.function.name),
    ["now"],
  );
  // Before R7B: no tool_choice; `none` leaves the tools out.
  await ask("command-r-08-2024", "required");
  assertEquals(lastBody(t.fake).tool_choice, undefined);
  assertEquals((lastBody(t.fake).tools as unknown[]).length, 2);
  await ask("command-r-08-2024", "none");
  assertEquals(lastBody(t.fake).tools, undefined);
  await ask("command-r-08-2024", "auto");
  assertEquals(lastBody(t.fake).tool_choice, undefined);
});

Deno.test("cohere: cited sources become numbered footnotes", async () => {
  await using t = await setup();
  t.fake.respond = () => ({
    text: "Paris is the capital.",
    citations: [
      { url: "https://en.wikipedia.org/wiki/Paris", title: "Paris" },
      { url: "https://example.org/france" },
      { url: "https://en.wikipedia.org/wiki/Paris", title: "Paris" },
      {},
    ],
  });
  const res = await t.client.chat.completions.create({
    model: "command-a-03-2025",
    messages: [{ role: "user", content: "capital of France?" }],
  });
  assertEquals(
    res.choices[0].message.content,
    'Paris is the capital.\n\n[1]: https://en.wikipedia.org/wiki/Paris "Paris"\n[2]: https://example.org/france',
  );
});

Deno.test("cohere tools: cohere.tc switches to the prompt emulator", async () => {
  const cohere = createCohereProvider(testDeps());
  assertEquals(
    cohere.resolve("command-r7b-12-2024", configSchema.parse({ cohere: { tc: true } }))?.toolMode,
    "emulated",
  );
  assertEquals(cohere.resolve("command-r7b-12-2024", configSchema.parse({}))?.toolMode, "native");
  await using t = await setup({ cohere: { tc: true } });
  t.fake.respond = (b) => {
    const prompt = JSON.stringify(b.messages);
    if (!prompt.includes("get-weather")) return { text: "no tools offered" };
    if (prompt.includes("sunny and 21")) return { text: "Sunny, 21." };
    return {
      text: `<tool_call>\n${
        JSON.stringify({ name: "get-weather", arguments: { city: "Paris" } })
      }\n</tool_call>`,
    };
  };
  const first = await t.client.chat.completions.create({
    model: "command-r7b-12-2024",
    messages: [{ role: "user", content: "weather?" }],
    tools: [weather],
  });
  assertEquals(first.choices[0].finish_reason, "tool_calls");
  const call = first.choices[0].message.tool_calls![0] as Call;
  assertEquals([call.function.name, JSON.parse(call.function.arguments)], ["get-weather", {
    city: "Paris",
  }]);
  const second = await t.client.chat.completions.create({
    model: "command-r7b-12-2024",
    messages: [
      { role: "user", content: "weather?" },
      first.choices[0].message as OpenAI.Chat.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: call.id, content: "sunny and 21" },
    ],
    tools: [weather],
  });
  assertEquals(second.choices[0].message.content, "Sunny, 21.");
  for (const b of t.fake.bodies()) {
    assertEquals(b.tools, undefined);
    assert(!(b.messages as { role: string }[]).some((m) => m.role === "tool"));
  }
});
