/** The emulation prompt: what the upstream receives. */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import type { ChatRequest, Message } from "../../src/openai/schema.ts";
import { prepareEmulation } from "../../src/toolcall/mod.ts";
import { fn, request, testContext } from "./harness.ts";

const weather = fn("get_weather", {
  type: "object",
  properties: {
    city: { type: "string", description: "City name" },
    unit: { type: "string", enum: ["c", "f"] },
    where: { type: "object", properties: { lat: { type: "number" } }, required: ["lat"] },
  },
  required: ["city"],
}, "Current weather");
const time = fn("get_time", { type: "object", properties: { tz: { type: "string" } } });

function upstreamOf(req: ChatRequest, tool = {}) {
  return prepareEmulation(req, testContext(tool)).upstream;
}

function text(m: Message): string {
  if (typeof m.content === "string") return m.content;
  return (m.content as { type: string; text?: string }[]).map((p) => p.text ?? "").join("|");
}

Deno.test("prompt: tools with their schemas go into the system message (short ones unchanged)", () => {
  const up = upstreamOf(request("weather in Paris?", [weather, time]));
  assertEquals(up.messages[0].role, "system");
  const sys = text(up.messages[0]);
  const block = /<tools>\n([\s\S]*?)\n<\/tools>/.exec(sys)![1].split("\n").map((l) =>
    JSON.parse(l)
  );
  assertEquals(block, [
    {
      name: "get_weather",
      description: "Current weather",
      parameters: weather.function.parameters,
    },
    { name: "get_time", parameters: time.function.parameters },
  ]);
  assertStringIncludes(
    sys,
    '<tool_call>\n{"name": "tool_name", "arguments": {"argument_name": "value"}}\n</tool_call>',
  );
  assertStringIncludes(sys, "one <tool_call> block per call");
  // No tool fields and no stop sequences go upstream.
  for (const k of ["tools", "tool_choice", "parallel_tool_calls", "stop"]) {
    assertEquals(k in up, false);
  }
});

Deno.test("prompt: the client's system message keeps its place, the rules follow it", () => {
  const req = request("hi", [weather]);
  req.messages.unshift({ role: "system", content: "You are Ana." });
  req.stop = ["\n\n"];
  const up = upstreamOf(req);
  assertEquals(up.messages.length, 2);
  assert(text(up.messages[0]).startsWith("You are Ana.\n\n# Tools"));
  assertEquals("stop" in up, false);
});

Deno.test("prompt: history calls (all of them) and results matched by id, in the same format", () => {
  const req = request("", [weather, time]);
  req.messages = [
    { role: "user", content: "weather in Paris and Oslo, and the time" },
    {
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
        {
          id: "call_b",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
        },
        { id: "call_c", type: "function", function: { name: "get_time", arguments: "{}" } },
      ],
    },
    // Results out of order: each is named by its own call.
    { role: "tool", tool_call_id: "call_c", content: "12:00" },
    { role: "tool", tool_call_id: "call_a", content: "rain" },
    { role: "tool", tool_call_id: "call_b", content: [{ type: "text", text: "snow" }] },
    { role: "user", content: "and tomorrow?" },
  ] as Message[];
  const up = upstreamOf(req);
  assertEquals(up.messages.map((m) => m.role), ["system", "user", "assistant", "user"]);
  assertEquals(
    text(up.messages[2]),
    'Checking.\n\n<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>\n\n' +
      '<tool_call>\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n</tool_call>\n\n' +
      '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>',
  );
  assertEquals("tool_calls" in up.messages[2], false);
  const last = text(up.messages[3]);
  assert(last.startsWith(
    '<tool_result name="get_time">\n12:00\n</tool_result>\n\n' +
      '<tool_result name="get_weather">\nrain\n</tool_result>\n\n' +
      '<tool_result name="get_weather">\nsnow\n</tool_result>\n\nand tomorrow?',
  ));
});

Deno.test("prompt: trailing tool results become a user message that ends with the reminder", () => {
  const req = request("", [weather]);
  req.messages = [
    { role: "user", content: "weather?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "c1",
        type: "function",
        function: { name: "get_weather", arguments: "{}" },
      }],
    },
    { role: "tool", tool_call_id: "c1", content: "sunny" },
  ] as Message[];
  const up = upstreamOf(req);
  const last = up.messages[up.messages.length - 1];
  assertEquals(last.role, "user");
  assertEquals(
    text(last),
    '<tool_result name="get_weather">\nsunny\n</tool_result>\n\n(To use a tool, reply with <tool_call>{"name": ..., "arguments": {...}}</tool_call> and stop there; otherwise answer directly.)',
  );
});

Deno.test("prompt: system messages after the last user message do not lose the reminder", () => {
  const req = request("", [weather]);
  // Claude Code sends its environment as a system message after the user's.
  req.messages = [
    { role: "user", content: "weather?" },
    { role: "system", content: "Working directory: /tmp" },
  ] as Message[];
  const up = upstreamOf(req);
  assertEquals(up.messages.map((m) => m.role), ["system", "user", "system"]);
  assert(text(up.messages[1]).startsWith("weather?\n\n(To use a tool,"), text(up.messages[1]));
  assertEquals(text(up.messages[2]), "Working directory: /tmp");
});

Deno.test("prompt: tool_choice shapes the rules and the reminder", () => {
  const req = request("go", [weather, time], { tool_choice: "required" });
  let up = upstreamOf(req);
  assertStringIncludes(text(up.messages[0]), "you must call at least one tool");
  assertStringIncludes(text(up.messages[1]), "(Now call a tool");
  up = upstreamOf({ ...req, tool_choice: { type: "function", function: { name: "get_time" } } });
  assertStringIncludes(text(up.messages[0]), 'you must call the tool "get_time"');
  assertStringIncludes(text(up.messages[1]), '(Now call the tool "get_time"');
  up = upstreamOf({ ...req, tool_choice: "none" });
  assertStringIncludes(text(up.messages[0]), "do not call any tool now");
  assertEquals(text(up.messages[1]), "go");
  up = upstreamOf({ ...req, tool_choice: "auto", parallel_tool_calls: false });
  assertStringIncludes(text(up.messages[0]), "Call at most one tool per answer.");
  up = upstreamOf({ ...req, tool_choice: "auto" }, { id: "get_time" });
  assertStringIncludes(text(up.messages[0]), 'When no other tool fits, call the tool "get_time".');
});

Deno.test("prompt: the instructions are English whatever the user's language", () => {
  const up = upstreamOf(request("北京今天天气怎么样？", [weather]));
  assertEquals(/[\u4e00-\u9fff]/.test(text(up.messages[0])), false);
  assert(text(up.messages[1]).startsWith("北京今天天气怎么样？"));
});

Deno.test("prompt: user content parts keep their images; the reminder is a text part", () => {
  const req = request("", [weather]);
  req.messages = [{
    role: "user",
    content: [
      { type: "text", text: "what city is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
    ],
  }] as Message[];
  const up = upstreamOf(req);
  const parts = up.messages[1].content as { type: string }[];
  assertEquals(parts.map((p) => p.type), ["text", "image_url", "text"]);
});

Deno.test("prompt: legacy function messages and function_call are rendered too", () => {
  const req = request("", [weather]);
  req.messages = [
    { role: "user", content: "w?" },
    {
      role: "assistant",
      content: null,
      function_call: { name: "get_weather", arguments: '{"city":"X"}' },
    },
    { role: "function", name: "get_weather", content: "hot" },
  ] as Message[];
  const up = upstreamOf(req);
  assertStringIncludes(text(up.messages[2]), '{"name":"get_weather","arguments":{"city":"X"}}');
  assertStringIncludes(
    text(up.messages[3]),
    '<tool_result name="get_weather">\nhot\n</tool_result>',
  );
});
