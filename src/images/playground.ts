/**
 * playground.com: `POST <base>/api/models` with the session cookie
 * `__Secure-next-auth.session-token` and a JSON job (`stable-diffusion-xl`, 1024x1024, sampler 9,
 * 30 steps, the style as `dream_booth_model` and `filter`). The answer is
 * `{"images":[{"url":"data:image/...;base64,...","imageKey","prompt"}],"meta":{...}}`; a body
 * `{"errorCode": ...}` is a refusal (daily limit, bad session).
 *
 * Tokens come from the client (a session token as `Authorization`) or `images.playground.tokens`,
 * a pool: an account refused for auth is set aside, a rate-limited one cools down.
 *
 * @module
 */
import { readJson, snippet } from "../net/http.ts";
import { GatewayError, upstreamFailed } from "../openai/errors.ts";
import { type PoolSet, useAccount } from "../pool/mod.ts";
import type { RequestContext } from "../providers/types.ts";
import { pickStyle, PLAYGROUND_STYLES } from "./styles.ts";
import { type BackendResult, decodeDataUrl, type Generation } from "./types.ts";

const BASE = "https://playground.com";
const COOKIE = "__Secure-next-auth.session-token";
const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/122.0.0.0 Safari/537.36";

function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return `${(b[0] % 223) + 1}.${b[1]}.${b[2]}.${(b[3] % 254) + 1}`;
}

function sessionCookie(token: string): string {
  const t = token.trim();
  return t.startsWith(`${COOKIE}=`) ? t : `${COOKIE}=${t}`;
}

interface Answer {
  errorCode?: string;
  message?: string;
  images?: { url?: string; imageKey?: string; prompt?: string }[];
}

/** Generates one image on playground.com. */
export async function generateOnPlayground(
  gen: Generation,
  ctx: RequestContext,
  pools: PoolSet,
  credential?: string,
): Promise<BackendResult> {
  const settings = ctx.config.images.playground;
  const base = settings["base-url"] ?? BASE;
  const http = ctx.upstream("playground", settings.proxies);
  const style = pickStyle(PLAYGROUND_STYLES, gen.style);
  const job = {
    batchId: crypto.randomUUID().replaceAll("-", "").slice(0, 10),
    cfg_scale: 8,
    dream_booth_model: style,
    filter: style,
    generateVariants: false,
    guidance_scale: 8,
    width: 1024,
    height: 1024,
    high_noise_frac: 0.8,
    initImageFromPlayground: false,
    isPrivate: false,
    modelType: "stable-diffusion-xl",
    negativePrompt: gen.negative,
    num_images: 1,
    prompt: gen.prompt,
    sampler: 9,
    seed: 429_650_152 + Math.floor(Math.random() * 100_000_000),
    statusUUID: crypto.randomUUID(),
    steps: 30,
    strength: 1.45,
  };
  const once = async (token: string): Promise<BackendResult> => {
    const res = await http.ok(`${base}/api/models`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: base,
        referer: `${base}/create`,
        "accept-language": "en-US,en;q=0.9",
        "user-agent": USER_AGENT,
        "x-forwarded-for": randomIp(),
        cookie: sessionCookie(token),
      },
      body: JSON.stringify(job),
    });
    const answer = await readJson<Answer>("playground", res);
    if (answer?.errorCode) {
      const what = `${answer.errorCode}${answer.message ? `: ${answer.message}` : ""}`;
      if (/LIMIT|QUOTA|RATE/i.test(answer.errorCode)) {
        throw new GatewayError(
          429,
          `playground refused: ${what}`,
          "rate_limit_error",
          "rate_limit_exceeded",
        );
      }
      if (/AUTH|SESSION|LOGIN/i.test(answer.errorCode)) {
        throw new GatewayError(401, `playground refused the session: ${what}`);
      }
      throw upstreamFailed("playground", `refused: ${what}`);
    }
    const url = answer?.images?.[0]?.url;
    if (typeof url !== "string" || url === "") {
      throw upstreamFailed(
        "playground",
        `no image in the answer: ${snippet(JSON.stringify(answer))}`,
      );
    }
    const image = url.startsWith("data:") ? { bytes: decodeDataUrl(url) } : { url };
    return { image, prompt: gen.prompt };
  };
  const pool = pools.get("playground", settings.tokens);
  if (!credential && pool.size === 0) {
    throw new GatewayError(
      401,
      "playground needs a session token: send the value of its __Secure-next-auth.session-token " +
        "cookie as 'Authorization: Bearer …' or set images.playground.tokens",
      "authentication_error",
      "missing_credential",
    );
  }
  return await useAccount(pool, { token: credential, signal: ctx.signal }, (token) => once(token));
}
