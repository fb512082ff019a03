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
import { images } from "./images_schema.ts";
import {
  baseUrl,
  poolSettings,
  proxyUrl,
  seconds,
  secret,
  secretList,
  timeouts,
  transportSetting,
} from "./schema_parts.ts";

export { proxyUrl } from "./schema_parts.ts";

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
  /** A PEM bundle of extra CAs both transports trust (corporate proxies, test fakes). */
  "ca-file": z.string().min(1).optional(),
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

const safety = z.strictObject({ category: z.string(), threshold: z.string() });

/** Gemini (the original's `google` section is read as this one, see `legacy.ts`). */
const gemini = z.strictObject({
  "base-url": baseUrl.default("https://generativelanguage.googleapis.com"),
  keys: secretList.default([]),
  safes: z.array(safety).default([]),
  tc: z.boolean().default(false),
  /** Model ids listed on top of the discovered (or built-in) ones. */
  models: z.array(z.string()).default([]),
  /** Ask thinking models (2.5 and later) for thought summaries, sent as `reasoning_content`. */
  thoughts: z.boolean().default(true),
  /** Models that take `presencePenalty`/`frequencyPenalty`; others never get them. */
  "penalty-models": z.array(z.string()).default(["gemini-2.0-flash", "gemini-2.0-flash-001"]),
  ...poolSettings,
});

/** Cohere's v2 API (`cohere.safety: NONE` of v1 is read as `OFF`, see `legacy.ts`). */
const cohere = z.strictObject({
  "base-url": baseUrl.default("https://api.cohere.com"),
  keys: secretList.default([]),
  /** `safety_mode`: OFF is clamped to CONTEXTUAL for models that refuse it (r7b and newer). */
  safety: z.enum(["CONTEXTUAL", "STRICT", "OFF"]).optional(),
  tc: z.boolean().default(false),
  /** Model ids served and listed on top of the discovered (or built-in) ones. */
  models: z.array(z.string()).default([]),
  /** `input_type` of embeddings when the request names none. */
  "embed-input-type": z
    .enum(["search_document", "search_query", "classification", "clustering"])
    .default("search_document"),
  ...poolSettings,
});

const claude = z.strictObject({
  /** `https://claude.ai`, or `https://api.anthropic.com` (the same `/api/...` paths, per clewdr). */
  "base-url": baseUrl.default("https://claude.ai"),
  /** Session keys (`sk-ant-sid01-…`, `sk-ant-sid02-…`, or a cookie string with `sessionKey=`). */
  cookies: secretList.default([]),
  /** Tokens of padding for `<pad />`. */
  pad: z.number().int().nonnegative().default(25000),
  /** The completion's `prompt` beside the pasted conversation (clewdr's `custom_prompt`). */
  prompt: z.string().default(""),
  ...poolSettings,
  ...transportSetting,
});

/** Copilot (copilot.microsoft.com); the old `bing` section is read into it (`deprecated.ts`). */
const copilot = z.strictObject({
  "base-url": baseUrl.default("https://copilot.microsoft.com"),
  /** Signed-in accounts: MSAL access tokens of the `ChatAI.ReadWrite` scope, one per account. */
  "access-tokens": secretList.default([]),
  /** `X-UserIdentityType` sent with the tokens (`google` for accounts signed in with Google). */
  "identity-type": z.string().min(1).optional(),
  /** Anonymous sessions the gateway keeps when no access token is configured; 0 turns them off. */
  anonymous: z.number().int().min(0).max(32).default(2),
  /** Conversations one account starts per minute at most (0: no limit). */
  rpm: z.number().nonnegative().default(12),
  /** Conversations an account may start back to back before `rpm` paces it. */
  burst: z.number().int().positive().default(4),
  /** Pass Cloudflare's challenges (cf_clearance, the socket's Turnstile) with Chromium. */
  clearance: z.boolean().default(true),
  /** The Turnstile site key for the socket's `cloudflare` challenge. */
  "turnstile-site-key": z.string().min(1).default("0x4AAAAAAAg146IpY3lPNWte"),
  /** IANA time zone sent when a conversation starts; default the server's. */
  "time-zone": z.string().min(1).optional(),
  /** Delete each conversation once answered (signed-in accounts keep a history otherwise). */
  "delete-conversations": z.boolean().default(true),
  ...poolSettings,
  ...transportSetting,
});

/** A Coze id (bot, workspace): digits in Coze's URLs; YAML may read an unquoted one as a number. */
const cozeId = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

const cozeBot = z.strictObject({
  "bot-id": cozeId,
  /** Web mode: the bot's `bot_version` (the space id in owner mode). */
  version: z.union([z.string(), z.number()]).transform(String).default(""),
  /** Web mode: the chat scene. */
  scene: z.number().int().default(0),
  /** Web mode: the bot is used through the web SDK (no cookie). */
  websdk: z.boolean().default(false),
});

const coze = z.strictObject({
  /** `api`: Coze's official API with personal access tokens; `web`: the legacy cookie route. */
  mode: z.enum(["api", "web"]).default("api"),
  /** The API root: `https://api.coze.com` (coze.com) or `https://api.coze.cn` (coze.cn). */
  "base-url": baseUrl.default("https://api.coze.com"),
  /** Personal access tokens (`pat_...`): the pool of the API mode. */
  tokens: secretList.default([]),
  /** The bot behind the model `coze`. */
  bot: cozeId.optional(),
  /** Bots served as `coze/<name>`: name -> bot id. */
  bots: z.record(z.string(), cozeId).default({}),
  /** The `user_id` of chats (a request's `user` field wins); it isolates the bot's memory. */
  "user-id": z.string().min(1).default("chatgpt-adapter"),
  /** A workspace whose bots published to the API channel `/v1/models` lists. */
  "workspace-id": cozeId.optional(),
  /** Web mode: Coze's web site (`/api/conversation/...`, `/api/draftbot/...`). */
  "web-url": baseUrl.default("https://www.coze.com"),
  /** Web mode: the request-signing service; no default (the original's host is gone). */
  "sign-url": baseUrl.optional(),
  "websdk-url": baseUrl.default("https://api.coze.com"),
  "upload-url": baseUrl.default("https://complete-mmx-easy-images.hf.space"),
  /** Web mode: coze.com cookies. */
  cookies: secretList.default([]),
  "8k": cozeBot.optional(),
  "128k": cozeBot.optional(),
  images: cozeBot.optional(),
  /** Web mode: seconds an owner-mode request waits for its bot before answering 429. */
  "owner-wait": seconds.default(30),
  ...poolSettings,
});

const arena = z.strictObject({
  "base-url": baseUrl.default("https://arena.ai"),
  /**
   * Signed-in sessions: the `Cookie` header of an arena.ai tab (`arena-auth-prod-v1…`), one per
   * account. None: the browser's page gets an anonymous session.
   */
  cookies: secretList.default([]),
  /** The reCAPTCHA Enterprise site key; by default read from the page's reCAPTCHA script. */
  "recaptcha-site-key": z.string().min(1).optional(),
  ...poolSettings,
  ...transportSetting,
});

const you = z.strictObject({
  /** `api`: you.com's Agents API with an API key; `web`: the legacy cookie route. */
  mode: z.enum(["api", "web"]).default("api"),
  /** The API root (`/v1/agents/runs`). */
  "base-url": baseUrl.default("https://api.you.com"),
  /** API keys from https://you.com/platform/api-keys: the pool of the API mode. */
  "api-key": secretList.default([]),
  /** Model names served as `you/<name>`: name -> agent (`express`, `advanced` or a custom agent id). */
  agents: z.record(z.string(), z.string().min(1)).default({}),
  /** Extra model names served as `you/<name>` (the API: the express agent, or advanced for o1/reason names). */
  models: z.array(z.string()).default([]),
  /** Seconds a key (API) or account (web) rests when its credits or quota are used up. */
  "quota-cooldown": seconds.default(21600),
  /** Web mode: the site. */
  "web-url": baseUrl.default("https://you.com"),
  /** Web mode: account cookies (the whole `Cookie` header of a signed-in you.com tab). */
  cookies: secretList.default([]),
  /** Web mode: pass Cloudflare's challenge with Chromium (`browser.*`) before calling the site. */
  clearance: z.boolean().default(true),
  /** Web mode: conversations of at least this many tokens are uploaded as a file. */
  "file-tokens": z.number().int().positive().default(12000),
  /** Web mode: the question sent with an uploaded conversation. */
  notice: z.string().default("Please review the attached prompt"),
  ...poolSettings,
  /** `chrome` or `fetch`; unset: `fetch` for the API (no Cloudflare), `chrome` for the web mode. */
  transport: z.enum(["fetch", "chrome"]).optional(),
});

const interpreter = z.strictObject({
  "base-url": baseUrl.default("http://127.0.0.1:8000"),
  /** `INTERPRETER_API_KEY` of the server: sent as `X-API-KEY` and in the websocket's auth frame. */
  "api-key": secret.optional(),
  /** Show the code the interpreter runs as fenced blocks. */
  "echo-code": z.boolean().default(false),
  /** Show the computer's console output too (websocket route only). */
  "echo-console": z.boolean().default(false),
  /** `open-interpreter` uses the stock websocket `/` (true) or `/openai/chat/completions`. */
  ws: z.boolean().default(false),
  /** Seconds a request waits for the interpreter's next message (it may run code meanwhile). */
  "ws-timeout": seconds.default(300),
  ...poolSettings,
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

/** Stored responses of the Responses API (`previous_response_id`), kept in the process. */
const responses = z.strictObject({
  /** Most responses kept (the least recently used go first). */
  "max-entries": z.number().int().positive().default(10000),
  /** Most bytes of stored responses kept (their JSON). */
  "max-bytes": z.number().int().positive().default(128 * 1024 * 1024),
  /** Seconds a stored response is kept. */
  ttl: z.number().positive().default(86400),
});

/** The whole configuration file. */
export const configSchema = z.strictObject({
  server: server.prefault({}),
  "custom-llm": z.array(customLlm).default([]).superRefine((list, ctx) => {
    // Two entries with one prefix: the second could never be reached.
    const first = new Map<string, number>();
    list.forEach((entry, i) => {
      const j = first.get(entry.prefix);
      if (j === undefined) first.set(entry.prefix, i);
      else {
        ctx.addIssue({
          code: "custom",
          path: [i, "prefix"],
          message: `repeats the prefix of custom-llm[${j}]; each entry needs its own`,
        });
      }
    });
  }),
  gemini: gemini.prefault({}),
  cohere: cohere.prefault({}),
  claude: claude.prefault({}),
  copilot: copilot.prefault({}),
  coze: coze.prefault({}),
  arena: arena.prefault({}),
  you: you.prefault({}),
  interpreter: interpreter.prefault({}),
  images: images.prefault({}),
  toolcall: toolcall.prefault({}),
  responses: responses.prefault({}),
  browser: browser.prefault({}),
});

/** The parsed configuration. */
export type Config = z.output<typeof configSchema>;
/** One parsed `images.spaces` entry. */
export type SpaceConfig = Config["images"]["spaces"][number];
/** One `custom-llm` entry. */
export type CustomLlmConfig = Config["custom-llm"][number];
/** The upstream timeouts in seconds. */
export type Timeouts = Config["server"]["timeouts"];
