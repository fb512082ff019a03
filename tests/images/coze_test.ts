/**
 * The coze image backend through the running gateway. By default Coze's API paints: `coze.dall-e-3`
 * asks the `coze.images` bot through `/v3/chat` with a configured token (or the client's `pat_`
 * key), and the URL in its answer is downloaded and served from this server. In the legacy web mode
 * a coze cookie as the API key selects the backend, as in the original.
 */
import OpenAI from "openai";
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { settled, startGateway } from "../helpers.ts";
import { startFakeCozeApi } from "../fakes/coze_api.ts";
import { startFakeCoze } from "../fakes/coze_web.ts";
import { serveFake } from "../fakes/serve.ts";
import { pngBytes } from "../fakes/gradio_spaces.ts";

const PAT = "pat_images0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM";
const PAT_CLIENT = "pat_client0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL";
const IMAGE_BOT = "7350000000000000999";

async function imageHost() {
  return await serveFake(() =>
    new Response(pngBytes() as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": "image/png" },
    })
  );
}

async function setupApi(tokens = [PAT]) {
  const coze = await startFakeCozeApi({
    tokens: [{ token: PAT, workspaces: ["w"] }, { token: PAT_CLIENT, workspaces: ["w"] }],
    bots: [{ id: IMAGE_BOT, workspace: "w" }],
  });
  const host = await imageHost();
  coze.respond = () => ({ pieces: ["Here it is:\n\n", `![painting](${host.origin}/img/fox.png)`] });
  const gw = await startGateway({
    coze: { ...coze.config, tokens, images: { "bot-id": IMAGE_BOT } },
  });
  return {
    coze,
    host,
    gw,
    client: (apiKey: string) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }),
    async [Symbol.asyncDispose]() {
      await gw.close();
      await coze.close();
      await host.close();
    },
  };
}

Deno.test("images: coze.dall-e-3 paints with the coze.images bot through Coze's API", async () => {
  await using t = await setupApi();
  const res = await t.client("sk-whatever").images.generate({
    model: "coze.dall-e-3" as "dall-e-3",
    prompt: "a red fox",
  });
  const url = res.data![0].url!;
  assertStringIncludes(url, `${t.gw.origin}/file/`);
  const img = await fetch(url);
  assertEquals(new Uint8Array(await img.arrayBuffer()), pngBytes());
  const chat = t.coze.chats[0];
  assertEquals([chat.token, chat.body.bot_id, chat.body.auto_save_history], [
    PAT,
    IMAGE_BOT,
    false,
  ]);
  assertStringIncludes(chat.query, "prompt: a red fox");
  assertEquals(t.host.requests[0].path, "/img/fox.png");
});

Deno.test("images: the client's pat_ key paints; three answers without an image are a 502", async () => {
  await using t = await setupApi([]);
  const res = await t.client(PAT_CLIENT).images.generate({
    model: "coze.dall-e-3" as "dall-e-3",
    prompt: "a tree",
    response_format: "b64_json",
  });
  assertEquals(Uint8Array.from(atob(res.data![0].b64_json!), (c) => c.charCodeAt(0)), pngBytes());
  assertEquals(t.coze.chats[0].token, PAT_CLIENT);

  t.coze.respond = () => ({ pieces: ["Sorry, I cannot draw that."] });
  const err = await assertRejects(
    () =>
      t.client(PAT_CLIENT).images.generate({ model: "coze.dall-e-3" as "dall-e-3", prompt: "x" }),
    OpenAI.APIError,
  );
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "no image URL in 3 attempts");
  assertEquals(t.coze.chats.length, 4);
});

Deno.test("images (web mode): a coze cookie as the key paints with the coze.images bot", async () => {
  const SESSION = "sessB0123456789abcdef0123456789ab";
  const coze = await startFakeCoze({
    sessions: [SESSION],
    bots: [{ id: IMAGE_BOT, version: "1" }],
  });
  const host = await imageHost();
  coze.respond = () => ({ pieces: [`![painting](${host.origin}/img/fox.png)`] });
  const gw = await startGateway({
    coze: { ...coze.config, images: { "bot-id": IMAGE_BOT, version: "1", scene: 2 } },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: `sessionid=${SESSION}`, maxRetries: 0 });
    const res = await client.images.generate({ model: "dall-e-3", prompt: "a red fox" });
    assertStringIncludes(res.data![0].url!, `${gw.origin}/file/`);
    assertEquals(coze.chats[0].session, SESSION);
    assertStringIncludes(coze.chats[0].query, "prompt: a red fox");
  } finally {
    await settled(gw, "coze");
    await gw.close();
    await coze.close();
    await host.close();
  }
});
