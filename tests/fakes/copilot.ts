/**
 * A fake copilot.microsoft.com behind the Cloudflare-like TLS gate (`tls_gate.ts`), written from
 * the reference (section 1) and refusing what the service refuses:
 *
 * - Cloudflare: with `clearance` required (after `expireClearances()`, or from the start), every
 *   call and the socket's upgrade without a valid `cf_clearance` for its user agent get the 403
 *   "Just a moment..." page; its script (run only by a browser) earns the cookie and reloads;
 * - `GET /`: the site's cookies and a page with a Turnstile API (`window.turnstile.render`) whose
 *   token only a browser can compute (it hashes a one-time nonce with `navigator.userAgent`);
 * - `POST /c/api/start` (the six body fields required; `404` when `startMissing`, then `POST
 *   /c/api/conversations`): a Bearer that is not a known token is a 401; anonymous callers get
 *   `__Host-copilot-anon`;
 * - `POST /c/api/attachments`: image bytes with an image type, else 400;
 * - `DELETE /c/api/conversations/<id>`;
 * - the chat socket (`copilot_socket.ts`); an `accessToken` it does not know is a 401 upgrade.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { startTlsGate, type TlsGate } from "./tls_gate.ts";
import {
  type FakeCall,
  type FakeEvent,
  type FakeScript,
  type FakeSocketRecord,
  serveChatSocket,
} from "./copilot_socket.ts";

export type { FakeCall, FakeEvent, FakeScript, FakeSocketRecord } from "./copilot_socket.ts";

/** The Turnstile site key the fake's widget takes. */
export const FAKE_SITE_KEY = "0x4AAAAAAAg146IpY3lPNWte";

/** A 1x1 PNG: the "generated image". */
export const PNG = Uint8Array.fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
);

/** Options of the fake. */
export interface FakeCopilotOptions {
  /** Access tokens of signed-in accounts. */
  tokens?: string[];
  /** Anonymous chat refused (`chat-service-unavailable`). */
  restrictedRegion?: boolean;
  /** Cloudflare challenges every call without a valid clearance from the start. */
  requireClearance?: boolean;
  /** `/c/api/start` is missing (404): clients fall back to `/c/api/conversations`. */
  startMissing?: boolean;
  /** Milliseconds the challenge page's script waits (default 300). */
  challengeDelayMs?: number;
}

/** A request the fake's HTTP side saw. */
export interface FakeRequest {
  method: string;
  path: string;
  headers: Headers;
  body: Uint8Array;
}

/** A running fake. */
export interface FakeCopilot {
  gate: TlsGate;
  origin: string;
  requests: FakeRequest[];
  sockets: FakeSocketRecord[];
  /** Conversations started, in order, with who started them and when (performance.now). */
  started: { id: string; who: string; at: number }[];
  deleted: string[];
  uploads: { type: string; size: number }[];
  /** Challenge pages served, clearances earned, Turnstile tokens spent. */
  challengesServed: number;
  clearancesIssued: number;
  turnstileSpent: number;
  /** The script of each turn (default: an echo). */
  respond: (call: FakeCall) => FakeScript;
  /** Every clearance given so far stops working, and calls need one from now on. */
  expireClearances(): void;
  restrictedRegion: boolean;
  close(): Promise<void>;
}

/** The FNV-like hash the pages' scripts compute. */
export function pageHash(input: string): string {
  let h = 7;
  for (let i = 0; i < input.length; i++) h = (Math.imul(h, 31) + input.charCodeAt(i)) >>> 0;
  return h.toString(16);
}

const HASH_JS =
  `function h(s){var x=7;for(var i=0;i<s.length;i++)x=(Math.imul(x,31)+s.charCodeAt(i))>>>0;return x.toString(16);}`;

function challengePage(nonce: string, delayMs: number): string {
  return `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>
<body><div id="challenge-running">Verifying you are human.</div>
<script>${HASH_JS}
window._cf_chl_opt = { cType: "managed", cH: ${JSON.stringify(nonce)} };
setTimeout(function () {
  var n = window._cf_chl_opt.cH;
  document.cookie = "cf_clearance=" + n + "." + h(n + "|" + navigator.userAgent) + "; path=/; max-age=1800; secure";
  location.reload();
}, ${delayMs});
</script></body></html>`;
}

function sitePage(nonce: string): string {
  return `<!DOCTYPE html><html><head><title>Microsoft Copilot: Your AI companion</title></head>
<body><div id="app">Copilot</div><script>${HASH_JS}
window.turnstile = {
  render: function (el, o) {
    if (o.sitekey !== ${JSON.stringify(FAKE_SITE_KEY)}) { o["error-callback"]("110100"); return; }
    setTimeout(function () {
      var n = ${JSON.stringify(nonce)};
      o.callback(n + "." + h(n + "|" + o.sitekey + "|" + navigator.userAgent + "|" + (navigator.webdriver ? "bot" : "human")));
    }, 200);
  }
};
</script></body></html>`;
}

function cookiesOf(headers: Headers): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function json(body: unknown, status = 200, headers: [string, string][] = []): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: [["content-type", "application/json"], ...headers],
  });
}

/** Starts the fake behind its own TLS gate. */
export async function startFakeCopilot(options: FakeCopilotOptions = {}): Promise<FakeCopilot> {
  const tokens = new Set(options.tokens ?? []);
  const delay = options.challengeDelayMs ?? 300;
  let requireClearance = options.requireClearance ?? false;
  const pendingChallenges = new Map<string, string>(); // nonce -> user agent
  const clearances = new Map<string, string>(); // cf_clearance -> user agent
  const turnstileNonces = new Map<string, string>(); // nonce -> user agent of the page
  const conversations = new Map<string, Set<string>>(); // who -> conversation ids
  const state = {
    requests: [] as FakeRequest[],
    sockets: [] as FakeSocketRecord[],
    started: [] as { id: string; who: string; at: number }[],
    deleted: [] as string[],
    uploads: [] as { type: string; size: number }[],
    challengesServed: 0,
    clearancesIssued: 0,
    turnstileSpent: 0,
    restrictedRegion: options.restrictedRegion ?? false,
    respond: (_call: FakeCall): FakeScript => ({}),
    expireClearances() {
      clearances.clear();
      requireClearance = true;
    },
  };
  let origin = "";

  /** Cloudflare's verdict: undefined to pass, else the challenge page. */
  function cloudflare(headers: Headers): Response | undefined {
    if (!requireClearance) return undefined;
    const ua = headers.get("user-agent") ?? "";
    const token = cookiesOf(headers).get("cf_clearance");
    if (token) {
      if (clearances.get(token) === ua) return undefined;
      const [nonce, answer] = token.split(".");
      if (pendingChallenges.get(nonce) === ua && answer === pageHash(`${nonce}|${ua}`)) {
        pendingChallenges.delete(nonce);
        clearances.set(token, ua);
        state.clearancesIssued++;
        return undefined;
      }
    }
    const nonce = crypto.randomUUID().replaceAll("-", "");
    pendingChallenges.set(nonce, ua);
    state.challengesServed++;
    return new Response(challengePage(nonce, delay), {
      status: 403,
      headers: {
        "content-type": "text/html; charset=UTF-8",
        "cf-mitigated": "challenge",
        server: "cloudflare",
      },
    });
  }

  /** Who calls: a known Bearer token, the anonymous cookie, or a refusal. */
  function who(headers: Headers): { who: string; signedIn: boolean } | Response | undefined {
    const auth = headers.get("authorization");
    if (auth) {
      const token = auth.replace(/^Bearer\s+/i, "");
      return tokens.has(token)
        ? { who: token, signedIn: true }
        : json({ error: "Unauthorized", message: "invalid access token" }, 401);
    }
    const anon = cookiesOf(headers).get("__Host-copilot-anon");
    return anon ? { who: anon, signedIn: false } : undefined;
  }

  function startConversation(headers: Headers, field: string): Response {
    let id = who(headers);
    if (id instanceof Response) return id;
    const set: [string, string][] = [];
    if (!id) {
      const anon = crypto.randomUUID();
      id = { who: anon, signedIn: false };
      set.push([
        "set-cookie",
        `__Host-copilot-anon=${anon}; Path=/; Secure; HttpOnly; SameSite=None`,
      ]);
    }
    const conversation = `conv-${crypto.randomUUID().slice(0, 8)}`;
    let mine = conversations.get(id.who);
    if (!mine) conversations.set(id.who, mine = new Set());
    mine.add(conversation);
    state.started.push({ id: conversation, who: id.who, at: performance.now() });
    return json({ [field]: conversation }, 200, set);
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const body = req.body && req.headers.get("upgrade") !== "websocket"
      ? new Uint8Array(await req.arrayBuffer())
      : new Uint8Array();
    state.requests.push({
      method: req.method,
      path: url.pathname,
      headers: new Headers(req.headers),
      body,
    });
    const blocked = cloudflare(req.headers);
    if (blocked) return blocked;
    const path = url.pathname;
    if (req.method === "GET" && path === "/") {
      const nonce = crypto.randomUUID().replaceAll("-", "");
      turnstileNonces.set(nonce, req.headers.get("user-agent") ?? "");
      return new Response(sitePage(nonce), {
        headers: [
          ["content-type", "text/html; charset=utf-8"],
          ["set-cookie", "_C_ETH=1; Path=/; Secure"],
          ["set-cookie", `MUID=${crypto.randomUUID().replaceAll("-", "")}; Path=/; Secure`],
        ],
      });
    }
    if (req.method === "POST" && path === "/c/api/start") {
      if (options.startMissing) return json({ error: "Not Found" }, 404);
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(new TextDecoder().decode(body));
      } catch {
        return json({ error: "Bad Request", message: "body is not JSON" }, 400);
      }
      const fields = [
        "startNewConversation",
        "teenSupportEnabled",
        "correctPersonalizationSetting",
        "performUserMerge",
        "deferredDataUseCapable",
      ];
      if (typeof b.timeZone !== "string" || fields.some((f) => b[f] !== true)) {
        return json({ error: "Bad Request", message: "missing fields" }, 400);
      }
      return startConversation(req.headers, "currentConversationId");
    }
    if (req.method === "POST" && path === "/c/api/conversations") {
      return startConversation(req.headers, "id");
    }
    if (req.method === "POST" && path === "/c/api/attachments") {
      const id = who(req.headers);
      if (id instanceof Response) return id;
      const type = req.headers.get("content-type") ?? "";
      if (!/^image\/(png|jpeg|gif|webp)$/.test(type) || body.length === 0) {
        return json({ error: "Bad Request", message: "not an image" }, 400);
      }
      state.uploads.push({ type, size: body.length });
      return json({ url: `${origin}/attachments/${crypto.randomUUID()}` });
    }
    const del = /^\/c\/api\/conversations\/([^/]+)$/.exec(path);
    if (req.method === "DELETE" && del) {
      state.deleted.push(decodeURIComponent(del[1]));
      return new Response(null, { status: 204 });
    }
    if (req.method === "GET" && path.startsWith("/images/")) {
      return new Response(PNG, { headers: { "content-type": "image/png" } });
    }
    if (path === "/c/api/chat" && req.headers.get("upgrade") === "websocket") {
      return chat(req, url);
    }
    return json({ error: "Not Found" }, 404);
  }

  function chat(req: Request, url: URL): Response {
    if (url.searchParams.get("api-version") !== "2") return json({ error: "api-version" }, 400);
    const token = url.searchParams.get("accessToken");
    if (token !== null && !tokens.has(token)) return new Response("Unauthorized", { status: 401 });
    const anon = cookiesOf(req.headers).get("__Host-copilot-anon") ?? "";
    const ident = token !== null ? { who: token, signedIn: true } : { who: anon, signedIn: false };
    const rec: FakeSocketRecord = {
      query: url.searchParams,
      headers: new Headers(req.headers),
      received: [],
      closed: Promise.resolve(),
      isClosed: false,
    };
    state.sockets.push(rec);
    const { socket, response } = Deno.upgradeWebSocket(req);
    serveChatSocket(socket, rec, { ...ident, userAgent: req.headers.get("user-agent") ?? "" }, {
      conversations: (w) => conversations.get(w) ?? new Set(),
      checkAnswer,
      respond: (call) => state.respond(call),
      get restrictedRegion() {
        return state.restrictedRegion;
      },
      origin,
    });
    return response;
  }

  function checkAnswer(
    c: { method: string | null; parameter: string },
    answer: FakeEvent,
    userAgent: string,
  ): boolean {
    const token = typeof answer.token === "string" ? answer.token : "";
    if (c.method === "hashcash") {
      if (answer.method !== "hashcash") return false;
      const [seed, bits] = [
        c.parameter.slice(0, c.parameter.lastIndexOf(":")),
        Number(
          c.parameter.slice(c.parameter.lastIndexOf(":") + 1),
        ),
      ];
      const digest = createHash("sha256").update(seed + token).digest();
      let zero = 0;
      for (const byte of digest) {
        if (byte === 0) zero += 8;
        else {
          zero += Math.clz32(byte) - 24;
          break;
        }
      }
      return /^\d+$/.test(token) && zero >= bits;
    }
    if (c.method === "copilot") {
      const a = Number(c.parameter);
      const v = a ** 3 / 100 + 25 * a;
      // Python's modulo: never negative.
      return answer.method === "copilot" &&
        token === String(Math.floor((((v % 22) + 22) % 22) + 0.5));
    }
    // `null` / `cloudflare`: a Turnstile token minted by the fake's page in a browser with this
    // user agent, used once.
    if (answer.method !== "cloudflare") return false;
    const [nonce, hash] = token.split(".");
    const pageUa = turnstileNonces.get(nonce);
    if (pageUa === undefined || pageUa !== userAgent) return false;
    if (hash !== pageHash(`${nonce}|${FAKE_SITE_KEY}|${userAgent}|human`)) return false;
    turnstileNonces.delete(nonce);
    state.turnstileSpent++;
    return true;
  }

  const gate = await startTlsGate(handle);
  origin = gate.origin;
  return Object.assign(state, { gate, origin, close: () => gate.close() });
}
