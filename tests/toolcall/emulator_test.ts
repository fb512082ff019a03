/** The emulator around a scripted upstream: streaming, retries, limits, usage, tasks mode. */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import type { ChatRequest, Message } from "../../src/openai/schema.ts";
import type { ChatEvent } from "../../src/providers/types.ts";
import { emulateToolCalls, needsEmulation } from "../../src/toolcall/mod.ts";
import { promptTokens } from "../../src/openai/response.ts";
import { countTokens } from "../../src/util/tokens.ts";
import { collect, fn, metered, request, scripted, testContext } from "./harness.ts";

const weather = fn("get_weather", {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
});
const time = fn("get_time", { type: "object", properties: { tz: { type: "string" } } });
const whoami = fn("whoami", { type: "object", properties: {} });
const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

function text(m: Message): string {
  return typeof m.content === "string" ? m.content : JSON.stringify(m.content);
}

Deno.test("emulator: text before a call reaches the client before the call is complete", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const call = metered((_req: ChatRequest) =>
    (async function* (): AsyncGenerator<ChatEvent> {
      yield { type: "text", text: "Let me check the weather. <tool" };
      await gate;
      yield {
        type: "text",
        text: '_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>',
      };
    })()
  );
  const it = emulateToolCalls(request("w", [weather]), testContext(), call)[Symbol.asyncIterator]();
  // The first event comes while the upstream is still waiting: only "<tool" was held back.
  const first = await it.next();
  assertEquals(first.value, { type: "text", text: "Let me check the weather." });
  release();
  const rest: ChatEvent[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
  assertEquals(rest.map((e) => e.type), ["tool_call", "tool_call", "usage", "finish"]);
  assertMatch((rest[0] as { id: string }).id, /^call_[A-Za-z0-9]{24}$/);
  assertEquals(rest[0], {
    type: "tool_call",
    index: 0,
    id: (rest[0] as { id: string }).id,
    name: "get_weather",
    arguments: "",
  });
  assertEquals((rest[1] as { arguments: string }).arguments, '{"city":"Oslo"}');
  assertEquals(rest[3], { type: "finish", reason: "tool_calls" });
});

Deno.test("emulator: call ids are unique across calls and requests", async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const up = scripted([`${CALL}\n${CALL}`]);
    const r = await collect(emulateToolCalls(request("w", [weather]), testContext(), up.call));
    for (const c of r.calls) {
      assertMatch(c.id, /^call_[A-Za-z0-9]{24}$/);
      ids.add(c.id);
    }
  }
  assertEquals(ids.size, 40);
});

Deno.test("emulator: the corrective request continues the answer and names the problem", async () => {
  const up = scripted([
    'Checking.\n<tool_call>{"name": "get_weather", "arguments": {"town": "Oslo"}}</tool_call>',
    'Oops, sorry. <tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>',
  ]);
  const r = await collect(emulateToolCalls(request("w", [weather]), testContext(), up.call));
  assertEquals(up.requests.length, 2);
  const retry = up.requests[1].messages;
  const n = retry.length;
  assertEquals(retry.slice(0, n - 2), up.requests[0].messages);
  assertEquals(retry[n - 2].role, "assistant");
  assertEquals(
    text(retry[n - 2]),
    'Checking.\n\n<tool_call>{"name": "get_weather", "arguments": {"town": "Oslo"}}</tool_call>',
  );
  assertEquals(retry[n - 1].role, "user");
  assertStringIncludes(text(retry[n - 1]), 'argument "city" is required');
  // The retry's own prose is not shown; the client sees the first text and the good call.
  assertEquals(r.text, "Checking.");
  assertEquals(r.calls.map((c) => c.arguments), ['{"city":"Oslo"}']);
});

Deno.test("emulator: in 1-character events, white space between words is kept, before a call dropped; a correction repeats the answer's last 4000 characters", async () => {
  const prose = "  " + "word \n".repeat(2000) + "end.";
  const broken = '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>';
  const up = scripted([`${prose} \n\n ${broken}`, CALL], 1);
  const r = await collect(emulateToolCalls(request("w", [weather]), testContext(), up.call));
  assertEquals(r.text, prose.trimStart());
  assertEquals(r.calls.length, 1);
  const retry = up.requests[1].messages;
  assertEquals(text(retry[retry.length - 2]), `${prose.slice(-4000)}\n\n${broken}`);
});

Deno.test("emulator: one corrective request at most, then the broken call is text", async () => {
  const bad = '<tool_call>{"name": "nope", "arguments": {}}</tool_call>';
  const up = scripted([bad, bad, bad]);
  const ctx = testContext();
  const r = await collect(emulateToolCalls(request("w", [weather]), ctx, up.call));
  assertEquals(up.requests.length, 2);
  assertEquals(r.text, bad);
  assertEquals(r.calls, []);
  assertEquals(r.finish, "stop");
  assert(ctx.lines.some((l) => l.includes("WARN") && l.includes("unusable call")));
});

Deno.test("emulator: no corrective request after the client left", async () => {
  const controller = new AbortController();
  const ctx = { ...testContext(), signal: controller.signal };
  const up = scripted(['<tool_call>{"name": "nope"}</tool_call>']);
  controller.abort();
  await collect(emulateToolCalls(request("w", [weather]), ctx, up.call));
  assertEquals(up.requests.length, 1);
});

Deno.test("emulator: parallel_tool_calls false stops reading the upstream after the first call", async () => {
  const answer = `${CALL}\n${CALL}\n${"more text ".repeat(200)}`;
  const up = scripted([answer], 4);
  const r = await collect(
    emulateToolCalls(
      request("w", [weather], { parallel_tool_calls: false }),
      testContext(),
      up.call,
    ),
  );
  assertEquals(r.calls.length, 1);
  assert(up.read[0] < answer.length / 4 / 2, `read ${up.read[0]} pieces of ${answer.length / 4}`);
});

Deno.test("emulator: a tool result written by the model ends the upstream read", async () => {
  const answer = `${CALL}\n<tool_result name="get_weather">sunny</tool_result>\n${
    "It is sunny. ".repeat(300)
  }`;
  const up = scripted([answer], 8);
  const r = await collect(emulateToolCalls(request("w", [weather]), testContext(), up.call));
  assertEquals(r.calls.length, 1);
  assertEquals(r.text, "");
  assert(up.read[0] < 30, `read ${up.read[0]} pieces`);
});

Deno.test("emulator: usage is the upstream's when it reports it, summed over both requests", async () => {
  const up = scripted(['<tool_call>{"name": "nope"}</tool_call>', CALL], 4, {
    usage: { prompt_tokens: 1000, completion_tokens: 20 },
  });
  const r = await collect(emulateToolCalls(request("w", [weather]), testContext(), up.call));
  assertEquals(r.usage, { prompt_tokens: 2000, completion_tokens: 40 });
});

Deno.test("emulator: without upstream usage, the emulation prompt and the raw answer are counted", async () => {
  const answer = `Let me see.\n${CALL}\nand some text the client never sees`;
  const up = scripted([answer]);
  const req = request("weather in Paris?", [weather, time]);
  const r = await collect(emulateToolCalls(req, testContext(), up.call));
  assertEquals(r.usage, {
    prompt_tokens: promptTokens(up.requests[0]),
    completion_tokens: countTokens(answer),
  });
  // The emulation prompt is bigger than the client's messages alone.
  assert(r.usage!.prompt_tokens > promptTokens({ ...req, tools: undefined }));
});

Deno.test("emulator: reasoning passes through; native calls keep their own index", async () => {
  const call = metered(() =>
    (async function* (): AsyncGenerator<ChatEvent> {
      yield { type: "reasoning", text: "thinking" };
      yield { type: "text", text: CALL };
      yield { type: "tool_call", index: 5, id: "call_native", name: "get_time", arguments: "{}" };
    })()
  );
  const events: ChatEvent[] = [];
  for await (const e of emulateToolCalls(request("w", [weather, time]), testContext(), call)) {
    events.push(e);
  }
  assertEquals(events[0], { type: "reasoning", text: "thinking" });
  const calls = events.filter((e) => e.type === "tool_call") as { index: number; name?: string }[];
  assertEquals(calls.map((c) => [c.index, c.name]), [[0, "get_weather"], [0, undefined], [
    1,
    "get_time",
  ]]);
});

Deno.test("emulator: the default tool is called when the answer has none, not after a result", async () => {
  const up = scripted(["Hello!"]);
  const r = await collect(
    emulateToolCalls(request("hi", [weather, whoami]), testContext({ id: "whoami" }), up.call),
  );
  assertEquals(r.text, "Hello!");
  assertEquals(r.calls.map((c) => [c.name, c.arguments]), [["whoami", "{}"]]);
  assertEquals(r.finish, "tool_calls");

  const after = request("", [weather, whoami]);
  after.messages = [
    { role: "user", content: "hi" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "c", type: "function", function: { name: "whoami", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "c", content: "ana" },
  ] as Message[];
  const up2 = scripted(["Hi Ana!"]);
  const r2 = await collect(emulateToolCalls(after, testContext({ id: "whoami" }), up2.call));
  assertEquals(r2.calls, []);
  assertEquals(r2.text, "Hi Ana!");
});

Deno.test("emulator: with tool history but no tools, the history is rendered and nothing parsed", async () => {
  const req = request("", []);
  delete req.tools;
  req.messages = [
    { role: "user", content: "w?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "c",
        type: "function",
        function: { name: "get_weather", arguments: "{}" },
      }],
    },
    { role: "tool", tool_call_id: "c", content: "rain" },
  ] as Message[];
  const ctx = testContext();
  assert(needsEmulation(req, ctx));
  const up = scripted([CALL]);
  const r = await collect(emulateToolCalls(req, ctx, up.call));
  assertEquals(r.calls, []);
  assertEquals(r.text, CALL);
  assertStringIncludes(text(up.requests[0].messages[3]), '<tool_result name="get_weather">\nrain');
});

Deno.test("emulator: an error from the upstream propagates", async () => {
  const call = metered(() =>
    (async function* (): AsyncGenerator<ChatEvent> {
      yield { type: "text", text: "partial" };
      throw new Error("upstream broke");
    })()
  );
  await assertRejects(
    () => collect(emulateToolCalls(request("w", [weather]), testContext(), call)),
    Error,
    "upstream broke",
  );
});

function conversation(
  user: string,
  steps: { id: string; name: string; args: string; result: string }[],
) {
  const messages: Message[] = [{ role: "user", content: user }];
  for (const s of steps) {
    messages.push({
      role: "assistant",
      content: null,
      tool_calls: [{ id: s.id, type: "function", function: { name: s.name, arguments: s.args } }],
    } as Message);
    messages.push({ role: "tool", tool_call_id: s.id, content: s.result } as Message);
  }
  return messages;
}

Deno.test("tasks mode: a plan in the first answer drives the following turns, one call each", async () => {
  const tools = [weather, time, whoami];
  const ctx = testContext({ tasks: true });
  // Turn 1: the model plans three tasks and calls the first tool.
  const up1 = scripted([
    '<tasks>[{"tool": "get_weather", "task": "weather in Oslo"}, {"tool": "get_time", "task": "time in Oslo"}, {"tool": "whoami", "task": "who asks"}]</tasks>\n' +
    CALL.replace("Paris", "Oslo"),
  ]);
  const req1 = request("weather and time in Oslo, and who am I?", tools);
  const r1 = await collect(emulateToolCalls(req1, ctx, up1.call));
  assertStringIncludes(text(up1.requests[0].messages[0]), "<tasks>");
  assertEquals(r1.calls.map((c) => c.name), ["get_weather"]);
  assertEquals(r1.text, "");

  // Turn 2: the result of task 1 comes back; the model is told to do task 2 with get_time.
  const steps = [{
    id: r1.calls[0].id,
    name: "get_weather",
    args: r1.calls[0].arguments,
    result: "cold",
  }];
  const up2 = scripted([
    '<tool_call>{"name": "get_time", "arguments": {"tz": "Europe/Oslo"}}</tool_call>',
  ]);
  const req2 = { ...req1, messages: conversation(req1.messages[0].content as string, steps) };
  const r2 = await collect(emulateToolCalls(req2, ctx, up2.call));
  const sys2 = text(up2.requests[0].messages[0]);
  assertStringIncludes(sys2, "1. (done) weather in Oslo [tool: get_weather]");
  assertStringIncludes(sys2, "2. (next) time in Oslo [tool: get_time]");
  assertStringIncludes(sys2, 'you must call the tool "get_time"');
  assertEquals(r2.calls.map((c) => c.name), ["get_time"]);

  // Turn 3: task 3's tool takes no arguments: called directly, no upstream request.
  steps.push({
    id: r2.calls[0].id,
    name: "get_time",
    args: r2.calls[0].arguments,
    result: "10:00",
  });
  const up3 = scripted([]);
  const r3 = await collect(
    emulateToolCalls({ ...req1, messages: conversation("q", steps) }, ctx, up3.call),
  );
  assertEquals(up3.requests.length, 0);
  assertEquals(r3.calls.map((c) => [c.name, c.arguments]), [["whoami", "{}"]]);

  // Turn 4: the plan is done; an ordinary answer.
  steps.push({ id: r3.calls[0].id, name: "whoami", args: "{}", result: "Ana" });
  const up4 = scripted(["Oslo is cold, it is 10:00, and you are Ana."]);
  const r4 = await collect(
    emulateToolCalls({ ...req1, messages: conversation("q", steps) }, ctx, up4.call),
  );
  assertEquals(r4.text, "Oslo is cold, it is 10:00, and you are Ana.");
  assertEquals(r4.calls, []);
});

Deno.test("tasks mode: two conversations with the same question do not share a plan", async () => {
  const tools = [weather, time];
  const ctx = testContext({ tasks: true });
  const plan =
    '<tasks>[{"tool": "get_weather", "task": "w"}, {"tool": "get_time", "task": "t"}]</tasks>';
  // Conversation A plans two tasks; conversation B, same question, makes no plan.
  const a = await collect(
    emulateToolCalls(request("same question", tools), ctx, scripted([plan + CALL]).call),
  );
  const b = await collect(
    emulateToolCalls(request("same question", tools), ctx, scripted([CALL]).call),
  );
  const next = (id: string) =>
    conversation("same question", [{ id, name: "get_weather", args: "{}", result: "r" }]);
  const upA = scripted(['<tool_call>{"name": "get_time", "arguments": {}}</tool_call>']);
  await collect(
    emulateToolCalls({ ...request("", tools), messages: next(a.calls[0].id) }, ctx, upA.call),
  );
  assertStringIncludes(text(upA.requests[0].messages[0]), "2. (next) t [tool: get_time]");
  const upB = scripted(["Done."]);
  await collect(
    emulateToolCalls({ ...request("", tools), messages: next(b.calls[0].id) }, ctx, upB.call),
  );
  assertEquals(text(upB.requests[0].messages[0]).includes("planned tasks"), false);
});
