/**
 * `<notebook />` mode: the conversation flattened into one prompt for `/v1/generate`, streamed as
 * Cohere's generate events: through the provider with a real request context (flags set
 * directly), and through the gateway with the `<notebook />` marker.
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
} as ChatRequest;

Deno.test("cohere notebook: /v1/generate with a flattened prompt, streamed", async () => {
  const fake = await startFakeCohere();
  const abort = new AbortController();
  try {
    fake.respond = () => ({ text: "there was a fox.", pieceSize: 4 });
    const flags = { ...emptyFlags(), notebook: true };
    const ctx = context(fake.origin, flags, abort.signal);
    const events: ChatEvent[] = [];
    for await (const e of cohere.chat(req, ctx)) events.push(e);
    const rec = fake.requests.at(-1)!;
    assertEquals(rec.path, "/v1/generate");
    const body = rec.json as Record<string, unknown>;
    const prompt = "<|system|>: You write stories.\n<|user|>: Once upon a time\n<|assistant|>: ";
    assertEquals(body, {
      model: "command",
      prompt,
      stream: true,
      raw_prompting: false,
      end_sequences: ["<|user|>:", "<|system|>:", "<|assistant|>:"],
      temperature: 0.5,
      max_tokens: 30,
    });
    assertEquals(
      events.filter((e) => e.type === "text").map((e) => (e as { text: string }).text).join(""),
      "there was a fox.",
    );
    assertEquals(events.at(-1), { type: "finish", reason: "stop" });
    const usage = events.find((e) => e.type === "usage") as { prompt_tokens: number };
    assertEquals(usage.prompt_tokens, Math.ceil(JSON.stringify(body).length / 4));
    // `<echo />` shows the same prompt.
    assertEquals(await cohere.renderPrompt!(req, ctx), prompt);
    // `<char_sequences>` changes the role prefixes.
    const seq = context(fake.origin, {
      ...flags,
      charSequences: { user: "Human: ", assistant: "AI: " },
    }, abort.signal);
    for await (const _ of cohere.chat(req, seq)) { /* drain */ }
    assertMatch(
      String((fake.requests.at(-1)!.json as { prompt: string }).prompt),
      /Human: Once upon a time\nAI: $/,
    );
    // A generation that fails is an error.
    fake.respond = () => ({ text: "x", finishReason: "ERROR" });
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

Deno.test("cohere notebook: <notebook /> in a message switches to /v1/generate through the gateway", async () => {
  await using t = await setup();
  t.fake.respond = () => ({ text: "a fox appeared." });
  const res = await t.client.chat.completions.create({
    model: "command",
    messages: [
      { role: "system", content: "<notebook />You write stories." },
      { role: "user", content: "Once upon a time" },
    ],
  });
  assertEquals(res.choices[0].message.content, "a fox appeared.");
  const rec = t.fake.requests.at(-1)!;
  assertEquals(rec.path, "/v1/generate");
  const prompt = String((rec.json as { prompt: string }).prompt);
  assertMatch(
    prompt,
    /^<\|system\|>: You write stories\.\n<\|user\|>: Once upon a time\n<\|assistant\|>: $/,
  );
});
