/**
 * An image store that cannot be written (issue 15): checked before anything is generated, and the
 * client's 500 shows no server path (the log has it).
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeSpace } from "../fakes/gradio_spaces.ts";
import { startGateway } from "../helpers.ts";
import { spacesFor } from "./helpers.ts";

Deno.test("images: an unwritable store is a path-less 500 before the backend is called", async () => {
  const space = await startFakeSpace("flux-dev");
  const dir = await Deno.makeTempDir({ prefix: "unwritable-store-" });
  // A folder under a regular file cannot be made, whoever runs the test (root included).
  const blocker = `${dir}/not-a-folder`;
  await Deno.writeTextFile(blocker, "x");
  const gw = await startGateway({
    images: { spaces: spacesFor({ "flux-dev": space }), dir: `${blocker}/images` },
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "sk-flux-dev", maxRetries: 0 });
    const err = await client.images.generate({ model: "dall-e-3", prompt: "a cat" }).catch((e) =>
      e
    );
    assertEquals(err.status, 500);
    const text = JSON.stringify(err.error);
    assert(!text.includes(dir), `path leaked: ${text}`);
    assertEquals(err.error.code, "image_store_unwritable");
    assertEquals(space.joins.length, 0, "the backend was called for an image that cannot be kept");
    assertMatch(gw.logs.join("\n"), new RegExp(`image store cannot be written.*${blocker}`));
  } finally {
    await gw.close();
    await space.close();
    await Deno.remove(dir, { recursive: true });
  }
});
