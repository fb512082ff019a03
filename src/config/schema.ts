/**
 * The zod schema of `config.yaml`. Keys are kebab-case as users write them; the parsed object keeps
 * those names so that an error path, a log line and the YAML file all spell a key the same way.
 *
 * Objects are strict: an unknown key is reported by the loader as a warning (see `load.ts`), then
 * dropped, so a typo never stops the server but is never silent either.
 *
 * @module
 */
import { z } from "npm:zod@^4.6.7";
import { registerSecrets } from "../util/mask.ts";

/** A number of seconds given as a non-negative number. */
const seconds = z.number().nonnegative();

/**
 * One credential or a list of them; normalised to a list. Every credential read from config is
 * registered for masking here, so that a new secret key is masked without anyone listing it.
 */
const secretList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => {
    const list = (Array.isArray(v) ? v : [v]).map((s) => s.trim()).filter((s) => s !== "");
    registerSecrets(list);
    return list;
  });

/** One credential, registered for masking like `secretList`'s. */
const secret = z.string().transform((s) => {
  registerSecrets([s]);
  return s;
});

/** A proxy URL for upstream traffic: http, https, socks5 or socks5h. */
export const proxyUrl: z.ZodType<string> = z.string().refine(
  (v) => /^(https?|socks5h?):\/\/[^\s/]+/i.test(v),
  { message: "must be an http://, https://, socks5:// or socks5h:// URL" },
);

/** A URL root an upstream's endpoint paths are appended to. */
const baseUrl = z
  .string()
  .refine((v) => /^(https?|wss?):\/\/[^\s]+$/i.test(v), { message: "must be an absolute URL" })
  .transform((v) => v.replace(/\/+$/, ""));

/** Upstream timeouts in seconds; 0 turns one off. */
const timeouts = z.strictObject({
  /** Until the upstream's response headers arrive (connection, TLS and request accepted). */
  connect: seconds.default(30),
  /** Until the first byte of the response body. */
  "first-byte": seconds.default(120),
  /** The longest silence between two chunks of a streamed body. */
  idle: seconds.default(120),
});

/** Bounds on the work one request's input can cause (see docs/security.md). */
const limits = z.strictObject({
  /** Milliseconds the patterns of one request (`<regex>`, `<matcher>`) may run in all. */
  "regex-ms": z.number().positive().default(500),
  /** Markers one request may carry. */
  markers: z.number().int().positive().default(256),
  /** Characters of all the markers of one request together (tags, attributes and bodies). */
  "marker-chars": z.number().int().positive().default(256 * 1024),
  /** Seconds a client may take to send a request body. */
  "body-timeout": z.number().positive().default(60),
  /** Bytes per second a request body must average (from its fifth second on). */
  "body-rate": z.number().nonnegative().default(1024),
  /** Schema nodes the tool-call checker may visit for one request's calls. */
  "schema-nodes": z.number().int().positive().default(50_000),
});

/** Fetches of URLs clients send (`image_url` parts): see docs/security.md. */
const fetchGuard = z.strictObject({
  /** Also fetch from private, loopback, link-local and other non-public addresses. */
  "allow-private": z.boolean().default(false),
  /** Redirects followed at most (each hop is checked). */
  "max-redirects": z.number().int().nonnegative().default(5),
  /** Seconds one fetch may take in all (name lookup, redirects, body). */
  timeout: z.number().positive().default(20),
});

const server = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8080),
  host: z.string().default("0.0.0.0"),
  proxies: proxyUrl.optional(),
  /** Hosts that never go through a proxy (exact host names or `.suffix`). */
  "no-proxy": z.array(z.string()).default(["localhost", "127.0.0.1", "::1"]),
  password: secretList.default([]),
  flags: z.boolean().default(true),
  domain: baseUrl.optional(),
  /** Maximum accepted request body in MiB. */
  "body-limit": z.number().positive().default(20),
  /** Seconds between `: keep-alive` comments while an upstream is silent. */
  "keep-alive": z.number().positive().default(15),
  timeouts: timeouts.prefault({}),
  /** Show `/v1/pool` without a password (it needs `password` otherwise). */
  "public-pool": z.boolean().default(false),
  /** JSON routes answer 415 unless the body is sent as `Content-Type: application/json`. */
  "strict-content-type": z.boolean().default(true),
  limits: limits.prefault({}),
  fetch: fetchGuard.prefault({}),
});

/** One OpenAI-compatible upstream (`custom-llm` list entry). */
const customLlm = z.strictObject({
  prefix: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-' only"),
  "base-url": baseUrl,
  "api-key": secretList.default([]),
  /** Forward a client's own Bearer key even when `api-key` is set (else only one of those). */
  "client-keys": z.boolean().default(false),
  /** `true` uses the global proxy, `false` none, a URL its own. */
  "use-proxies": z.union([z.boolean(), proxyUrl]).default(true),
  /** Use the prompt tool-call emulator instead of native tools. */
  tc: z.boolean().default(false),
  /** Model ids listed by `/v1/models`; empty means ask the upstream's `/models`. */
  models: z.array(z.string()).default([]),
  /** Extra headers sent upstream. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Ask for usage in streams (`stream_options.include_usage`). */
  "stream-usage": z.boolean().default(true),
});

/** Settings every pooled provider shares. */
const poolSettings = {
  /** Requests one account serves at the same time. */
  concurrency: z.number().int().positive().optional(),
  /** Seconds an account rests after a 429 when the upstream gives no Retry-After. */
  cooldown: seconds.optional(),
  /** Per provider proxy URL, or `false` for none. */
  proxies: z.union([proxyUrl, z.literal(false)]).optional(),
};

const safety = z.strictObject({ category: z.string(), threshold: z.string() });

const gemini = z.strictObject({
  "base-url": baseUrl.default("https://generativelanguage.googleapis.com"),
  keys: secretList.default([]),
  safes: z.array(safety).default([]),
  tc: z.boolean().default(false),
  models: z.array(z.string()).default([]),
  /** Ask thinking models (2.5 and later) for thought summaries, sent as `reasoning_content`. */
  thoughts: z.boolean().default(true),
  ...poolSettings,
});

const cohere = z.strictObject({
  "base-url": baseUrl.default("https://api.cohere.ai"),
  keys: secretList.default([]),
  safety: z.enum(["NONE", "CONTEXTUAL", "STRICT"]).optional(),
  tc: z.boolean().default(false),
  /** Model ids served and listed on top of the built-in ones. */
  models: z.array(z.string()).default([]),
  ...poolSettings,
});

const claude = z.strictObject({
  "base-url": baseUrl.default("https://claude.ai"),
  cookies: secretList.default([]),
  /** Tokens of padding for `<pad />`. */
  pad: z.number().int().nonnegative().default(25000),
  ...poolSettings,
});

const bing = z.strictObject({
  "base-url": baseUrl.default("https://www.bing.com"),
  "hub-url": baseUrl.default("wss://sydney.bing.com"),
  cookies: secretList.default([]),
  /** `bundleVersion` of conversation create (Bing's web client version). */
  "bundle-version": z.string().default("1.1742.1"),
  ...poolSettings,
});

const cozeBot = z.strictObject({
  "bot-id": z.string(),
  version: z.string().default(""),
  scene: z.number().int().default(0),
  /** The bot is used through the web SDK (no cookie). */
  websdk: z.boolean().default(false),
});

const coze = z.strictObject({
  "base-url": baseUrl.default("https://www.coze.com"),
  "sign-url": baseUrl.default("https://complete-mmx-coze-helper.hf.space"),
  "websdk-url": baseUrl.default("https://api.coze.com"),
  "upload-url": baseUrl.default("https://complete-mmx-easy-images.hf.space"),
  cookies: secretList.default([]),
  "8k": cozeBot.optional(),
  "128k": cozeBot.optional(),
  images: cozeBot.optional(),
  /** Seconds an owner-mode request waits for its bot before answering 429. */
  "owner-wait": seconds.default(30),
  ...poolSettings,
});

const lmsys = z.strictObject({
  "base-url": baseUrl.default("https://lmarena.ai"),
  /** `[fn_index, trigger_id]`, or a map model -> `[fn_index, trigger_id]`. */
  fn: z
    .union([
      z.tuple([z.number().int(), z.number().int()]),
      z.record(z.string(), z.tuple([z.number().int(), z.number().int()])),
    ])
    .optional(),
  /** Arena models `/v1/models` lists (without `lmsys/`); empty lists a built-in set. */
  models: z.array(z.string()).default([]),
  /** Request flow: 3 (lmarena since 2024-09: add_text, a step without input, the answer) or 2. */
  flow: z.union([z.literal(2), z.literal(3)]).default(3),
  /** Attempts per request (a new session each) while no text has been sent. */
  tries: z.number().int().min(1).max(10).default(3),
  /** Answers containing one of these fail as "SECURITY POLICY INTERCEPTION"; [] turns it off. */
  refusals: z.array(z.string()).default(["I did not actually provide", "I apologize"]),
  ...poolSettings,
});

const you = z.strictObject({
  "base-url": baseUrl.default("https://you.com"),
  /** Account cookies (the whole `Cookie` header of a signed-in you.com tab), one per account. */
  cookies: secretList.default([]),
  /** Pass Cloudflare's challenge with Chromium (`browser.*`) before calling the API. */
  clearance: z.boolean().default(true),
  /** Conversations of at least this many tokens are uploaded as a file instead of query text. */
  "file-tokens": z.number().int().positive().default(12000),
  /** The question sent with an uploaded conversation. */
  notice: z.string().default("Please review the attached prompt"),
  /** Seconds an account rests when its quota is used up. */
  "quota-cooldown": seconds.default(21600),
  /** Extra you.com model names served as `you/<name>` beyond the built-in list. */
  models: z.array(z.string()).default([]),
  ...poolSettings,
});

const interpreter = z.strictObject({
  "base-url": baseUrl.default("http://127.0.0.1:8000"),
  "echo-code": z.boolean().default(false),
  /** Accept the interpreter's socket.io connection (`open-interpreter-ws`) at /socket.io/open-i/. */
  ws: z.boolean().default(false),
  /** Seconds an `open-interpreter-ws` request waits for the interpreter's next message. */
  "ws-timeout": seconds.default(300),
  ...poolSettings,
});

const imageBackend = z.strictObject({
  "base-url": baseUrl.optional(),
  /** `[fn_index, trigger_id]` of a gradio space. */
  fn: z.tuple([z.number().int(), z.number().int()]).optional(),
  proxies: z.union([proxyUrl, z.literal(false)]).optional(),
  /** Credentials used when the client sends none (playground session tokens). */
  tokens: secretList.default([]),
});

/** The image backends, as `images.default-backend` and model prefixes name them. */
export const IMAGE_BACKENDS = [
  "prodia-sd",
  "prodia-xl",
  "dalle-4k",
  "dalle-3-xl",
  "animagine-xl",
  "google-xl",
  "playground",
  "coze",
] as const;

const images = z.strictObject({
  "prodia-sd": imageBackend.prefault({}),
  "prodia-xl": imageBackend.prefault({}),
  "dalle-4k": imageBackend.prefault({}),
  "dalle-3-xl": imageBackend.prefault({}),
  "animagine-xl": imageBackend.prefault({}),
  "google-xl": imageBackend.prefault({}),
  playground: imageBackend.prefault({}),
  coze: imageBackend.prefault({}),
  /** The LLM (any model of this server) that turns a prompt into tags. */
  llm: z
    .strictObject({
      model: z.string().optional(),
      "base-url": baseUrl.optional(),
      token: secret.optional(),
    })
    .prefault({}),
  /** Backend of `dall-e-3` when the Authorization names none; unset = a random gradio space. */
  "default-backend": z.enum(IMAGE_BACKENDS).optional(),
  /** Seconds one image request may take (tags, every generation, up-scaling). */
  timeout: seconds.default(180),
  /** bigjpg.com API keys for up-scaling HD sizes. */
  magnify: secretList.default([]),
  /** The bigjpg API root. */
  "bigjpg-url": baseUrl.default("https://bigjpg.com"),
  /** Seconds between two polls of a bigjpg task (20 polls at most). */
  "magnify-poll": seconds.default(3),
  /** Folder of stored images, relative to the config file. */
  dir: z.string().default("data/images"),
  /** Largest stored image in MiB. */
  "max-size": z.number().positive().default(20),
  /** Days a stored image is kept. */
  "max-age": z.number().positive().default(7),
  "negative-prompt": z.string().default(
    "(deformed eyes, nose, ears, nose, leg, head), bad anatomy, ugly",
  ),
});

const toolcall = z.strictObject({
  enabled: z.boolean().default(true),
  tasks: z.boolean().default(false),
  /** A tool name that becomes the default choice. */
  id: z.string().optional(),
});

const browser = z.strictObject({
  /** Chromium/Chrome binary (path or name on PATH); default: chromium, chromium-browser, google-chrome. */
  executable: z.string().optional(),
  headless: z.boolean().default(true),
  /** Extra command line flags for the browser. */
  args: z.array(z.string()).default([]),
  /** Seconds a site's challenge may take to pass. */
  timeout: z.number().positive().default(30),
  /** `Accept-Language` of the browser and of the calls that reuse its clearance. */
  lang: z.string().default("en-US,en;q=0.9"),
});

/** The whole configuration file. */
export const configSchema = z.strictObject({
  server: server.prefault({}),
  "custom-llm": z.array(customLlm).default([]),
  gemini: gemini.prefault({}),
  cohere: cohere.prefault({}),
  claude: claude.prefault({}),
  bing: bing.prefault({}),
  coze: coze.prefault({}),
  lmsys: lmsys.prefault({}),
  you: you.prefault({}),
  interpreter: interpreter.prefault({}),
  images: images.prefault({}),
  toolcall: toolcall.prefault({}),
  browser: browser.prefault({}),
});

/** The parsed configuration. */
export type Config = z.output<typeof configSchema>;
/** One `custom-llm` entry. */
export type CustomLlmConfig = Config["custom-llm"][number];
/** The upstream timeouts in seconds. */
export type Timeouts = Config["server"]["timeouts"];
