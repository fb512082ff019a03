/**
 * A fake of arena.ai as the reference (section 4) describes it, behind the Cloudflare-like TLS
 * gate (`tls_gate.ts`): only a Chrome handshake reaches it.
 *
 * - `GET /` (`?mode=direct`): the Next.js page. Its flight data (`self.__next_f.push([1, "…"])`,
 *   split over two pushes) holds `initialModels` (`{id, publicName, capabilities}`); it loads the
 *   reCAPTCHA Enterprise script with `render=<site key>`; it sets an anonymous
 *   `arena-auth-prod-v1` session cookie when the request has none.
 * - `GET /recaptcha/enterprise.js`: a reCAPTCHA-like script. `grecaptcha.enterprise.execute(key,
 *   {action})` asks the fake for a one-time challenge and answers with a token derived from it,
 *   the action and `navigator.userAgent` by JavaScript: only something that runs the page's script
 *   (a browser) gets a token, and the token is bound to the user agent that ran it.
 * - `POST /nextjs-api/stream/create-evaluation`: needs the session cookie (401), a token this
 *   fake issued for its site key, for `chat_submit`, to the same user agent, not used before and
 *   not older than two minutes (else 403 "recaptcha validation failed"), and the body's fields:
 *   UUIDv7 `id`/`userMessageId`/`modelAMessageId`, `mode: "direct-battle"`, a known `modelAId`,
 *   `userMessage {content, experimental_attachments, metadata}`, `modality: "chat"` (400 naming
 *   the field). Answers the AI SDK line records (`a0`, `ag`, `a2`, `a3`, `ad`).
 * - With `cloudflare: true`, every request without a clearance bound to its user agent gets
 *   Cloudflare's "Just a moment..." page (403), whose script earns `cf_clearance` and reloads.
 *
 * @module
 */
import { type GateRecorded, json, recordRequest, sleep } from "./serve.ts";
import { startTlsGate, type TlsGate } from "./tls_gate.ts";

/** One model of the fake's list. */
export interface FakeArenaModel {
  id: string;
  publicName: string;
  capabilities: {
    inputCapabilities: Record<string, unknown>;
    outputCapabilities: Record<string, unknown>;
  };
}

/** What the fake answers to one evaluation. */
export interface ArenaScript {
  text?: string;
  reasoning?: string;
  /** Characters per record (default 4). */
  pieceSize?: number;
  delayMs?: number;
  /** A heartbeat record before the text. */
  heartbeat?: boolean;
  /** Image URLs (an `a2` record with image items). */
  images?: string[];
  finishReason?: string;
  usage?: { promptTokens: number; completionTokens: number };
  /** After the text, an `a3` error record. */
  error?: string;
  /** `a0:"hasArenaError"` after the text. */
  arenaError?: boolean;
  /** End without the `ad` record. */
  truncate?: boolean;
  /** Keep the stream open after the text. */
  hang?: boolean;
  /** Answer with this status and body instead. */
  status?: { code: number; body: string; contentType?: string; headers?: Record<string, string> };
}

/** An evaluation as the fake accepted it. */
export interface EvaluationCall {
  body: {
    id: string;
    mode: string;
    modelAId: string;
    userMessageId: string;
    modelAMessageId: string;
    userMessage: { content: string; experimental_attachments: unknown[]; metadata: object };
    modality: string;
    recaptchaV3Token: string;
  };
  model: FakeArenaModel;
  session: string;
  rec: GateRecorded;
}

/** Options of the fake. */
export interface FakeArenaOptions {
  models?: FakeArenaModel[];
  siteKey?: string;
  /** The page loads reCAPTCHA without naming the site key (`render=explicit`). */
  hideSiteKey?: boolean;
  /** The page never loads reCAPTCHA (a mint can never finish). */
  noRecaptcha?: boolean;
  /** Cloudflare's managed challenge in front of every path. */
  cloudflare?: boolean;
  /** Milliseconds the challenge script waits before it sets the cookie (default 300). */
  challengeDelayMs?: number;
  /** Sessions known from the start (signed-in accounts' `arena-auth-prod-v1` values). */
  sessions?: string[];
}

/** A running fake. */
export interface FakeArena {
  origin: string;
  caFile: string;
  gate: TlsGate;
  siteKey: string;
  models: FakeArenaModel[];
  requests: GateRecorded[];
  evaluations: EvaluationCall[];
  /** Tokens issued by the script, and refused by create-evaluation. */
  tokensIssued: number;
  tokensRefused: number;
  pagesServed: number;
  challengesServed: number;
  /** Anonymous sessions handed out. */
  sessions: Set<string>;
  respond: (call: EvaluationCall) => ArenaScript;
  /** Forgets every clearance (Cloudflare asks again). */
  revokeClearances(): void;
  /** Forgets every session (create-evaluation answers 401 to them). */
  revokeSessions(): void;
  /** Refuses the next `n` tokens presented, however good (as Google's verdict may). */
  spoilTokens(n: number): void;
  close(): Promise<void>;
}

/** The fake's default models: three chat models and an image one. */
export function defaultModels(): FakeArenaModel[] {
  const chat = (publicName: string): FakeArenaModel => ({
    id: crypto.randomUUID(),
    publicName,
    capabilities: { inputCapabilities: { text: true }, outputCapabilities: { text: true } },
  });
  return [
    chat("gpt-5-chat"),
    chat("claude-opus-4-8"),
    chat("Gemini-3-Pro"),
    {
      id: crypto.randomUUID(),
      publicName: "imagen-4.0-generate",
      capabilities: {
        inputCapabilities: { text: true },
        outputCapabilities: { image: { aspectRatios: ["1:1"] } },
      },
    },
  ];
}

/** The 32-bit hash the page's scripts compute (the challenge and the token). */
export function pageHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

const HASH_JS =
  `function(t){var h=0x811c9dc5;for(var i=0;i<t.length;i++)h=Math.imul(h^t.charCodeAt(i),0x01000193)>>>0;return h.toString(16);}`;

function challengePage(nonce: string, delayMs: number): string {
  return `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>
<body><div id="challenge-running">Verifying you are human.</div><script>
window._cf_chl_opt = { cType: "managed", cH: ${JSON.stringify(nonce)} };
setTimeout(function () {
  var n = window._cf_chl_opt.cH, hash = ${HASH_JS};
  document.cookie = "cf_clearance=" + n + "." + hash(n + navigator.userAgent) + "; path=/; max-age=1800";
  location.reload();
}, ${delayMs});
</script></body></html>`;
}

function recaptchaScript(): string {
  return `(function () {
  var hash = ${HASH_JS};
  var readyAt = Date.now() + 50;
  window.grecaptcha = { enterprise: {
    ready: function (cb) { setTimeout(cb, Math.max(0, readyAt - Date.now())); },
    execute: function (key, opts) {
      return fetch("/recaptcha/enterprise/reload?k=" + encodeURIComponent(key), { method: "POST" })
        .then(function (r) { if (!r.ok) throw new Error("reload " + r.status); return r.json(); })
        .then(function (c) {
          return "03A" + c.nonce + "." + hash(c.nonce + "|" + opts.action + "|" + navigator.userAgent);
        });
    },
  } };
})();`;
}

/** The page: flight data with the models (two pushes) and the reCAPTCHA script. */
function appPage(models: FakeArenaModel[], siteKey: string, o: FakeArenaOptions): string {
  const flight = `1:"$Sreact.fragment"\n5:["$","$L6",null,${
    JSON.stringify({
      initialModels: models,
      initialModelAId: models[0]?.id ?? null,
      mode: "direct",
    })
  }]\n`;
  const half = Math.floor(flight.length / 2);
  const push = (chunk: string) =>
    `<script>self.__next_f.push(${JSON.stringify([1, chunk]).replaceAll("<", "\\u003c")})</script>`;
  const render = o.hideSiteKey ? "explicit" : siteKey;
  const recaptcha = o.noRecaptcha
    ? ""
    : `<script src="/recaptcha/enterprise.js?render=${render}" async></script>`;
  return `<!DOCTYPE html><html lang="en"><head><title>LMArena</title>${recaptcha}</head>
<body><div id="root"><textarea name="message"></textarea></div>
<script>(self.__next_f=self.__next_f||[]).push([0])</script>${push(flight.slice(0, half))}${
    push(flight.slice(half))
  }</body></html>`;
}

function cookiesOf(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Why an evaluation body is refused (400), or undefined. */
function badBody(b: Record<string, unknown> | undefined, models: FakeArenaModel[]) {
  if (!b) return "body: expected a JSON object";
  for (const f of ["id", "userMessageId", "modelAMessageId"]) {
    if (typeof b[f] !== "string" || !UUID7.test(b[f] as string)) return `${f}: expected a UUIDv7`;
  }
  if (new Set([b.id, b.userMessageId, b.modelAMessageId]).size !== 3) return "ids must differ";
  if (b.mode !== "direct-battle") return "mode: expected 'direct-battle' with modelAId";
  if (!models.some((m) => m.id === b.modelAId)) return "modelAId: Invalid model";
  const u = b.userMessage as Record<string, unknown> | undefined;
  if (!u || typeof u.content !== "string" || u.content.trim() === "") {
    return "userMessage.content: required";
  }
  if (!Array.isArray(u.experimental_attachments)) {
    return "userMessage.experimental_attachments: required";
  }
  if (!u.metadata || typeof u.metadata !== "object") return "userMessage.metadata: required";
  if (b.modality !== "chat") return "modality: expected 'chat' for a text model";
  if (typeof b.recaptchaV3Token !== "string") return "recaptchaV3Token: required";
  return undefined;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Starts the fake. */
export async function startFakeArena(o: FakeArenaOptions = {}): Promise<FakeArena> {
  const siteKey = o.siteKey ?? "6LfakeArenaSiteKey000000000000000000000";
  const models = o.models ?? defaultModels();
  const nonces = new Map<string, { ua: string; at: number; used: boolean }>();
  const pending = new Map<string, string>(); // challenge nonce -> user agent
  const clearances = new Map<string, string>(); // cf_clearance -> user agent
  const requests: GateRecorded[] = [];
  const state = {
    evaluations: [] as EvaluationCall[],
    tokensIssued: 0,
    tokensRefused: 0,
    pagesServed: 0,
    challengesServed: 0,
    sessions: new Set<string>(o.sessions ?? []),
    spoiled: 0,
    respond: (_call: EvaluationCall): ArenaScript => ({ text: "Hello from the arena!" }),
  };

  /** Cloudflare: undefined when the request may pass, else the challenge. */
  const cloudflare = (req: Request): Response | undefined => {
    if (!o.cloudflare) return undefined;
    const ua = req.headers.get("user-agent") ?? "";
    const token = cookiesOf(req).get("cf_clearance");
    if (token) {
      if (clearances.get(token) === ua) return undefined;
      const [nonce, answer] = token.split(".");
      if (pending.get(nonce) === ua && answer === pageHash(nonce + ua)) {
        pending.delete(nonce);
        clearances.set(token, ua);
        return undefined;
      }
    }
    const nonce = crypto.randomUUID().replaceAll("-", "");
    pending.set(nonce, ua);
    state.challengesServed++;
    return new Response(challengePage(nonce, o.challengeDelayMs ?? 300), {
      status: 403,
      headers: {
        "content-type": "text/html; charset=UTF-8",
        "cf-mitigated": "challenge",
        server: "cloudflare",
      },
    });
  };

  /** The token's verdict: true when valid (and now used). */
  const tokenOk = (token: string, ua: string): boolean => {
    const m = /^03A([0-9a-f]{32})\.([0-9a-f]+)$/.exec(token);
    const issued = m ? nonces.get(m[1]) : undefined;
    if (!m || !issued || issued.used || Date.now() - issued.at > 120_000) return false;
    if (state.spoiled > 0) {
      state.spoiled--;
      issued.used = true;
      return false;
    }
    if (issued.ua !== ua || m[2] !== pageHash(`${m[1]}|chat_submit|${ua}`)) return false;
    issued.used = true;
    return true;
  };

  const handle = async (req: Request): Promise<Response> => {
    const rec = await recordRequest(req);
    requests.push(rec);
    const blocked = cloudflare(req);
    if (blocked) return blocked;
    const ua = req.headers.get("user-agent") ?? "";
    if (req.method === "GET" && rec.path === "/") {
      state.pagesServed++;
      const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8" };
      if (!state.sessions.has(cookiesOf(req).get("arena-auth-prod-v1") ?? "")) {
        const session = `base64-${crypto.randomUUID()}`;
        state.sessions.add(session);
        headers["set-cookie"] = `arena-auth-prod-v1=${session}; Path=/; SameSite=Lax; Secure`;
      }
      return new Response(appPage(models, siteKey, o), { headers });
    }
    if (req.method === "GET" && rec.path === "/recaptcha/enterprise.js") {
      return new Response(recaptchaScript(), {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      });
    }
    if (req.method === "POST" && rec.path === "/recaptcha/enterprise/reload") {
      if (rec.query.get("k") !== siteKey) return json({ error: "invalid site key" }, 400);
      const nonce = crypto.randomUUID().replaceAll("-", "");
      nonces.set(nonce, { ua, at: Date.now(), used: false });
      state.tokensIssued++;
      return json({ nonce });
    }
    if (req.method === "POST" && rec.path === "/nextjs-api/stream/create-evaluation") {
      const session = cookiesOf(req).get("arena-auth-prod-v1") ?? "";
      if (!state.sessions.has(session)) return json({ error: "Unauthorized" }, 401);
      const body = rec.json as Record<string, unknown> | undefined;
      if (!tokenOk(String(body?.recaptchaV3Token ?? ""), ua)) {
        state.tokensRefused++;
        return json({ error: "recaptcha validation failed" }, 403);
      }
      const bad = badBody(body, models);
      if (bad) return json({ error: bad }, 400);
      const call: EvaluationCall = {
        body: body as EvaluationCall["body"],
        model: models.find((m) => m.id === body!.modelAId)!,
        session,
        rec,
      };
      state.evaluations.push(call);
      return answer(state.respond(call), rec);
    }
    return new Response("Not found", { status: 404 });
  };

  const gate = await startTlsGate(handle);
  return {
    origin: gate.origin,
    caFile: gate.caFile,
    gate,
    siteKey,
    models,
    requests,
    get evaluations() {
      return state.evaluations;
    },
    get tokensIssued() {
      return state.tokensIssued;
    },
    get tokensRefused() {
      return state.tokensRefused;
    },
    get pagesServed() {
      return state.pagesServed;
    },
    get challengesServed() {
      return state.challengesServed;
    },
    get sessions() {
      return state.sessions;
    },
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    revokeClearances: () => clearances.clear(),
    revokeSessions: () => state.sessions.clear(),
    spoilTokens: (n) => {
      state.spoiled = n;
    },
    close: () => gate.close(),
  };
}

/** The stream of one accepted evaluation. */
function answer(s: ArenaScript, rec: GateRecorded): Response {
  if (s.status) {
    return new Response(s.status.body, {
      status: s.status.code,
      headers: { "content-type": s.status.contentType ?? "application/json", ...s.status.headers },
    });
  }
  const lines: string[] = [];
  const record = (prefix: string, v: unknown) => lines.push(`${prefix}:${JSON.stringify(v)}\n`);
  if (s.heartbeat) record("a2", [{ type: "heartbeat" }]);
  for (const p of pieces(s.reasoning ?? "", s.pieceSize ?? 4)) record("ag", p);
  for (const p of pieces(s.text ?? "", s.pieceSize ?? 4)) record("a0", p);
  if (s.images) record("a2", s.images.map((image) => ({ type: "image", image })));
  if (s.arenaError) record("a0", "hasArenaError");
  if (s.error) record("a3", s.error);
  if (!s.truncate && !s.hang && !s.error && !s.arenaError) {
    record("ad", {
      finishReason: s.finishReason ?? "stop",
      usage: s.usage ?? { promptTokens: 0, completionTokens: 0 },
    });
  }
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for (const line of lines) {
          if (s.delayMs) await sleep(s.delayMs);
          if (rec.wasAborted) return;
          controller.enqueue(enc.encode(line));
        }
        if (s.hang) {
          await rec.aborted;
          return;
        }
        controller.close();
      } catch {
        // The client went away.
      }
    },
    cancel() {
      rec.markAborted();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/plain; charset=utf-8", "x-vercel-ai-data-stream": "v1" },
  });
}
