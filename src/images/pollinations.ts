/**
 * Pollinations (upstreams-2026 section 9.1): `GET <base>/image/<url-encoded prompt>?model=&width=
 * &height=&seed=&nologo=true&private=&enhance=&safe=` on the keyed gateway `gen.pollinations.ai`
 * with `Authorization: Bearer <sk_ or pk_ key>` answers the image's bytes. Without a key the
 * anonymous 2024 host (`image.pollinations.ai/prompt/<prompt>`) is tried, best effort.
 *
 * A response carrying `x-error-type` is a placeholder image standing for an error, and an answer
 * that is no image (the legacy host's "we have moved" page) is a failure too. Errors come as
 * `{status, success: false, error: {code, message}}`; no Pollen left (402, or 403 "Insufficient
 * Pollen balance") is a 429 `insufficient_quota`.
 *
 * The key is the client's (`sk_…`/`pk_…` as the API key), else `images.pollinations.key`.
 *
 * @module
 */
import { httpError, readBytes, readCapped, snippet } from "../net/http.ts";
import { GatewayError, upstreamFailed } from "../openai/errors.ts";
import type { RequestContext } from "../providers/types.ts";
import { tooLarge } from "./store.ts";
import type { BackendResult, Generation } from "./types.ts";

/** URLs longer than this are refused by the service; the prompt is cut to fit. */
const MAX_URL = 4096;

/** What a Pollinations generation needs besides the generation. */
export interface PollinationsOptions {
  /** The model (else `images.pollinations.model`). */
  model?: string;
  /** The client's key (else `images.pollinations.key`). */
  credential?: string;
  /** The largest image kept (bytes). */
  maxBytes: number;
}

/** The URL of one image: the prompt cut so that the whole URL fits. */
export function pollinationsUrl(
  base: string,
  path: string,
  prompt: string,
  query: URLSearchParams,
) {
  const q = query.toString();
  const room = MAX_URL - base.length - path.length - q.length - 1;
  // Cut between characters, never inside one's escapes; lone surrogates cannot be encoded.
  const text = prompt.toWellFormed();
  let encoded = encodeURIComponent(text);
  if (encoded.length > room) {
    encoded = "";
    for (const ch of text) {
      const e = encodeURIComponent(ch);
      if (encoded.length + e.length > room) break;
      encoded += e;
    }
  }
  return `${base}${path}${encoded}?${q}`;
}

/** Generates one image on Pollinations. */
export async function generateOnPollinations(
  gen: Generation,
  ctx: RequestContext,
  options: PollinationsOptions,
): Promise<BackendResult> {
  const settings = ctx.config.images.pollinations;
  const key = options.credential ?? settings.key;
  const query = new URLSearchParams({
    model: options.model ?? settings.model,
    width: String(gen.width),
    height: String(gen.height),
    seed: String(gen.seed),
    nologo: "true",
    private: String(settings.private),
    enhance: String(settings.enhance),
    safe: String(settings.safe),
  });
  let url: string;
  const headers: Record<string, string> = { accept: "image/*" };
  if (key) {
    url = pollinationsUrl(settings["base-url"], "/image/", gen.prompt, query);
    headers.authorization = `Bearer ${key}`;
  } else if (settings["legacy-url"]) {
    url = pollinationsUrl(settings["legacy-url"], "/prompt/", gen.prompt, query);
  } else {
    throw new GatewayError(
      401,
      "pollinations needs a key: send a sk_… or pk_… key from enter.pollinations.ai as the API " +
        "key, or set images.pollinations.key",
      "authentication_error",
      "missing_credential",
    );
  }
  const http = ctx.upstream("pollinations", settings.proxies);
  const res = await http.fetch(url, { headers });
  if (res.status < 200 || res.status >= 300) {
    const err = await httpError("pollinations", res);
    // No Pollen left: 402, or 403 "Insufficient Pollen balance" in the older auth guide.
    const spent = res.status === 402 || (res.status === 403 && /pollen|balance/i.test(err.message));
    if (!spent) throw err;
    throw new GatewayError(
      429,
      err.message,
      "rate_limit_error",
      "insufficient_quota",
      null,
      { retryAfter: err.retryAfter },
    );
  }
  const placeholder = res.headers.get("x-error-type");
  const type = res.headers.get("content-type") ?? "";
  if (placeholder || !type.startsWith("image/")) {
    const text = placeholder ? "" : await readCapped(res, 2048);
    if (placeholder) await res.body?.cancel().catch(() => {});
    throw upstreamFailed(
      "pollinations",
      placeholder
        ? `answered a placeholder image instead (x-error-type: ${placeholder})`
        : `answered ${type || "no content type"} instead of an image: ${snippet(text)}`,
    );
  }
  const bytes = await readBytes(
    res,
    options.maxBytes,
    (size) => tooLarge(size, options.maxBytes, "pollinations"),
  );
  return { image: { bytes }, prompt: gen.prompt };
}
