/**
 * The pieces of the config schema that many sections share: seconds, secrets (registered for
 * masking as they are read), proxy and base URLs, timeouts, transport, pool settings.
 *
 * @module
 */
import { z } from "npm:zod@^4.6.7";
import { registerSecrets } from "../util/mask.ts";

/** A number of seconds given as a non-negative number. */
export const seconds = z.number().nonnegative();

/**
 * One credential or a list of them; normalised to a list. Every credential read from config is
 * registered for masking here, so that a new secret key is masked without anyone listing it.
 */
export const secretList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => {
    const list = (Array.isArray(v) ? v : [v]).map((s) => s.trim()).filter((s) => s !== "");
    registerSecrets(list);
    return list;
  });

/** One credential, registered for masking like `secretList`'s. */
export const secret = z.string().transform((s) => {
  registerSecrets([s]);
  return s;
});

/** A proxy URL for upstream traffic: http, https, socks5 or socks5h. */
export const proxyUrl: z.ZodType<string> = z.string().refine(
  (v) => /^(https?|socks5h?):\/\/[^\s/]+/i.test(v),
  { message: "must be an http://, https://, socks5:// or socks5h:// URL" },
);

/**
 * Which HTTP stack carries a provider's requests (docs/transport.md): `chrome` impersonates Chrome
 * at the TLS and HTTP/2 layer (sites behind Cloudflare), `fetch` is Deno's own. Spread into the
 * sections of Cloudflare-fronted sites.
 */
export const transportSetting = { transport: z.enum(["fetch", "chrome"]).default("chrome") };

/** A URL root an upstream's endpoint paths are appended to. */
export const baseUrl = z
  .string()
  .refine((v) => /^(https?|wss?):\/\/[^\s]+$/i.test(v), { message: "must be an absolute URL" })
  .transform((v) => v.replace(/\/+$/, ""));

/** Upstream timeouts in seconds; 0 turns one off. */
export const timeouts = z.strictObject({
  /** Until the upstream's response headers arrive (connection, TLS and request accepted). */
  connect: seconds.default(30),
  /** Until the first byte of the response body. */
  "first-byte": seconds.default(120),
  /** The longest silence between two chunks of a streamed body. */
  idle: seconds.default(120),
});

/** Settings every pooled provider shares. */
export const poolSettings = {
  /** Requests one account serves at the same time. */
  concurrency: z.number().int().positive().optional(),
  /** Seconds an account rests after a 429 when the upstream gives no Retry-After. */
  cooldown: seconds.optional(),
  /** Per provider proxy URL, or `false` for none. */
  proxies: z.union([proxyUrl, z.literal(false)]).optional(),
};
