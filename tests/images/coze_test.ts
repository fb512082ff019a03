/**
 * The coze image backend through the running gateway: a coze cookie as the API key (or
 * `coze.dall-e-3` with the pool's cookie) makes the `coze.images` bot paint; the URL in its answer
 * is downloaded and served from this server.
 */
import OpenAI from "openai";
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { settled, startGateway } from "../helpers.ts";
import { startFakeCoze } from "../fakes/coze.ts";
import { serveFake } from "../fakes/serve.ts";
import { pngBytes } from "../fakes/gradio_spaces.ts";

const SESSION_A = "sessA0123456789abcdef0123456789ab";
const SESSION_B = "sessB0123456789abcdef0123456789ab";
const IMAGE_BOT = { id: "7350000000000000999", version: "1" };

async function setup() {
  const coze = await startFakeCoze({ sessions: [SESSION_A, SESSION_B], bots: [IMAGE_BOT] });
  const host = await serveFake(() =>
    new Response(pngBytes() as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": "image/png" },
    })
  );
  coze.respond = () => ({
    pieces: ["Here it is:\n\n", `![painting](${host.origin}/img/fox.png)`],
  });
  const gw = await startGateway({
    coze: {
      ...coze.config,
      cookies: [`sessionid=${SESSION_A}`],
      images: { "bot-id": IMAGE_BOT.id, version: IMAGE_BOT.version, scene: 2 },
    },
  });
  return {
    coze,
    host,
    gw,
    client: (apiKey: string) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }),
    async [Symbol.asyncDispose]() {
      await settled(gw, "coze");
      await gw.close();
      await coze.close();
      await host.close();
    },
  };
}

Deno.test("images: a coze cookie as the key paints with the coze.images bot", async () => {
  await using t = await setup();
  const res = await t.client(`sessionid=${SESSION_B}`).images.generate({
    model: "dall-e-3",
    prompt: "a red fox",
  });
  const url = res.data![0].url!;
  assertStringIncludes(url, `${t.gw.origin}/file/`);
  const img = await fetch(url);
  assertEquals(img.headers.get("content-type"), "image/png");
  assertEquals(new Uint8Array(await img.arrayBuffer()), pngBytes());
  assertEquals(res.data![0].revised_prompt, "a red fox");
  // The client's cookie, the image bot, the painting query; the image fetched from its host.
  const chat = t.coze.chats[0];
  assertEquals(chat.session, SESSION_B);
  assertEquals(chat.bot.id, IMAGE_BOT.id);
  assertStringIncludes(chat.query, "prompt: a red fox");
  assertEquals(t.host.requests[0].path, "/img/fox.png");
});

Deno.test("images: coze.dall-e-3 with another key uses the coze pool; no image is a 502", async () => {
  await using t = await setup();
  const res = await t.client("sk-whatever").images.generate({
    model: "coze.dall-e-3" as "dall-e-3",
    prompt: "a tree",
    response_format: "b64_json",
  });
  assertEquals(Uint8Array.from(atob(res.data![0].b64_json!), (c) => c.charCodeAt(0)), pngBytes());
  assertEquals(t.coze.chats[0].session, SESSION_A);

  t.coze.respond = () => ({ text: "Sorry, I cannot draw that." });
  const err = await assertRejects(
    () =>
      t.client("sk-whatever").images.generate({
        model: "coze.dall-e-3" as "dall-e-3",
        prompt: "x",
      }),
    OpenAI.APIError,
  );
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "no image URL");
});
