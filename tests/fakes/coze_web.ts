/**
 * A fake of Coze's web API and the services around it, each on its own 127.0.0.1 port as the real
 * ones are separate hosts:
 * - `api`: www.coze.com's `/api/conversation/{get_message_list,chat,clear_message,create_section}`
 *   and `/api/draftbot/{get_bot_info,update}`. Every call needs a known msToken in the query; the
 *   cookie must carry a logged-in `sessionid` (else HTTP 200 `{"code":700012006,"msg":"Login
 *   verification is invalid"}`); the chat must carry `X-Bogus`/`_signature` that sign its exact
 *   body (else `{"code":700012014,"msg":"We've detected unusual traffic ..."}`), and answers
 *   `text/event-stream` with `event:message` / `data:{json}` lines and `event:done`.
 * - `sign`: the signing service (`GET /report`, `POST /?msToken=` -> `{ok,data:{bogus,signature}}`).
 * - `report`: the msToken report host (`POST /web/report` -> `Set-Cookie: msToken=...`).
 * - `sdk`: api.coze.com's web SDK (`GET /open_api/v1/bot/onboarding`, `POST /open_api/v1/web_chat`).
 * - `upload`: the image host (`POST /upload`, multipart field `image`, bearer auth -> `{"URL"}`).
 *
 * What the bot answers is scripted per test with `respond`.
 *
 * @module
 */
import { type Fake, json, type Recorded, serveFake, sleep, streamParts } from "./serve.ts";

/** A bot the fake knows. */
export interface FakeBot {
  id: string;
  /** The published `bot_version` (normal mode checks it when set). */
  version?: string;
  /** The space the bot lives in (owner mode). */
  spaceId?: string;
  /** The `sessionid` of the account that owns the bot (owner mode). */
  owner?: string;
  /** Published to the web SDK channel. */
  websdk?: boolean;
  /** The model of the draft bot. */
  model?: string;
}

/** What the bot answers to one chat. */
export interface AnswerScript {
  /** The answer, split into pieces of `pieceSize` characters (default 3). */
  text?: string;
  /** The answer's pieces exactly (instead of `text`). */
  pieces?: string[];
  pieceSize?: number;
  /** Milliseconds between stream events. */
  delayMs?: number;
  /** Milliseconds before the response headers are sent. */
  headersDelayMs?: number;
  /** Refuse the chat with this JSON body (HTTP 200, application/json) instead of streaming. */
  refuse?: { code: number; msg: string };
  /** Answer with this HTTP status and body instead. */
  status?: { status: number; body: string; contentType?: string };
  /** A `tool_response` of the bot that starts with `Failed:` before the answer. */
  toolFailure?: string;
  /** A `{"code":...}` line after the answer pieces. */
  streamError?: { code: number; msg: string };
  /** Send `verbose` and `follow_up` messages around the answer (default true). */
  extras?: boolean;
}

/** One chat the fake received, as `respond` sees it. */
export interface ChatCall {
  kind: "chat" | "web_chat";
  body: Record<string, unknown>;
  query: string;
  bot: FakeBot;
  /** The draft bot's settings at the time of the chat (owner mode). */
  draft?: DraftState;
  /** The logged-in session (cookie chats). */
  session?: string;
}

/** A draft bot's settings as `draftbot/update` left them. */
export interface DraftState {
  otherInfo: Record<string, unknown>;
  systemInfoAll: { prompt_type: number; data: string; record_id?: string }[];
  updates: number;
}

/** Options of the fake. */
export interface FakeCozeOptions {
  /** `sessionid` values of logged-in accounts. */
  sessions?: string[];
  bots?: FakeBot[];
  /** msTokens accepted besides the ones the report host made. */
  msTokens?: string[];
}

/** One image the upload host received. */
export interface UploadedImage {
  filename: string;
  type: string;
  bytes: Uint8Array;
  url: string;
}

/** The running fakes. */
export interface FakeCoze {
  api: Fake;
  sign: Fake;
  report: Fake;
  sdk: Fake;
  upload: { origin: string; requests: { headers: Headers }[]; images: UploadedImage[] };
  /** The `coze` section of config.yaml pointing at the fakes. */
  config: Record<string, unknown>;
  /**
   * How the signing service behaves: `ok`, `stale` (signatures Coze no longer accepts, as after
   * one of Coze's updates) or `refuse` (`{"ok":false,"msg":...}`).
   */
  signer: "ok" | "stale" | "refuse";
  /** Decides each answer (default: "Hello from coze"). */
  respond: (call: ChatCall) => AnswerScript;
  /** Every chat received, in order. */
  chats: ChatCall[];
  /** Draft bots by id. */
  drafts: Map<string, DraftState>;
  /** Messages kept per conversation (cleared by `clear_message`). */
  history: Map<string, { role: string; content: string }[]>;
  /** msTokens the report host made. */
  issued: string[];
  /** Requests to the api host at `path` (`/api/conversation/chat`, ...). */
  calls(path: string): Recorded[];
  close(): Promise<void>;
}

const LOGIN_INVALID = { code: 700012006, msg: "Login verification is invalid" };
const UNUSUAL = {
  code: 700012014,
  msg: "We've detected unusual traffic from your network, so Coze is temporarily unavailable.",
};

/** The signature the fake signing service makes and the fake api checks. */
export async function fakeSignature(body: string, msToken: string) {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${msToken}\n${body}`)),
  );
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { bogus: `DFSzswVL${hex.slice(0, 20)}`, signature: `_02B4Z6wo00f01${hex.slice(20, 52)}` };
}

function randomToken(n: number): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return [...crypto.getRandomValues(new Uint8Array(n))].map((b) => chars[b % 64]).join("");
}

function digits(n: number): string {
  return [...crypto.getRandomValues(new Uint8Array(n))].map((b) => String(b % 10)).join("");
}

function cookieOf(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function pieces(script: AnswerScript): string[] {
  if (script.pieces) return script.pieces;
  const text = script.text ?? "Hello from coze";
  const size = script.pieceSize ?? 3;
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The event stream of one answer. */
function answerStream(script: AnswerScript, conversationId: string, sectionId: string): Response {
  const replyId = digits(19);
  let seq = 0;
  const event = (message: Record<string, unknown>, isFinish = false) =>
    `event:message\ndata:${
      JSON.stringify({
        message: {
          message_id: digits(19),
          reply_id: replyId,
          section_id: sectionId,
          content_type: "text",
          extra_info: { local_message_id: "", input_tokens: "", output_tokens: "" },
          ...message,
        },
        is_finish: isFinish,
        index: 0,
        conversation_id: conversationId,
        seq_id: seq++,
      })
    }\n\n`;
  const extras = script.extras !== false;
  async function* parts() {
    if (script.toolFailure) {
      yield event({ role: "assistant", type: "function_call", content: '{"name":"tool"}' });
      yield event({ role: "assistant", type: "tool_response", content: script.toolFailure });
    }
    for (const piece of pieces(script)) {
      yield event({ role: "assistant", type: "answer", content: piece });
    }
    if (script.streamError) {
      yield `${JSON.stringify(script.streamError)}\n`;
      return;
    }
    yield event({ role: "assistant", type: "answer", content: "" }, true);
    if (extras) {
      yield event({
        role: "assistant",
        type: "verbose",
        content: JSON.stringify({ msg_type: "generate_answer_finish", data: "" }),
      });
      yield event({ role: "assistant", type: "follow_up", content: "Tell me more?" });
    }
    yield "event:done\ndata:{}\n\n";
  }
  return streamParts(parts(), "text/event-stream; charset=utf-8", script.delayMs ?? 0);
}

/** Starts the fakes. */
export async function startFakeCoze(options: FakeCozeOptions = {}): Promise<FakeCoze> {
  const sessions = new Set(options.sessions ?? ["session-one-0123456789abcdef"]);
  const bots = new Map((options.bots ?? []).map((b) => [b.id, b]));
  const accepted = new Set(options.msTokens ?? []);
  const issued: string[] = [];
  const chats: ChatCall[] = [];
  const drafts = new Map<string, DraftState>();
  const history = new Map<string, { role: string; content: string }[]>();
  const conversations = new Map<string, { session: string; bot: string; section: string }>();
  const conversationIds = new Map<string, string>();
  const sdkUsers = new Map<string, string>();
  const images: UploadedImage[] = [];
  const uploadRequests: { headers: Headers }[] = [];

  const draftOf = (bot: FakeBot): DraftState => {
    let d = drafts.get(bot.id);
    if (!d) {
      d = {
        otherInfo: {
          model: bot.model ?? "gpt-4o-128k",
          temperature: 0.8,
          top_p: 1,
          max_tokens: 4096,
        },
        systemInfoAll: [{ prompt_type: 1, data: "the bot's own persona", record_id: "" }],
        updates: 0,
      };
      drafts.set(bot.id, d);
    }
    return d;
  };

  const fake: FakeCoze = {} as FakeCoze;
  fake.respond = () => ({ text: "Hello from coze" });
  fake.signer = "ok";

  const report = await serveFake((req, rec) => {
    if (req.method !== "POST" || rec.path !== "/web/report") return json({ code: 404 }, 404);
    const body = rec.json as Record<string, unknown> | undefined;
    if (!body || typeof body.strData !== "string" || typeof body.magic !== "number") {
      return json({ code: 1, msg: "bad report" }, 400);
    }
    const token = randomToken(107);
    issued.push(token);
    return json({ code: 0, msg: "ok" }, 200, {
      "set-cookie":
        `msToken=${token}; Path=/; Domain=.byteoversea.com; Max-Age=864000; Secure; SameSite=None`,
    });
  });

  const sign = await serveFake(async (req, rec) => {
    if (fake.signer === "refuse") return json({ ok: false, msg: "sign service overloaded" });
    if (req.method === "GET" && rec.path === "/report") {
      return json({
        ok: true,
        msg: "",
        data: {
          url: report.origin,
          magic: 538969122,
          version: 1,
          dataType: 8,
          strData: randomToken(64),
          tspFromClient: Date.now(),
        },
      });
    }
    if (req.method === "POST" && rec.path === "/") {
      if (rec.json === undefined || typeof rec.json !== "object") {
        return json({ ok: false, msg: "payload must be a JSON object" });
      }
      const data = await fakeSignature(rec.body, rec.query.get("msToken") ?? "");
      if (fake.signer === "stale") data.bogus = `DFSzswVL${"0".repeat(20)}`;
      return json({ ok: true, msg: "", data });
    }
    return json({ ok: false, msg: "not found" }, 404);
  });

  const tokenOk = (rec: Recorded) => {
    const t = rec.query.get("msToken");
    return !!t && (accepted.has(t) || issued.includes(t));
  };

  const api = await serveFake(async (req, rec) => {
    if (req.method !== "POST") return json({ code: 404, msg: "not found" }, 404);
    if (!(req.headers.get("content-type") ?? "").includes("application/json")) {
      return json({ code: 4000, msg: "invalid content type" });
    }
    if (!tokenOk(rec)) return json(UNUSUAL);
    const session = cookieOf(req.headers, "sessionid");
    if (!session || !sessions.has(session)) return json(LOGIN_INVALID);
    if (cookieOf(req.headers, "msToken") !== rec.query.get("msToken")) return json(UNUSUAL);
    const body = (rec.json ?? {}) as Record<string, unknown>;
    switch (rec.path) {
      case "/api/conversation/get_message_list": {
        const bot = bots.get(String(body.bot_id));
        if (!bot) return json({ code: 702092001, msg: "Bot not exist" });
        if (typeof body.scene !== "number" || body.cursor !== "0") {
          return json({ code: 4000, msg: "invalid parameter" });
        }
        // One conversation per account, bot and scene, as the web client sees it.
        const key = `${session}/${bot.id}/${body.scene}`;
        let id = conversationIds.get(key);
        if (!id) {
          id = digits(19);
          conversationIds.set(key, id);
          conversations.set(id, { session, bot: bot.id, section: digits(19) });
        }
        return json({
          code: 0,
          msg: "",
          message_list: history.get(id) ?? [],
          cursor: "0",
          has_more: false,
          conversation_id: id,
          last_section_id: conversations.get(id)!.section,
        });
      }
      case "/api/conversation/chat": {
        const expected = await fakeSignature(rec.body, rec.query.get("msToken")!);
        if (
          rec.query.get("X-Bogus") !== expected.bogus ||
          rec.query.get("_signature") !== expected.signature
        ) return json(UNUSUAL);
        const bot = bots.get(String(body.bot_id));
        if (!bot) return json({ code: 702092001, msg: "Bot not exist" });
        const conv = conversations.get(String(body.conversation_id));
        if (!conv || conv.session !== session || conv.bot !== bot.id) {
          return json({ code: 700012054, msg: "conversation not found" });
        }
        if (
          typeof body.query !== "string" || body.query === "" || body.stream !== true ||
          typeof body.local_message_id !== "string" || body.content_type !== "text" ||
          typeof body.scene !== "number"
        ) return json({ code: 4000, msg: "invalid parameter" });
        let draft: DraftState | undefined;
        if (body.draft_mode === true) {
          if (bot.owner !== session || body.space_id !== bot.spaceId) {
            return json({ code: 702082002, msg: "You do not have permission to edit this bot" });
          }
          draft = structuredClone(draftOf(bot));
        } else if (bot.version !== undefined && body.bot_version !== bot.version) {
          return json({ code: 702092002, msg: "bot version not found" });
        }
        const call: ChatCall = { kind: "chat", body, query: body.query, bot, draft, session };
        chats.push(call);
        const script = fake.respond(call);
        if (script.headersDelayMs) await sleep(script.headersDelayMs);
        if (script.refuse) return json(script.refuse);
        if (script.status) {
          return new Response(script.status.body, {
            status: script.status.status,
            headers: { "content-type": script.status.contentType ?? "text/plain" },
          });
        }
        const h = history.get(String(body.conversation_id)) ?? [];
        h.push({ role: "user", content: body.query }, {
          role: "assistant",
          content: pieces(script).join(""),
        });
        history.set(String(body.conversation_id), h);
        return answerStream(script, String(body.conversation_id), conv.section);
      }
      case "/api/conversation/clear_message": {
        const conv = conversations.get(String(body.conversation_id));
        if (!conv || conv.session !== session || conv.bot !== body.bot_id) {
          return json({ code: 700012054, msg: "conversation not found" });
        }
        history.delete(String(body.conversation_id));
        return json({ code: 0, msg: "" });
      }
      case "/api/conversation/create_section": {
        const conv = conversations.get(String(body.conversation_id));
        if (!conv || conv.session !== session) {
          return json({ code: 700012054, msg: "conversation not found" });
        }
        conv.section = digits(19);
        return json({ code: 0, msg: "", new_section_id: conv.section });
      }
      case "/api/draftbot/get_bot_info":
      case "/api/draftbot/update": {
        const bot = bots.get(String(body.bot_id));
        if (!bot) return json({ code: 702092001, msg: "Bot not exist" });
        if (bot.owner !== session || body.space_id !== bot.spaceId) {
          return json({ code: 702082002, msg: "You do not have permission to edit this bot" });
        }
        const d = draftOf(bot);
        if (rec.path === "/api/draftbot/get_bot_info") {
          return json({
            code: 0,
            msg: "",
            data: {
              bot_info: { bot_id: bot.id, name: "fake bot", space_id: bot.spaceId },
              work_info: {
                other_info: JSON.stringify(d.otherInfo),
                system_info_all: JSON.stringify(d.systemInfoAll),
              },
            },
          });
        }
        const work = body.work_info as Record<string, unknown> | undefined;
        if (!work || typeof work !== "object") {
          return json({ code: 4000, msg: "invalid parameter" });
        }
        try {
          if (work.other_info !== undefined) {
            if (typeof work.other_info !== "string") throw new Error("other_info");
            d.otherInfo = JSON.parse(work.other_info);
          }
          if (work.system_info_all !== undefined) {
            if (typeof work.system_info_all !== "string") throw new Error("system_info_all");
            d.systemInfoAll = JSON.parse(work.system_info_all);
          }
        } catch {
          return json({ code: 4000, msg: "invalid work_info" });
        }
        d.updates++;
        return json({ code: 0, msg: "", data: { has_change: true, check_not_pass: false } });
      }
    }
    return json({ code: 404, msg: "not found" }, 404);
  });

  const sdk = await serveFake(async (req, rec) => {
    if (!tokenOk(rec)) return json(UNUSUAL);
    if (req.method === "GET" && rec.path === "/open_api/v1/bot/onboarding") {
      const bot = bots.get(rec.query.get("bot_id") ?? "");
      if (rec.query.get("source") !== "web_sdk") return json({ code: 4000, msg: "invalid source" });
      if (!bot || !bot.websdk) {
        return json({ code: 702242003, msg: "The bot is not published to the Web SDK" });
      }
      const user = digits(19);
      sdkUsers.set(user, bot.id);
      return json({
        code: 0,
        msg: "",
        user_id: user,
        onboarding: { prologue: "Hi", suggested_questions: [] },
      });
    }
    if (req.method === "POST" && rec.path === "/open_api/v1/web_chat") {
      const body = (rec.json ?? {}) as Record<string, unknown>;
      const bot = bots.get(String(body.bot_id));
      if (!bot || !bot.websdk) {
        return json({ code: 702242003, msg: "The bot is not published to the Web SDK" });
      }
      if (sdkUsers.get(String(body.user)) !== bot.id) {
        return json({ code: 702242004, msg: "invalid user" });
      }
      const hist = body.chat_history;
      const histOk = Array.isArray(hist) &&
        hist.every((m, i) =>
          m && typeof m === "object" && (m.role === "user" || m.role === "assistant") &&
          typeof m.content === "string" && m.index === i &&
          m.type === (m.role === "assistant" ? "answer" : "ack") && m.bot_id === bot.id &&
          typeof m.message_id === "string"
        );
      if (
        !histOk || typeof body.query !== "string" || body.query === "" || body.stream !== true ||
        typeof body.conversation_id !== "string" || typeof body.scene !== "number"
      ) return json({ code: 4000, msg: "invalid parameter" });
      const call: ChatCall = { kind: "web_chat", body, query: body.query, bot };
      chats.push(call);
      const script = fake.respond(call);
      if (script.headersDelayMs) await sleep(script.headersDelayMs);
      if (script.refuse) return json(script.refuse);
      if (script.status) {
        return new Response(script.status.body, {
          status: script.status.status,
          headers: { "content-type": script.status.contentType ?? "text/plain" },
        });
      }
      return answerStream(script, String(body.conversation_id), digits(19));
    }
    return json({ code: 404, msg: "not found" }, 404);
  });

  // The upload host reads multipart bodies, so it is not a `serveFake` (that reads text).
  let uploadPort!: (port: number) => void;
  const uploadReady = new Promise<number>((r) => uploadPort = r);
  const uploadServer = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => uploadPort(port),
  }, async (req) => {
    const url = new URL(req.url);
    uploadRequests.push({ headers: req.headers });
    if (req.method === "GET" && url.pathname.startsWith("/file/")) {
      const img = images.find((i) => new URL(i.url).pathname === url.pathname);
      return img
        ? new Response(img.bytes as BodyInit, { headers: { "content-type": img.type } })
        : new Response("not found", { status: 404 });
    }
    if (req.method !== "POST" || url.pathname !== "/upload") {
      return new Response("not found", { status: 404 });
    }
    if (!/^Bearer \S+/.test(req.headers.get("authorization") ?? "")) {
      return json({ detail: "Not authenticated" }, 401);
    }
    let form: FormData;
    try {
      form = await req.formData();
    } catch {
      return json({ detail: "expected multipart/form-data" }, 422);
    }
    const file = form.get("image");
    if (!(file instanceof File) || !file.type.startsWith("image/")) {
      return json({ detail: "field 'image' must be an image file" }, 422);
    }
    const ext = file.name.includes(".") ? file.name.slice(file.name.lastIndexOf(".")) : "";
    const img: UploadedImage = {
      filename: file.name,
      type: file.type,
      bytes: new Uint8Array(await file.arrayBuffer()),
      url: `http://127.0.0.1:${await uploadReady}/file/${randomToken(12)}${ext}`,
    };
    images.push(img);
    return json({ URL: img.url });
  });
  const uploadOrigin = `http://127.0.0.1:${await uploadReady}`;

  Object.assign(fake, {
    api,
    sign,
    report,
    sdk,
    upload: { origin: uploadOrigin, requests: uploadRequests, images },
    config: {
      mode: "web",
      "web-url": api.origin,
      "sign-url": sign.origin,
      "websdk-url": sdk.origin,
      "upload-url": uploadOrigin,
    },
    chats,
    drafts,
    history,
    issued,
    calls: (path: string) => api.requests.filter((r) => r.path === path),
    async close() {
      await Promise.all([api.close(), sign.close(), report.close(), sdk.close()]);
      await uploadServer.shutdown();
    },
  });
  return fake;
}

/** Waits `ms` (re-exported for tests that script slow answers). */
export { sleep };
