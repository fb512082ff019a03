/**
 * The pipeline: flags and filters around providers, through the running gateway (the `custom`
 * provider and the fake OpenAI upstream) and directly with a provider that flattens.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import OpenAI from "openai";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startFakeToolLlm } from "../fakes/tool_llm.ts";
import { parseSseBody, startGateway } from "../helpers.ts";
import { runChat } from "../../src/server/pipeline.ts";
import { FLATTENED_TURNS, renderTurns, ROLE_TAGS, toTurns } from "../../src/providers/combine.ts";
import type { ChatContext, ChatEvent, Provider } from "../../src/providers/types.ts";
import type { ChatRequest } from "../../src/openai/schema.ts";
import { collect, fn, testContext } from "../toolcall/harness.ts";
import { providerContext } from "../context.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { TaskPlans } from "../../src/toolcall/mod.ts";

/** The gateway with one `custom` entry in front of `upstream`, and a client; disposed together. */
async function withGateway<U extends { close(): Promise<void> }>(
  upstream: U,
  entry: Record<string, unknown>,
  config: Record<string, unknown> = {},
) {
  const gw = await startGateway({ "custom-llm": [entry], ...config });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-client", maxRetries: 0 });
  return {
    upstream,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

/** `up/gpt-4o-mini`: the fake OpenAI API. */
async function setup(config: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi();
  const entry = { prefix: "up", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] };
  return withGateway(upstream, entry, config);
}

/** `tc/gpt-4o-mini`: the fake LLM without native tools, so tool calls are emulated. */
async function setupTc() {
  const llm = await startFakeToolLlm();
  const entry = { prefix: "tc", "base-url": llm.baseUrl, tc: true, models: ["gpt-4o-mini"] };
  return withGateway(llm, entry);
}

Deno.test("<echo />: the processed upstream request instead of an answer, no upstream call", async () => {
  await using t = await setup();
  const res = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "system", content: "Be brief. <echo />" }, {
      role: "user",
      content: "hi <!-- x -->",
    }],
  });
  assertEquals(t.upstream.requests.length, 0);
  assertEquals(JSON.parse(res.choices[0].message.content!), [
    { role: "system", content: "Be brief." },
    { role: "user", content: "hi" },
  ]);
});

Deno.test("<echo />: streamed in pieces of at most 1000 characters; shows the emulation prompt", async () => {
  await using t = await setupTc();
  const res = await fetch(`${t.gw.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "tc/gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "<echo /> weather in Paris? " + "x".repeat(2500) }],
      tools: [{
        type: "function",
        function: { name: "get_weather", parameters: { type: "object" } },
      }],
    }),
  });
  const { events } = parseSseBody(await res.text());
  const pieces = events.map((e) =>
    (e as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? ""
  )
    .filter((p) => p !== "");
  assert(pieces.length >= 3);
  assert(pieces.every((p) => [...p].length <= 1000));
  const text = pieces.join("");
  assertStringIncludes(text, "<tools>");
  assertStringIncludes(text, '\\"name\\":\\"get_weather\\"');
  assertEquals(t.upstream.requests.length, 0);
});

Deno.test("stop sequences end the output even when the upstream ignores them", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "one two THREE four five", pieceSize: 2 });
  const stream = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "count" }],
    stop: ["THREE", "zzz"],
    stream: true,
  });
  let text = "";
  let finish: string | null = null;
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assertEquals(text, "one two ");
  assertEquals(finish, "stop");
  // The custom upstream still got `stop` (it may honour it itself).
  assertEquals(t.upstream.chatBodies()[0].stop, ["THREE", "zzz"]);
});

Deno.test("<matcher>: rewrites the output stream", async () => {
  await using t = await setup();
  t.upstream.respond = () => ({ text: "see <img>http://h/a.png</img> here", pieceSize: 3 });
  const res = await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{
      role: "user",
      content: 'pic <matcher find="<img>" end="</img>"><img>(.*?)</img>:![img]($1)</matcher>',
    }],
  });
  assertEquals(res.choices[0].message.content, "see ![img](http://h/a.png) here");
  // The marker is gone from what the upstream received.
  assertEquals((t.upstream.chatBodies()[0].messages as { content: string }[])[0].content, "pic");
});

Deno.test("<regex>, <@N>, <histories>: what the upstream receives", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [
      { role: "user", content: "old ```code``` here" },
      { role: "assistant", content: "ok" },
      {
        role: "user",
        content: "<regex miss=1>```.*?```:[code]</regex><@-1 role=system>be nice</@-1>" +
          '<histories>[{"role":"user","content":"first"}]</histories>new ```x```',
      },
    ],
  });
  assertEquals(t.upstream.chatBodies()[0].messages, [
    { role: "user", content: "first" },
    { role: "user", content: "old [code] here" },
    { role: "assistant", content: "ok" },
    { role: "user", content: "new ```x```" },
    { role: "system", content: "be nice" },
  ]);
});

Deno.test("<debug />: the processed request is logged", async () => {
  await using t = await setup();
  await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "<debug /> ping" }],
  });
  assert(
    t.gw.logs.some((l) => l.includes("debug: processed request") && l.includes('"content":"ping"')),
  );
});

Deno.test("server.flags false: markers go upstream untouched", async () => {
  await using t = await setup({ server: { flags: false } });
  await t.client.chat.completions.create({
    model: "up/gpt-4o-mini",
    messages: [{ role: "user", content: "<pad /> <!-- c --> hi" }],
  });
  assertEquals(
    (t.upstream.chatBodies()[0].messages as { content: string }[])[0].content,
    "<pad /> <!-- c --> hi",
  );
});

Deno.test("<tool />: switches emulation off for one request (tools are dropped)", async () => {
  await using t = await setupTc();
  t.upstream.script = (view) => `tools seen: ${view.tools.length}`;
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{
    type: "function",
    function: { name: "get_weather" },
  }];
  const on = await t.client.chat.completions.create({
    model: "tc/gpt-4o-mini",
    messages: [{ role: "user", content: "q" }],
    tools,
  });
  assertEquals(on.choices[0].message.content, "tools seen: 1");
  const off = await t.client.chat.completions.create({
    model: "tc/gpt-4o-mini",
    messages: [{ role: "user", content: "<tool /> q" }],
    tools,
  });
  assertEquals(off.choices[0].message.content, "tools seen: 0");
});

Deno.test("n > 1 with emulation: one emulated upstream call per choice", async () => {
  await using t = await setupTc();
  const res = await t.client.chat.completions.create({
    model: "tc/gpt-4o-mini",
    n: 2,
    messages: [{ role: "user", content: "weather in Paris" }],
    tools: [{
      type: "function",
      function: { name: "get_weather", parameters: { type: "object" } },
    }],
  });
  assertEquals(res.choices.length, 2);
  for (const c of res.choices) {
    assertEquals(c.finish_reason, "tool_calls");
    assertEquals(c.message.tool_calls!.length, 1);
  }
  assertEquals(t.upstream.chatBodies().length, 2);
  assert(t.upstream.chatBodies().every((b) => b.n === undefined));
});

/** A provider that flattens the conversation (like the web providers) and answers a script. */
function flatProvider(answer: string, seen: ChatRequest[] = []): Provider {
  return {
    id: "flat",
    turnMarkers: FLATTENED_TURNS,
    models: () => [],
    resolve: (model) => ({ upstreamModel: model, toolMode: "emulated" }),
    renderPrompt: (req) => renderTurns(toTurns(req.messages), ROLE_TAGS),
    chat(req) {
      seen.push(req);
      return (async function* (): AsyncGenerator<ChatEvent> {
        for (let i = 0; i < answer.length; i += 3) {
          yield { type: "text", text: answer.slice(i, i + 3) };
        }
        yield { type: "finish", reason: "stop" };
      })();
    },
  };
}

const userReq = (content: string, extra: Partial<ChatRequest> = {}) =>
  ({ model: "flat", messages: [{ role: "user", content }], ...extra }) as ChatRequest;

/** Runs the pipeline for `req` on `provider`, with the emulator's flags of `flagsOf`. */
function run(provider: Provider, req: ChatRequest, flagsOf = testContext()) {
  const ctx: ChatContext = {
    ...providerContext(provider, "flat", { config: defaultConfig() }),
    flags: flagsOf.flags,
  };
  return runChat(req, ctx, { plans: new TaskPlans() });
}

Deno.test("flattening providers: the answer ends where the model starts the next turn", async () => {
  const p = flatProvider("<|assistant|>\nIt is sunny.\n<|end|>\n<|user|>\nthanks");
  const r = await collect(run(p, userReq("weather?")));
  assertEquals(r.text, "It is sunny.\n");
  assertEquals(r.finish, "stop");
});

Deno.test("<char_sequences>: its prefixes end the answer too", async () => {
  const p = flatProvider("Sure thing.\nAI: and then");
  const ctx = testContext({}, { charSequences: { user: "Human:", assistant: "AI:" } });
  const r = await collect(run(p, userReq("go"), ctx));
  assertEquals(r.text, "Sure thing.\n");
});

Deno.test("flattening providers: tool calls are emulated through the flattened prompt", async () => {
  const seen: ChatRequest[] = [];
  const p = flatProvider(
    'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>\n<|user|>',
    seen,
  );
  const tools = [fn("get_weather", { type: "object", properties: { city: { type: "string" } } })];
  const r = await collect(run(p, userReq("weather in Rome?", { tools })));
  assertEquals(r.text, "Checking.");
  assertEquals(r.calls.map((c) => [c.name, c.arguments]), [["get_weather", '{"city":"Rome"}']]);
  assertEquals(seen[0].tools, undefined);
});

Deno.test("<echo /> with a provider that renders its prompt", async () => {
  const p = flatProvider("never");
  const ctx = testContext({}, { echo: true });
  const r = await collect(
    run(
      p,
      {
        model: "flat",
        messages: [{ role: "system", content: "S" }, { role: "user", content: "U" }],
      } as ChatRequest,
      ctx,
    ),
  );
  assertEquals(r.text, "<|system|>\nS\n<|end|>\n\n<|user|>\nU\n<|end|>\n\n<|assistant|>\n");
});
