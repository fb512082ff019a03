/**
 * Drawing on a gradio space of `images.spaces`: its `/config` tells the API prefix and protocol
 * (unless `api-prefix` is configured), its inputs are filled from the configured `data`
 * (`space_inputs.ts`; inputs by name are placed with `/info`), then:
 *
 * - `api-name`: `<prefix>/call/<api-name>` and its event stream;
 * - `fn`: the queue (`<prefix>/queue/join` + `queue/data`), with the trigger id from `/config`
 *   when the config gives only the `fn_index`;
 * - a `ws(s)://` root or protocol `ws`: gradio 3's websocket queue.
 *
 * The image at the space's `image` path is fetched with the session's cookies (and its token).
 * A space's `/config` is read once per request (`AppCache`), however many images it draws.
 *
 * @module
 */
import type { SpaceConfig } from "../config/schema.ts";
import {
  callResult,
  CookieJar,
  discoverApp,
  endpointParameters,
  type GradioApp,
  placeByName,
  queueResult,
  sessionHash,
  socketResult,
  socketRoot,
  triggerOf,
} from "../net/gradio.ts";
import { snippet } from "../net/http.ts";
import { upstreamFailed } from "../openai/errors.ts";
import type { RequestContext } from "../providers/types.ts";
import { fillInputs, imageOf, type InputValues, valueAt } from "./space_inputs.ts";
import { pickSampler, pickStyle, presetOf } from "./styles.ts";
import type { BackendResult, Generation } from "./types.ts";

const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/140.0.0.0 Safari/537.36";

/** The `/config` of each space root, read at most once per request. */
export type AppCache = Map<string, Promise<GradioApp>>;

/** The values of a generation's placeholders on `space`. */
export function inputValues(space: SpaceConfig, gen: Generation): InputValues {
  const styles = presetOf(space.styles, "styles");
  const samplers = presetOf(space.samplers, "samplers");
  return {
    prompt: gen.prompt,
    negative_prompt: gen.negative,
    seed: gen.seed,
    style: styles ? pickStyle(styles, gen.style) : gen.style ?? "",
    sampler: samplers ? pickSampler(samplers, gen.quality) : gen.quality ?? "Euler a",
    width: gen.width,
    height: gen.height,
  };
}

/** Generates one image on a gradio space. */
export async function generateOnSpace(
  space: SpaceConfig,
  gen: Generation,
  ctx: RequestContext,
  apps: AppCache,
): Promise<BackendResult> {
  const http = ctx.upstream(space.name, space.proxies);
  const token = space.token ?? ctx.config.images["hf-token"];
  const httpRoot = space.root.replace(/^ws(s?):\/\//i, "http$1://");
  const headers: Record<string, string> = {
    "user-agent": USER_AGENT,
    origin: httpRoot,
    referer: `${httpRoot}/?__theme=light`,
    "accept-language": "en-US,en;q=0.9",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const jar = new CookieJar();
  const request = { headers, jar };
  const filled = fillInputs(space.name, space.data, inputValues(space, gen));
  const fn = Array.isArray(space.fn) ? space.fn[0] : space.fn;
  const configuredTrigger = Array.isArray(space.fn) ? space.fn[1] : undefined;

  const gradio3 = /^wss?:\/\//i.test(space.root);
  const needsConfig = !gradio3 && (space["api-prefix"] === undefined ||
    (!space["api-name"] && configuredTrigger === undefined) || !Array.isArray(filled.data));
  let app: GradioApp = {
    root: httpRoot,
    prefix: space["api-prefix"] ?? "",
    protocol: gradio3 ? "ws" : "sse_v3",
    dependencies: [],
  };
  if (needsConfig) {
    let pending = apps.get(httpRoot);
    if (!pending) {
      pending = discoverApp(http, httpRoot, request);
      apps.set(httpRoot, pending);
      // A failed discovery is not kept: the next image of the request asks again.
      pending.catch(() => apps.delete(httpRoot));
    }
    app = await pending;
    if (space["api-prefix"] !== undefined) app = { ...app, prefix: space["api-prefix"] };
  }

  let data: unknown[];
  if (Array.isArray(filled.data)) data = filled.data;
  else if (space["api-name"]) {
    const params = await endpointParameters(http, app, space["api-name"], request);
    data = placeByName(space.name, params, filled.data);
  } else {
    throw upstreamFailed(space.name, "inputs given by name need the space's 'api-name'");
  }

  let output: unknown[];
  if (app.protocol === "ws") {
    output = await socketResult({
      provider: space.name,
      config: ctx.config,
      signal: ctx.signal,
      proxy: space.proxies,
      clients: http.clients,
    }, {
      root: socketRoot(space.root),
      fnIndex: fn ?? 0,
      data,
      sessionHash: sessionHash(),
      jar,
      headers,
    });
  } else if (space["api-name"]) {
    output = await callResult(http, { app, apiName: space["api-name"], data, ...request });
  } else {
    output = await queueResult(http, {
      root: app.root,
      prefix: app.prefix,
      fnIndex: fn!,
      triggerId: configuredTrigger ?? triggerOf(app, fn!),
      data,
      sessionHash: sessionHash(),
      ...request,
    });
  }
  const image = imageOf(valueAt(output, space.image), `${app.root}${app.prefix}`);
  if (!image) {
    throw upstreamFailed(
      space.name,
      `no image at '${space.image}' of the outputs: ${snippet(JSON.stringify(output))}`,
    );
  }
  if ("url" in image) {
    // Files may need the session's cookies (a sticky backend) and the token to be fetched.
    const fileHeaders: Record<string, string> = { referer: headers.referer };
    const cookie = jar.header();
    if (cookie) fileHeaders.cookie = cookie;
    if (token && new URL(image.url).origin === new URL(httpRoot).origin) {
      fileHeaders.authorization = `Bearer ${token}`;
    }
    image.headers = fileHeaders;
  }
  return { image, prompt: filled.prompt };
}
