/**
 * A fake you.com behind a fake Cloudflare managed challenge.
 *
 * Cloudflare: any request without a valid `cf_clearance` gets the "Just a moment..." page (403,
 * `cf-mitigated: challenge`, HTML). Its JavaScript waits a moment, derives the clearance from a
 * one-time challenge value (so only something that runs the page's JavaScript gets one), sets
 * `cf_clearance` with `document.cookie` and reloads. A clearance is bound to the user agent of
 * the browser that solved it: presenting it with another user agent is refused like having none.
 * Clearances can be expired (`expireClearances`) to make the API refuse them later.
 *
 * you.com, as seen by its web app: `GET /api/user/getYouProState` (quota JSON), `GET
 * /api/get_nonce` (a one-time upload nonce, text), `POST /api/upload` (multipart `file` with
 * `X-Upload-Nonce`, answers `{filename, user_filename}`), `POST /api/instrumentation` (JSON in,
 * JSON out), `GET /api/streamingSearch` (SSE: `event: youChatModeLimits`, `event: youChatToken`
 * with `{"youChatToken": ...}` deltas, `event: done`). Accounts are identified by their
 * `stytch_session` cookie; a free account's calls are counted against `max_calls`.
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

/** One account of the fake. */
export interface FakeAccount {
  /** The `stytch_session` cookie value. */
  session: string;
  plan?: "freemium" | "youpro" | "youpro_teams";
  maxCalls?: number;
  usedCalls?: number;
  /** The account is banned: every API call answers 403 (JSON, from you.com itself). */
  banned?: boolean;
}

/** What `streamingSearch` answers (scripted per test). */
export interface FakeAnswer {
  /** The `youChatToken` deltas. */
  tokens?: string[];
  /** Texts sent as `youChatUpdate` events (`{"t": ...}`, as the agent modes answer) after the tokens. */
  updates?: string[];
  /** Milliseconds between events. */
  delayMs?: number;
  /** Answer with this status and a JSON error instead. */
  status?: number;
  /** Leave out the `done` event. */
  noDone?: boolean;
  /** Stop sending after this many tokens, holding the connection open. */
  stallAfter?: number;
  /** Break the connection after this many tokens. */
  dropAfter?: number;
}

/** One `streamingSearch` call as the fake understood it. */
export interface SearchCall {
  q: string;
  model: string;
  chat: { question: string; answer: string }[];
  userFiles?: { user_filename: string; filename: string; size: string }[];
  session: string;
  rec: Recorded;
}

/** Options of the fake. */
export interface FakeYouOptions {
  accounts: FakeAccount[];
  /** Milliseconds the challenge page's script waits before setting the cookie (default 400). */
  challengeDelayMs?: number;
  /** Serve without the Cloudflare gate (a mirror without challenge). */
  noChallenge?: boolean;
}

/** A running fake you.com. */
export interface FakeYou {
  origin: string;
  requests: Recorded[];
  accounts: Map<string, FakeAccount>;
  /** Every streamingSearch call, in order. */
  searches: SearchCall[];
  /** Uploaded files by server file name. */
  uploads: Map<string, { content: string; user_filename: string; session: string }>;
  /** Challenge pages served. */
  challengesServed: number;
  /** Clearances earned by solving the challenge. */
  clearancesIssued: number;
  /** The user agent bound to each valid clearance. */
  clearances: Map<string, string>;
  /** Requests refused by the Cloudflare gate, by path. */
  blocked: string[];
  /** The most answer streams one account had open at the same time. */
  maxActivePerAccount: number;
  /** Decides each answer; the default echoes the question. */
  respond: (call: SearchCall) => FakeAnswer;
  /** Makes every clearance issued so far invalid (Cloudflare's expiry). */
  expireClearances(): void;
  close(): Promise<void>;
}

const KNOWN_MODELS = new Set([
  "gpt_4",
  "gpt_4o",
  "gpt_4o_mini",
  "gpt_4_turbo",
  "openai_o1",
  "openai_o1_mini",
  "claude_2",
  "claude_3_haiku",
  "claude_3_sonnet",
  "claude_3_5_sonnet",
  "claude_3_opus",
  "gemini_pro",
  "gemini_1_5_pro",
  "gemini_1_5_flash",
]);

/** The hash the challenge script computes (FNV-like, 32 bit), as the page does it. */
export function challengeAnswer(nonce: string): string {
  let h = 7;
  for (let i = 0; i < nonce.length; i++) h = (Math.imul(h, 31) + nonce.charCodeAt(i)) >>> 0;
  return h.toString(16);
}

function challengePage(nonce: string, delayMs: number): string {
  return `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head>
<body><div id="challenge-running">Verifying you are human. This may take a few seconds.</div>
<noscript>Enable JavaScript and cookies to continue</noscript>
<script>
window._cf_chl_opt = { cvId: "3", cType: "managed", cRay: "8a1b2c3d4e5f", cH: ${
    JSON.stringify(nonce)
  } };
setTimeout(function () {
  var n = window._cf_chl_opt.cH, h = 7;
  for (var i = 0; i < n.length; i++) h = (Math.imul(h, 31) + n.charCodeAt(i)) >>> 0;
  document.cookie = "cf_clearance=" + n + "." + h.toString(16) + "; path=/; max-age=1800";
  location.reload();
}, ${delayMs});
</script></body></html>`;
}

const APP_PAGE =
  `<!DOCTYPE html><html><head><title>You.com | AI for workplace productivity</title></head>
<body><div id="__next">You.com</div></body></html>`;

function cookiesOf(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function sse(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/** Starts the fake. */
export async function startFakeYou(options: FakeYouOptions): Promise<FakeYou> {
  const delay = options.challengeDelayMs ?? 400;
  const pendingChallenges = new Map<string, string>(); // nonce -> user agent that got the page
  const nonces = new Map<string, string>(); // upload nonce -> session
  const active = new Map<string, number>(); // session -> open answer streams
  const state: Omit<FakeYou, "origin" | "requests" | "close"> = {
    accounts: new Map(options.accounts.map((a) => [a.session, a])),
    searches: [],
    uploads: new Map(),
    challengesServed: 0,
    clearancesIssued: 0,
    clearances: new Map(),
    blocked: [],
    maxActivePerAccount: 0,
    respond: (call) => ({ tokens: ["You ", "said: ", call.q] }),
    expireClearances() {
      state.clearances.clear();
    },
  };

  /** Cloudflare's gate: undefined when the request may pass, else the challenge response. */
  function gate(req: Request, url: URL): Response | undefined {
    if (options.noChallenge) return undefined;
    const ua = req.headers.get("user-agent") ?? "";
    const token = cookiesOf(req).get("cf_clearance");
    if (token) {
      const bound = state.clearances.get(token);
      if (bound !== undefined && bound === ua) return undefined;
      // A solved challenge arriving for the first time (the reload after the script ran).
      const [nonce, answer] = token.split(".");
      const solver = pendingChallenges.get(nonce);
      if (solver !== undefined && answer === challengeAnswer(nonce) && solver === ua) {
        pendingChallenges.delete(nonce);
        state.clearances.set(token, ua);
        state.clearancesIssued++;
        return undefined;
      }
    }
    state.blocked.push(url.pathname);
    const nonce = crypto.randomUUID().replaceAll("-", "");
    pendingChallenges.set(nonce, ua);
    state.challengesServed++;
    return new Response(challengePage(nonce, delay), {
      status: 403,
      headers: {
        "content-type": "text/html; charset=UTF-8",
        "cf-mitigated": "challenge",
        "cache-control": "private, max-age=0, no-store, no-cache, must-revalidate",
        server: "cloudflare",
      },
    });
  }

  function account(req: Request): FakeAccount | Response {
    const c = cookiesOf(req);
    const session = c.get("stytch_session") ?? c.get("ydc_stytch_session");
    const acct = session ? state.accounts.get(session) : undefined;
    if (!acct) return json({ error: "Unauthorized", message: "no valid session" }, 401);
    if (acct.banned) return json({ error: "Forbidden", message: "account suspended" }, 403);
    return acct;
  }

  const fake = await serveFake(async (req, rec) => {
    const url = new URL(req.url);
    const blocked = gate(req, url);
    if (blocked) return blocked;
    const path = url.pathname;
    if (req.method === "GET" && (path === "/" || path === "/search")) {
      return new Response(APP_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (!path.startsWith("/api/")) return new Response("Not Found", { status: 404 });
    if (req.headers.get("origin") === null) {
      return json({ error: "Bad Request", message: "missing origin" }, 400);
    }
    const acct = account(req);
    if (acct instanceof Response) return acct;
    const plan = acct.plan ?? "freemium";

    if (req.method === "GET" && path === "/api/user/getYouProState") {
      return json({
        freemium: { max_calls: acct.maxCalls ?? 5, used_calls: acct.usedCalls ?? 0 },
        subscriptions: plan === "youpro"
          ? [{ service: "youpro", tier: "pro", provider: "stripe" }]
          : [],
        org_subscriptions: plan === "youpro_teams" ? [{ service: "youpro_teams" }] : [],
      });
    }
    if (req.method === "GET" && path === "/api/get_nonce") {
      const nonce = crypto.randomUUID();
      nonces.set(nonce, acct.session);
      return new Response(nonce, { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    if (req.method === "POST" && path === "/api/upload") {
      const nonce = req.headers.get("x-upload-nonce") ?? "";
      if (nonces.get(nonce) !== acct.session) {
        return json({ error: "Bad Request", message: "invalid upload nonce" }, 400);
      }
      nonces.delete(nonce);
      const type = req.headers.get("content-type") ?? "";
      if (!type.startsWith("multipart/form-data")) {
        return json({ error: "Bad Request", message: "expected multipart/form-data" }, 400);
      }
      const form = await new Request(req.url, {
        method: "POST",
        headers: { "content-type": type },
        body: rec.body,
      }).formData();
      const file = form.get("file");
      if (!(file instanceof File)) {
        return json({ error: "Bad Request", message: "no file part" }, 400);
      }
      const filename = `${crypto.randomUUID()}.txt`;
      state.uploads.set(filename, {
        content: await file.text(),
        user_filename: file.name,
        session: acct.session,
      });
      return json({ filename, user_filename: file.name, size_context: file.size });
    }
    if (req.method === "POST" && path === "/api/instrumentation") {
      if (!(req.headers.get("content-type") ?? "").includes("application/json")) {
        return json({ error: "Bad Request" }, 400);
      }
      return json({});
    }
    if (req.method === "GET" && path === "/api/streamingSearch") {
      return search(url, rec, acct, plan);
    }
    return json({ error: "Not Found" }, 404);
  });

  function search(url: URL, rec: Recorded, acct: FakeAccount, plan: string): Response {
    const p = url.searchParams;
    const q = p.get("q");
    const model = p.get("selectedAiModel") ?? "";
    if (!q) return json({ error: "Bad Request", message: "q is required" }, 400);
    if (!KNOWN_MODELS.has(model)) {
      return json({ error: "Bad Request", message: `unknown model ${model}` }, 400);
    }
    let chat: SearchCall["chat"];
    try {
      chat = JSON.parse(p.get("chat") ?? "[]");
    } catch {
      return json({ error: "Bad Request", message: "chat is not JSON" }, 400);
    }
    if (String(chat.length) !== p.get("pastChatLength")) {
      return json({ error: "Bad Request", message: "pastChatLength does not match chat" }, 400);
    }
    let userFiles: SearchCall["userFiles"];
    if (p.has("userFiles")) {
      try {
        userFiles = JSON.parse(p.get("userFiles")!);
      } catch {
        return json({ error: "Bad Request", message: "userFiles is not JSON" }, 400);
      }
      for (const f of userFiles ?? []) {
        const up = state.uploads.get(f.filename);
        if (!up || up.session !== acct.session) {
          return json({ error: "Bad Request", message: `unknown file ${f.filename}` }, 400);
        }
      }
    }
    const call: SearchCall = { q, model, chat, userFiles, session: acct.session, rec };
    state.searches.push(call);
    const script = state.respond(call);
    if (script.status) {
      return json({ error: "error", message: `scripted status ${script.status}` }, script.status);
    }
    const exhausted = plan === "freemium" && (acct.usedCalls ?? 0) >= (acct.maxCalls ?? 5);
    acct.usedCalls = (acct.usedCalls ?? 0) + 1;
    const tokens = [...(script.tokens ?? [])];
    if (exhausted) {
      tokens.unshift("#### You've hit your free quota for GPT-4 mode. Using a basic model.\n\n");
    }
    const encoder = new TextEncoder();
    const open = (active.get(acct.session) ?? 0) + 1;
    active.set(acct.session, open);
    state.maxActivePerAccount = Math.max(state.maxActivePerAccount, open);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (s: string) => controller.enqueue(encoder.encode(s));
        try {
          send(sse("youChatModeLimits", JSON.stringify({ [model]: { remaining: 10 } })));
          let n = 0;
          for (const t of tokens) {
            if (script.stallAfter !== undefined && n >= script.stallAfter) {
              await rec.aborted;
              return;
            }
            if (script.dropAfter !== undefined && n >= script.dropAfter) {
              controller.error(new Error("connection reset"));
              return;
            }
            if (script.delayMs) await sleep(script.delayMs);
            if (rec.wasAborted) return;
            send(sse("youChatToken", JSON.stringify({ youChatToken: t })));
            n++;
          }
          for (const t of script.updates ?? []) {
            // A progress note without text, then the text update.
            send(sse("youChatUpdate", JSON.stringify({ i: 3, msg: "Responding", done: false })));
            send(sse("youChatUpdate", JSON.stringify({ t })));
          }
          if (!script.noDone) send(sse("done", "I'm done!"));
          controller.close();
        } catch {
          // The client went away.
        } finally {
          active.set(acct.session, (active.get(acct.session) ?? 1) - 1);
        }
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  }

  return Object.assign(state, {
    origin: fake.origin,
    requests: fake.requests,
    close: fake.close,
  }) as FakeYou;
}
