/**
 * Helpers of the image tests: the gateway with every default space played by a fake (same
 * names, endpoints and inputs as `DEFAULT_SPACES`, roots pointed at the fakes), the OpenAI
 * client's `images.generate`, and reading what a space received.
 *
 * @module
 */
import OpenAI from "openai";
import { assert } from "../assert.ts";
import { startGateway, type TestGateway } from "../helpers.ts";
import type { FakeGradio } from "../fakes/gradio.ts";
import {
  type FakeSpaceOptions,
  SPACE_KINDS,
  type SpaceKind,
  startFakeSpace,
} from "../fakes/gradio_spaces.ts";
import { DEFAULT_SPACES } from "../../src/config/image_spaces.ts";

/** Any JSON object. */
export type Params = Record<string, unknown>;

/** The default negative prompt. */
export const NEGATIVE = "(deformed eyes, nose, ears, nose, leg, head), bad anatomy, ugly";

/** `images.generate` with any body (the SDK's types only know OpenAI's own values). */
export function generate(client: OpenAI, body: Params) {
  return client.images.generate(body as unknown as OpenAI.Images.ImageGenerateParamsNonStreaming);
}

/** The default `images.spaces` with each root pointed at its fake (`ws://` for gradio 3). */
export function spacesFor(
  fakes: Partial<Record<SpaceKind, FakeGradio>>,
  overrides: Partial<Record<SpaceKind, Params>> = {},
): Params[] {
  return DEFAULT_SPACES.filter((s) => fakes[s.name as SpaceKind]).map((s) => {
    const fake = fakes[s.name as SpaceKind]!;
    const root = s.root.startsWith("wss:") ? fake.origin.replace(/^http/, "ws") : fake.origin;
    return { ...structuredClone(s), root, ...overrides[s.name as SpaceKind] };
  });
}

/** A gateway with every default space faked; `images` and `extra` merge into its config. */
export async function withSpaces(
  options: Partial<Record<SpaceKind, FakeSpaceOptions>> = {},
  images: Params = {},
  extra: Params = {},
  overrides: Partial<Record<SpaceKind, Params>> = {},
) {
  const spaces = {} as Record<SpaceKind, FakeGradio>;
  for (const k of SPACE_KINDS) spaces[k] = await startFakeSpace(k, options[k]);
  const gw = await startGateway({
    images: {
      spaces: spacesFor(spaces, overrides),
      // No test reaches the real Pollinations.
      pollinations: { "legacy-url": false },
      ...images,
    },
    ...extra,
  });
  return {
    spaces,
    gw,
    client: (apiKey: string) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }),
    /** How many times a space was asked to draw. */
    asked: (k: SpaceKind) =>
      spaces[k].joins.length + spaces[k].calls.length +
      spaces[k].socketMessages.filter((m) => "data" in m).length,
    async [Symbol.asyncDispose]() {
      await gw.close();
      for (const s of Object.values(spaces)) await s.close();
    },
  };
}

/** The inputs a space received (queue join, call, or the websocket's data message). */
export function inputsOf(space: FakeGradio, i = 0): unknown[] {
  if (space.options.version === 3 || space.options.websocket) {
    return space.socketMessages.filter((m) => "data" in m)[i].data as unknown[];
  }
  if (space.calls.length > 0) return space.calls[i].body.data as unknown[];
  return space.joins[i].body.data as unknown[];
}

/** Fetches a URL the gateway answered (it must be one of its stored files). */
export async function fetchImage(gw: TestGateway, url: string) {
  assert(url.startsWith(`${gw.origin}/file/`), `not a gateway URL: ${url}`);
  const res = await fetch(url);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}
