/**
 * `<notebook />` mode: the conversation flattened into one prompt, sent as one user message to
 * `/v2/chat` (`/v1/generate` is retired): through the provider with a real request context
 * (flags set directly), and through the gateway with the `<notebook />` marker.
 */
import { assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { emptyFlags, type RequestFlags } from "../../../src/flags/types.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { createCohereProvider } from "../../../src/providers/cohere/mod.ts";
import type { ChatContext, ChatEvent } from "../../../src/providers/types.ts";
import { startFakeCohere } from "../../fakes/cohere.ts";
import { KEY, setup } from "./_setup.ts";
import { providerContext, testDeps } from "../../context.ts";

const cohere = createCohereProvider(testDeps());

function context(origin: string, flags: RequestFlags, signal: AbortSignal): ChatContext {
  const config = configSchema.parse({ cohere: { "base-url": origin } });
  return providerContext(cohere, "command", { config, token: KEY, flags, signal });
}

const req = {
  model: "command",
  messages: [
    { role: "system", content: "You write stories." },
    { role: "user", content: "Once upon a time" },
  ],
  temperature: 0.5,
  max_tokens: 30,
  stop: ["THE END"],
} as ChatRequest;

Deno.test("cohere notebook: one user message to /v2/chat with the flattened prompt", async () => {
  const fake = await startFakeCohere();
  const abort = new AbortController();
  try {
    fake.respond = () => ({ text: "there was a fox.", pieceSize: 4 });
    const flags = { ...emptyFlags(), notebook: true };
    const ctx = context(fake.origin, flags, abort.signal);
    const events: ChatEvent[] = [];
    for await (const e of cohere.chat(req, ctx)) events.push(e);
    const rec = fake.requests.at(-1)!;
    assertEquals(rec.path, "/v2/chat");
    const body = rec.json as Record<string, unknown>;
    const prompt = "<|system|>: You write stories.\n<|user|>: Once upon a time\n<|assistant|>: ";
    // `command` is retired: its successor answers.
    assertEquals(body, {
      model: "command-a-03-2025",
      stream: true,
      messages: [{ role: "user", content: prompt }],
      temperature: 0.5,
      max_tokens: 30,
      stop_sequences: ["<|user|>:", "<|system|>:", "THE END"],
    });
    assertEquals(
      events.filter((e) => e.type === "text").map((e) => (e as { text: string }).text).join(""),
      "there was a fox.",
    );
    assertEquals(events.at(-1), { type: "finish", reason: "stop" });
    const usage = events.find((e) => e.type === "usage") as { prompt_tokens: number };
    assertEquals(usage.prompt_tokens, Math.ceil(JSON.stringify(body.messages).length / 4));
    // `<echo />` shows the same prompt.
    assertEquals(await cohere.renderPrompt!(req, ctx), prompt);
    // `<char_sequences>` changes the role prefixes and the stops.
    const seq = context(fake.origin, {
      ...flags,
      charSequences: { user: "Human: ", assistant: "AI: " },
    }, abort.signal);
    for await (const _ of cohere.chat(req, seq)) { /* drain */ }
    const sent = fake.requests.at(-1)!.json as {
      messages: { content: string }[];
      stop_sequences: string[];
    };
    assertMatch(sent.messages[0].content, /Human: Once upon a time\nAI: $/);
    assertEquals(sent.stop_sequences[0], "Human:");
    // A generation that fails is an error.
    fake.respond = () => ({
      text: "x",
      finishReason: "ERROR",
      endError: "internal generation error",
    });
    await assertRejects(
      async () => {
        for await (const _ of cohere.chat(req, ctx)) { /* drain */ }
      },
      GatewayError,
      "internal generation error",
    );
  } finally {
    abort.abort();
    await fake.close();
  }
});

Deno.test("cohere notebook: <notebook /> in a message through the gateway", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "a fox appeared." });
  const res = await t.client.chat.completions.create({
    model: "command-r7b-12-2024",
    messages: [
      { role: "system", content: "<notebook />You write stories." },
      { role: "user", content: "Once upon a time" },
    ],
  });
  assertEquals(res.choices[0].message.content, "a fox appeared.");
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v2/chat");
  const messages = (rec.json as { messages: { role: string; content: string }[] }).messages;
  assertEquals(messages.length, 1);
  assertEquals(messages[0].role, "user");
  assertMatch(
    messages[0].content,
    /^<\|system\|>: You write stories\.\n<\|user\|>: Once upon a time\n<\|assistant\|>: $/,
  );
  assertEquals(t.fake.requests.filter((r) => r.path === "/v1/generate").length, 0);
});
