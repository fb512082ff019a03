/**
 * The arena provider's parts: the line-record stream (bytes split at every position), the model
 * list in a Next.js page's flight data, UUIDv7, the flattened message, the error codes.
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { readLines } from "../../../src/net/lines.ts";
import { fromArenaStream } from "../../../src/providers/arena/stream.ts";
import {
  arenaName,
  findModel,
  flightText,
  ModelList,
  parseInitialModels,
} from "../../../src/providers/arena/models.ts";
import { arenaPrompt, toArenaRequest, uuid7 } from "../../../src/providers/arena/request.ts";
import { arenaResponseError, CLOUDFLARE, RECAPTCHA } from "../../../src/providers/arena/errors.ts";
import { emptyFlags } from "../../../src/flags/types.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import type { ChatEvent } from "../../../src/providers/types.ts";
import { bodyOf, collect, splits } from "../../chunks.ts";

const STREAM = [
  'a2:[{"type":"heartbeat"}]',
  'ag:"Let me see"',
  'ag:" — ünï"',
  'a0:"Hel"',
  'a0:"lo\\nworld %s"',
  'b0:"not ours"',
  'a2:[{"type":"image","image":"https://img.example/x.png"}]',
  'ad:{"finishReason":"length","usage":{"promptTokens":12,"completionTokens":34}}',
  'a0:"after the end"',
].join("\n") + "\n";

function eventsOf(pieces: Uint8Array[]): Promise<ChatEvent[]> {
  return collect(fromArenaStream(readLines(bodyOf(pieces))));
}

Deno.test("arena stream: records at every split, up to the finish record", async () => {
  for (const pieces of splits(STREAM)) {
    assertEquals(await eventsOf(pieces), [
      { type: "reasoning", text: "Let me see" },
      { type: "reasoning", text: " — ünï" },
      { type: "text", text: "Hel" },
      { type: "text", text: "lo\nworld %s" },
      { type: "text", text: "![image](https://img.example/x.png)" },
      { type: "usage", prompt_tokens: 12, completion_tokens: 34 },
      { type: "finish", reason: "length" },
    ]);
  }
});

Deno.test("arena stream: failures are 502s naming what happened", async () => {
  const enc = new TextEncoder();
  const fails = async (text: string, said: string) => {
    const err = await assertRejects(() => eventsOf([enc.encode(text)]), GatewayError);
    assertEquals(err.status, 502);
    assert(err.message.includes(said), err.message);
  };
  await fails('a0:"partial"\n', "before its finish record");
  await fails('a0:"x"\na0:"hasArenaError"\n', "hasArenaError");
  await fails('a3:"Model overloaded"\n', "Model overloaded");
  await fails('a3:{"message":"quota"}\n', "quota");
  await fails("a0:not json\n", "not JSON");
  await fails('ad:{"finishReason":"error"}\n', "finishReason 'error'");
});

/** A page as Next.js writes it: flight chunks in pushes, the JSON split between two. */
function page(models: unknown[]): string {
  const flight = `2:I[1234,[],"Evaluation"]\n7:["$","$L8",null,${
    JSON.stringify({ initialModels: models, initialModelAId: "x", user: null })
  }]\n`;
  const cut = Math.floor(flight.length / 3);
  const push = (s: string) => `<script>self.__next_f.push(${JSON.stringify([1, s])})</script>`;
  return `<html><body><script>(self.__next_f=self.__next_f||[]).push([0])</script>${
    push(flight.slice(0, cut))
  }${push(flight.slice(cut))}<script>self.__next_f.push([2,null])</script></body></html>`;
}

Deno.test("arena models: initialModels from the flight data, text models by publicName", () => {
  const models = [
    {
      id: "id-1",
      publicName: "GPT-5-Chat",
      capabilities: {
        inputCapabilities: { text: true, image: true },
        outputCapabilities: { text: true },
      },
    },
    {
      id: "id-2",
      publicName: 'odd "quoted" [name]',
      capabilities: { inputCapabilities: { text: true }, outputCapabilities: { text: true } },
    },
    {
      id: "id-3",
      publicName: "imagen",
      capabilities: { inputCapabilities: { text: true }, outputCapabilities: { image: {} } },
    },
    { id: 4, publicName: "broken" },
  ];
  const parsed = parseInitialModels(flightText(page(models)))!;
  assertEquals(parsed, [
    { id: "id-1", publicName: "GPT-5-Chat", text: true, vision: true },
    { id: "id-2", publicName: 'odd "quoted" [name]', text: true, vision: false },
    { id: "id-3", publicName: "imagen", text: false, vision: false },
  ]);
  assertEquals(findModel(parsed, "gpt-5-chat")?.id, "id-1");
  assertEquals(findModel(parsed, 'ODD "QUOTED" [NAME]')?.id, "id-2");
  assertEquals(findModel(parsed, "imagen"), undefined);
  assertEquals(parseInitialModels(flightText("<html>no flight</html>")), undefined);
  assertEquals(arenaName("arena/gpt-5"), "gpt-5");
  assertEquals(arenaName("lmsys/gpt-5"), "gpt-5");
  assertEquals(arenaName("arena/"), undefined);
  assertEquals(arenaName("gpt-5"), undefined);
});

Deno.test("arena models: one load per site at a time, kept afterwards", async () => {
  const list = new ModelList();
  let loads = 0;
  const load = async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 10));
    return [{ id: "a", publicName: "a", text: true, vision: false }];
  };
  await Promise.all([list.get("s", load), list.get("s", load), list.get("s", load)]);
  await list.get("s", load);
  assertEquals(loads, 1);
  assertEquals(list.cached("s")?.length, 1);
  assertEquals(list.cached("other"), undefined);
});

Deno.test("arena request: UUIDv7 ids, the body's fields", () => {
  const re = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const at = Date.UTC(2026, 7, 1);
  const id = uuid7(at);
  assert(re.test(id), id);
  // The first 48 bits are the milliseconds.
  assertEquals(parseInt(id.replace(/-/g, "").slice(0, 12), 16), at);
  assert(uuid7(at) < uuid7(at + 1), "ordered by time");
  const body = toArenaRequest("hi", "model-id", "03Atoken");
  assert([body.id, body.userMessageId, body.modelAMessageId].every((x) => re.test(x)));
  assertEquals(new Set([body.id, body.userMessageId, body.modelAMessageId]).size, 3);
  assertEquals(
    { ...body, id: "", userMessageId: "", modelAMessageId: "" },
    {
      id: "",
      mode: "direct-battle",
      modelAId: "model-id",
      userMessageId: "",
      modelAMessageId: "",
      userMessage: { content: "hi", experimental_attachments: [], metadata: {} },
      modality: "chat",
      recaptchaV3Token: "03Atoken",
    },
  );
});

Deno.test("arena prompt: a lone message as it is, a conversation flattened, images counted", () => {
  const flags = emptyFlags();
  assertEquals(arenaPrompt([{ role: "user", content: "just 100% this" }], flags), {
    content: "just 100% this",
    droppedImages: 0,
  });
  const p = arenaPrompt([
    { role: "system", content: "sys" },
    {
      role: "user",
      content: [{ type: "text", text: "look" }, {
        type: "image_url",
        image_url: { url: "data:image/png;base64,AA" },
      }],
    },
  ], flags);
  assertEquals(p.content, "<|system|>\nsys\n<|end|>\n\n<|user|>\nlook\n<|end|>\n\n<|assistant|>\n");
  assertEquals(p.droppedImages, 1);
});

Deno.test("arena errors: Cloudflare, refused tokens, 401, 429 and unknown models", async () => {
  const res = (status: number, body: string, headers: Record<string, string> = {}) =>
    new Response(body, { status, headers });
  const cf = await arenaResponseError(
    res(403, "<!DOCTYPE html><title>Just a moment...</title>", { "content-type": "text/html" }),
  );
  assertEquals([cf.status, cf.code], [502, CLOUDFLARE]);
  const token = await arenaResponseError(res(403, '{"error":"recaptcha validation failed"}'));
  assertEquals([token.status, token.code], [502, RECAPTCHA]);
  assertEquals((await arenaResponseError(res(401, '{"error":"Unauthorized"}'))).status, 401);
  const rate = await arenaResponseError(res(429, '{"error":"slow down"}', { "retry-after": "12" }));
  assertEquals([rate.status, rate.retryAfter], [429, 12]);
  const model = await arenaResponseError(res(400, '{"error":"modelAId: Invalid model"}'));
  assertEquals([model.status, model.code], [404, "model_not_found"]);
  assertEquals((await arenaResponseError(res(500, "boom"))).status, 502);
});
