/**
 * A fake of Bing Chat (Sydney) as the reference describes it:
 *
 * - `GET /turing/conversation/create?bundleVersion=` (cookie `_U` required): 200 JSON
 *   `{conversationId, clientId, result:{value,message}}`, the signature in
 *   `X-Sydney-Encryptedconversationsignature`, and `Set-Cookie: MUID=`; conversation ids are
 *   `51D|BingProd|...` for signed-in `_U` values and `51D|BingProdUnAuthenticatedUsers|...`
 *   otherwise; refused accounts get `result.value` `UnauthorizedRequest`.
 * - websocket `/sydney/ChatHub?sec_access_token=`: the SignalR JSON protocol with `\x1e` records
 *   (handshake, pings, the `chat` invocation checked field by field, type 1 `update`s with the
 *   cumulative text, type 2 final item with `result` and `throttling`, type 3 completion).
 *   Frames can carry one record, several records, or half a record.
 * - `GET /codex/plugins/available/get` and `POST /images/kblob` (multipart).
 *
 * @module
 */
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

const RS = "\x1e";

/** What the fake hub answers to one invocation. */
export interface BingScript {
  /** The answer text (sent as cumulative updates). */
  text?: string;
  /** Characters added per update (default 4). */
  pieceSize?: number;
  delayMs?: number;
  /** `one` record per frame (default), `batch` (all records of a step in one frame), `split` (each record cut in two frames). */
  framing?: "one" | "batch" | "split";
  /** Bing's search steps (InternalSearchQuery, InternalLoaderMessage) first. */
  search?: boolean;
  /** `result` of the final item (default `Success`). */
  result?: { value: string; message?: string };
  /** Send a type 3 completion with this error instead of the final item. */
  error?: string;
  /** An apology replacing the answer after this many characters of text (0: instead of it). */
  apologyAfter?: number;
  /** `spokenText` of a final bot notice, with no answer text. */
  notice?: string;
  throttling?: { max: number; used: number };
  /** After the text, keep the socket open without a final item. */
  hang?: boolean;
  /** After the text, close the socket without a final item. */
  drop?: boolean;
  /** The final item carries more text than the updates did. */
  finalText?: string;
}

/** One invocation as the fake received it. */
export interface Invocation {
  /** The `chat` argument. */
  hub: Record<string, unknown>;
  cookie: string;
  headers: Headers;
  query: URLSearchParams;
  /** Client records received after the invocation (pings, type 7). */
  after: Record<string, unknown>[];
  /** True once the fake started sending the end of its answer (final item, error, drop). */
  completed: boolean;
  /** True when the socket closed before the fake finished its answer. */
  closedEarly: boolean;
  /** Resolves when the socket closed. */
  closed: Promise<void>;
}

/** A running fake Bing. */
export interface FakeBing {
  origin: string;
  /** `ws://127.0.0.1:<port>` */
  hubUrl: string;
  requests: Recorded[];
  invocations: Invocation[];
  /** kblob uploads: the parsed knowledgeRequest and the image bytes. */
  uploads: { knowledgeRequest: Record<string, unknown>; image: Uint8Array; blobId: string }[];
  /** Invocations whose socket is open right now, and the most at once. */
  active: number;
  maxActive: number;
  /** `_U` values that are signed in; any other is anonymous. */
  signedIn: Set<string>;
  /** `_U` values whose create is refused (`UnauthorizedRequest`). */
  refused: Set<string>;
  /** When set, the ChatHub refuses the websocket handshake with this HTTP status. */
  hubStatus?: number;
  respond: (inv: Invocation) => BingScript;
  close(): Promise<void>;
}

/** The Search plugin id the fake offers. */
export const SEARCH_PLUGIN_ID = "c310c353-b9f0-4d76-ab0d-1dd5e979cf68";

const TONES = ["Creative", "Balanced", "Precise"];

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function hex(n: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("").toUpperCase();
}

/** Problems of an invocation argument, as Bing would refuse it. */
function checkHub(
  hub: Record<string, unknown>,
  conv: { id: string; clientId: string },
): string | undefined {
  if (hub.source !== "cib") return "source must be cib";
  if (hub.conversationId !== conv.id) return "conversationId does not match the signature";
  const p = hub.participant as { id?: unknown } | undefined;
  if (p?.id !== conv.clientId) return "participant.id does not match the conversation's client";
  if (!TONES.includes(hub.tone as string)) return `unknown tone ${hub.tone}`;
  if (!Array.isArray(hub.optionsSets)) return "optionsSets missing";
  if (typeof hub.traceId !== "string" || !/^[0-9a-f]{32}$/.test(hub.traceId)) return "bad traceId";
  const m = hub.message as Record<string, unknown> | undefined;
  if (!m || typeof m.text !== "string" || m.text === "") return "message.text missing";
  if (m.author !== "user" || m.messageType !== "Chat") return "message author/type";
  if (hub.previousMessages !== undefined && !Array.isArray(hub.previousMessages)) {
    return "previousMessages must be a list";
  }
  return undefined;
}

/** Starts the fake. */
export async function startFakeBing(): Promise<FakeBing> {
  const conversations = new Map<string, { id: string; clientId: string; u: string }>();
  const invocations: Invocation[] = [];
  const uploads: FakeBing["uploads"] = [];
  const signedIn = new Set<string>();
  const refused = new Set<string>();
  const state = {
    respond: (_inv: Invocation): BingScript => ({ text: "Hello, this is Bing." }),
    active: 0,
    maxActive: 0,
  };

  const server = await serveFake(async (req, rec) => {
    const u = cookieValue(req.headers.get("cookie"), "_U");
    if (rec.method === "GET" && rec.path === "/turing/conversation/create") {
      if (!rec.query.get("bundleVersion")) {
        return json({ result: { value: "InvalidRequest", message: "bundleVersion missing" } }, 400);
      }
      if (!u || refused.has(u)) {
        return json({
          result: {
            value: "UnauthorizedRequest",
            message: "Sorry, you need to login first to access this service.",
          },
        });
      }
      const signature = `sig-${hex(24)}`;
      const id = `51D|${signedIn.has(u) ? "BingProd" : "BingProdUnAuthenticatedUsers"}|${hex(32)}`;
      const clientId = String(Math.floor(Math.random() * 1e15));
      conversations.set(signature, { id, clientId, u });
      return json(
        { conversationId: id, clientId, result: { value: "Success", message: null } },
        200,
        {
          "x-sydney-encryptedconversationsignature": signature,
          "set-cookie": `MUID=${hex(16)}; domain=.bing.com; path=/; secure; SameSite=None`,
        },
      );
    }
    if (rec.method === "GET" && rec.path === "/codex/plugins/available/get") {
      return json({
        IsSuccess: true,
        Value: [
          {
            Id: "a1b2c3d4-0000-4000-8000-000000000001",
            LegalInfoUrl: "https://www.instacart.com/terms",
          },
          { Id: SEARCH_PLUGIN_ID, LegalInfoUrl: "https://www.bing.com/new/termsofuse" },
        ],
      });
    }
    if (rec.method === "POST" && rec.path === "/images/kblob") {
      const form = await new Request("http://x/", {
        method: "POST",
        headers: { "content-type": req.headers.get("content-type") ?? "" },
        body: rec.body,
      }).formData().catch(() => undefined);
      const kr = form?.get("knowledgeRequest");
      const image = form?.get("imageBase64");
      if (typeof kr !== "string" || typeof image !== "string") {
        return json({ error: "knowledgeRequest and imageBase64 are required" }, 400);
      }
      const knowledgeRequest = JSON.parse(kr) as Record<string, unknown>;
      const convoid = (knowledgeRequest.knowledgeRequest as { convoData?: { convoid?: string } })
        ?.convoData?.convoid;
      if (![...conversations.values()].some((c) => c.id === convoid)) {
        return json({ error: "unknown conversation" }, 400);
      }
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.fromBase64(image);
      } catch {
        return json({ error: "imageBase64 is not base64" }, 400);
      }
      const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
      const png = bytes[0] === 0x89 && bytes[1] === 0x50;
      if (!jpeg && !png) return json({ error: "unsupported image" }, 400);
      const blobId = hex(16);
      uploads.push({ knowledgeRequest, image: bytes, blobId });
      return json({ blobId, processedBlobId: `p${blobId}` });
    }
    if (rec.path === "/sydney/ChatHub") {
      if (fake.hubStatus) return new Response("refused", { status: fake.hubStatus });
      const conv = conversations.get(rec.query.get("sec_access_token") ?? "");
      if (!conv) return new Response("Unauthorized", { status: 401 });
      if (u !== conv.u) return new Response("Forbidden", { status: 403 });
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("websocket expected", { status: 400 });
      }
      const headers = new Headers(req.headers);
      const { socket, response } = Deno.upgradeWebSocket(req);
      hub(socket, conv, headers, rec.query);
      return response;
    }
    return new Response("Not Found", { status: 404 });
  });

  function hub(
    ws: WebSocket,
    conv: { id: string; clientId: string },
    headers: Headers,
    query: URLSearchParams,
  ) {
    let buffer = "";
    let handshaken = false;
    let inv: Invocation | undefined;
    let onClosed!: () => void;
    const closed = new Promise<void>((r) => onClosed = r);
    ws.onclose = () => {
      // An invocation is active until its answer is complete or its socket closes.
      if (inv && !inv.completed) {
        state.active--;
        inv.closedEarly = true;
      }
      onClosed();
    };
    ws.onmessage = (e) => {
      buffer += typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data);
      let i: number;
      while ((i = buffer.indexOf(RS)) >= 0) {
        const record = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        if (!handshaken) {
          if (record.protocol !== "json" || record.version !== 1) {
            ws.send(JSON.stringify({ error: "unsupported protocol" }) + RS);
            ws.close();
            return;
          }
          handshaken = true;
          ws.send("{}" + RS);
          continue;
        }
        if (inv) {
          inv.after.push(record);
          continue;
        }
        if (record.type === 6) continue;
        if (record.type === 4 && record.target === "chat") {
          const arg = record.arguments?.[0] ?? {};
          inv = {
            hub: arg,
            cookie: headers.get("cookie") ?? "",
            headers,
            query,
            after: [],
            completed: false,
            closedEarly: false,
            closed,
          };
          invocations.push(inv);
          state.active++;
          state.maxActive = Math.max(state.maxActive, state.active);
          const problem = checkHub(arg, conv);
          const script = problem
            ? { result: { value: "InvalidRequest", message: problem } }
            : state.respond(inv);
          answer(ws, inv, script, record.invocationId);
        }
      }
    };
  }

  /** Sends the answer; true when it ran to its end (final item, error or drop). */
  async function answer(
    ws: WebSocket,
    inv: Invocation,
    s: BingScript,
    invocationId: string,
  ): Promise<boolean> {
    const requestId = (inv.hub.message as { requestId?: string })?.requestId ?? "";
    const send = async (records: unknown[]) => {
      if (ws.readyState !== WebSocket.OPEN) return false;
      const texts = records.map((r) => JSON.stringify(r) + RS);
      const framing = s.framing ?? "one";
      const frames = framing === "batch" ? [texts.join("")] : framing === "split"
        ? texts.flatMap((
          t,
        ) => [t.slice(0, Math.ceil(t.length / 2)), t.slice(Math.ceil(t.length / 2))])
        : texts;
      for (const f of frames) {
        if (ws.readyState !== WebSocket.OPEN) return false;
        ws.send(f);
      }
      if (s.delayMs) await sleep(s.delayMs);
      return ws.readyState === WebSocket.OPEN;
    };
    const update = (m: Record<string, unknown>) => ({
      type: 1,
      target: "update",
      arguments: [{
        requestId,
        messages: [{ author: "bot", createdAt: new Date().toISOString(), ...m }],
      }],
    });
    const ping = { type: 6 };
    if (!await send([ping])) return false;
    if (s.search) {
      await send([
        update({
          text: "Searching the web for: `query`",
          messageType: "InternalSearchQuery",
          messageId: "s1",
        }),
        update({
          text: "Generating answers for you...",
          messageType: "InternalLoaderMessage",
          messageId: "s2",
        }),
      ]);
    }
    const messageId = crypto.randomUUID();
    const text = s.text ?? "";
    const size = s.pieceSize ?? 4;
    const limit = s.apologyAfter ?? text.length;
    const cuts: number[] = [];
    for (let end = size; end < limit; end += size) cuts.push(end);
    if (limit > 0) cuts.push(limit);
    const updates = cuts.map((end) =>
      update({ text: text.slice(0, end), messageId, offense: "None", contentOrigin: "DeepLeo" })
    );
    if ((s.framing ?? "one") === "batch") {
      if (updates.length > 0 && !await send(updates)) return false;
    } else {
      for (const u of updates) if (!await send([u])) return false;
    }
    if (s.apologyAfter !== undefined) {
      if (
        !await send([update({
          text: "Hmm…let’s try a different topic. Sorry about that. What else is on your mind?",
          messageId,
          offense: "Unknown",
          contentOrigin: "Apology",
        })])
      ) return false;
    }
    if (s.hang) return false;
    inv.completed = true;
    state.active--;
    if (s.drop) {
      ws.close(1011, "internal error");
      return true;
    }
    if (s.error) {
      await send([{ type: 3, invocationId, error: s.error }]);
      return true;
    }
    const bot: Record<string, unknown>[] = [];
    if (s.finalText ?? text) {
      bot.push({
        author: "bot",
        text: s.finalText ?? text,
        messageId,
        messageType: undefined,
        offense: "None",
      });
    }
    if (s.notice) {
      bot.push({
        author: "bot",
        text: s.notice,
        spokenText: s.notice,
        messageId: crypto.randomUUID(),
      });
      bot.push({
        author: "bot",
        text: "",
        messageType: "Disengaged",
        messageId: crypto.randomUUID(),
      });
    }
    const final = {
      type: 2,
      invocationId,
      item: {
        messages: [
          {
            author: "user",
            text: (inv.hub.message as { text?: string })?.text,
            messageId: requestId,
          },
          ...bot,
        ],
        firstNewMessageIndex: 1,
        conversationId: inv.hub.conversationId,
        requestId,
        result: s.result ?? { value: "Success", serviceVersion: "20240620.1" },
        throttling: s.throttling
          ? {
            maxNumUserMessagesInConversation: s.throttling.max,
            numUserMessagesInConversation: s.throttling.used,
          }
          : { maxNumUserMessagesInConversation: 30, numUserMessagesInConversation: 1 },
      },
    };
    await send([final, { type: 3, invocationId }]);
    return true;
  }

  const port = server.port;
  const fake: FakeBing = {
    origin: server.origin,
    hubUrl: `ws://127.0.0.1:${port}`,
    requests: server.requests,
    invocations,
    uploads,
    signedIn,
    refused,
    get active() {
      return state.active;
    },
    get maxActive() {
      return state.maxActive;
    },
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: () => server.close(),
  };
  return fake;
}
