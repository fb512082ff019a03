/**
 * A fake of claude.ai's web API as the reference (section 2) describes it today, behind the
 * Cloudflare-like TLS gate (`tls_gate.ts`): only a Chrome handshake reaches it.
 *
 * - `GET /api/bootstrap`: `{account: {email_address, memberships: [{organization}]}}`, or
 *   `{account: null}` for a logged-out session.
 * - `GET /api/organizations`: every account belongs to two organizations, an API-only one
 *   (listed first, with more capabilities) and the one that can `chat` (`claude_pro` /
 *   `claude_max` for paid plans), with its `active_flags`.
 * - `POST /api/organizations/:org/chat_conversations` `{uuid, name, is_temporary}`: 201. The uuid
 *   is the client's (a v4); an organization that cannot chat is refused; a disabled one answers
 *   400 "This organization has been disabled.".
 * - `PUT /api/organizations/:org/chat_conversations/:conv` `{settings: {paprika_mode}}`: extended
 *   thinking, refused on free plans.
 * - `POST .../:conv/completion`: the current body (`prompt`, `attachments` whose `file_size` is
 *   the UTF-8 length, `files`, `model` (paid plans only, known ids only: "Invalid model"),
 *   `rendering_mode` `messages` or `raw`, `timezone` (a real IANA zone), `tools`), answered as an
 *   event stream in the requested rendering; thinking blocks only when the conversation has
 *   `paprika_mode: "extended"`.
 *
 * Every call needs a known `sessionKey` cookie (401 otherwise). Errors use claude.ai's body
 * `{"type":"error","error":{"type","message"}}`; a rate limit's message is JSON with `resetsAt`,
 * or the reset is in `anthropic-ratelimit-unified-reset` (`rateLimited`).
 *
 * @module
 */
import { type GateRecorded, json, type Recorded, recordRequest, sleep } from "./serve.ts";
import { startTlsGate, type TlsGate } from "./tls_gate.ts";

/** What an account looks like to the fake. */
export interface WebAccount {
  sessionKey: string;
  plan: "free" | "pro" | "max";
  /** Bootstrap answers `account: null` (the session was logged out). */
  loggedOut: boolean;
  /** The chat organization answers 400 "This organization has been disabled.". */
  disabled: boolean;
  /** `active_flags` of the chat organization. */
  flags: { type: string; expires_at: string | null }[];
  /** The API-only organization and the chat one. */
  apiOrg: string;
  chatOrg: string;
}

/** What the fake answers to one completion. */
export interface ClaudeScript {
  text?: string;
  /** Thinking text (sent only when the conversation has extended thinking on). */
  thinking?: string;
  /** Characters per delta (default 3). */
  pieceSize?: number;
  /** Milliseconds between events. */
  delayMs?: number;
  /** Stop reason at the end (default `end_turn` / `stop_sequence`). */
  stopReason?: string;
  /** Answer with this status and claude.ai error body instead of a stream. */
  error?: { status: number; type: string; message: string; headers?: Record<string, string> };
  /** Answer with a raw response (a Cloudflare page, a redirect). */
  raw?: { status: number; body: string; contentType: string; headers?: Record<string, string> };
  /** After the text, keep the stream open (until the client goes away). */
  hang?: boolean;
  /** After the text, end the stream without its end event. */
  truncate?: boolean;
  /** After the text, send an `error` event with this error object. */
  streamError?: { type: string; message: string };
}

/** A completion as the fake received it. */
export interface CompletionCall {
  sessionKey: string;
  org: string;
  conv: string;
  thinking: boolean;
  body: {
    prompt: string;
    model?: string;
    timezone: string;
    rendering_mode: "messages" | "raw";
    attachments: {
      extracted_content: string;
      file_name: string;
      file_size: number;
      file_type: string;
    }[];
    files: string[];
    tools: unknown[];
    max_tokens_to_sample?: number;
  };
  rec: GateRecorded;
}

/** A running fake. */
export interface FakeClaudeWeb {
  /** The gate's origin (`https://localhost:<port>`); set `server.ca-file` to `caFile`. */
  origin: string;
  caFile: string;
  gate: TlsGate;
  requests: Recorded[];
  accounts: WebAccount[];
  /** Conversations by id. */
  conversations: Map<
    string,
    { org: string; sessionKey: string; temporary: boolean; thinking: boolean }
  >;
  completions: CompletionCall[];
  /** Completions running right now, and the most at once. */
  active: number;
  maxActive: number;
  /** Decides each completion's answer (default: a short greeting). */
  respond: (call: CompletionCall) => ClaudeScript;
  close(): Promise<void>;
}

/** The models the fake knows (the reference's list). */
export const FAKE_MODELS = [
  "claude-fable-5",
  "claude-opus-5",
  "claude-opus-4-8",
  "claude-opus-4-7",
  "claude-opus-4-6",
  "claude-opus-4-5-20251101",
  "claude-sonnet-5",
  "claude-sonnet-4-6",
  "claude-sonnet-4-5-20250929",
  "claude-haiku-4-5-20251001",
];

function errorBody(type: string, message: string) {
  return { type: "error", error: { type, message } };
}

function fail(status: number, type: string, message: string, headers?: Record<string, string>) {
  return json(errorBody(type, message), status, headers);
}

/**
 * A 429 as claude.ai sends it: the reset time (unix seconds) in the JSON message of the body, or
 * in the `anthropic-ratelimit-unified-reset` header with a plain message.
 */
export function rateLimited(resetsAt: number, where: "body" | "header"): ClaudeScript {
  if (where === "body") {
    const message = JSON.stringify({
      type: "exceeded_limit",
      resetsAt,
      remaining: null,
      perModelLimit: false,
    });
    return { error: { status: 429, type: "rate_limit_error", message } };
  }
  return {
    error: {
      status: 429,
      type: "rate_limit_error",
      message: "You've reached your usage limit.",
      headers: {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": String(resetsAt),
      },
    },
  };
}

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The events of an answer with `rendering_mode: raw` (the older `completion` events). */
function rawEvents(s: ClaudeScript, model: string): string[] {
  const id = `chatcompl_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
  const base = { type: "completion", id, model, stop: null, log_id: id };
  const out = [sse("ping", { type: "ping" })];
  for (const p of pieces(s.text ?? "", s.pieceSize ?? 3)) {
    out.push(sse("completion", { ...base, completion: p, stop_reason: null }));
  }
  if (s.streamError) out.push(sse("error", { type: "error", error: s.streamError }));
  else if (!s.hang && !s.truncate) {
    out.push(sse("completion", {
      ...base,
      completion: "",
      stop_reason: s.stopReason ?? "stop_sequence",
    }));
  }
  return out;
}

/** The events of an answer with `rendering_mode: messages`. */
function messageEvents(s: ClaudeScript, model: string, thinking: string | undefined): string[] {
  const out = [sse("message_start", {
    type: "message_start",
    message: {
      id: `chatcompl_${crypto.randomUUID().slice(0, 8)}`,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
    },
  })];
  let index = 0;
  const block = (type: "thinking" | "text", text: string) => {
    out.push(sse("content_block_start", {
      type: "content_block_start",
      index,
      content_block: type === "thinking"
        ? { type, thinking: "", summaries: [] }
        : { type, text: "", citations: [] },
    }));
    for (const p of pieces(text, s.pieceSize ?? 3)) {
      out.push(sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: type === "thinking"
          ? { type: "thinking_delta", thinking: p }
          : { type: "text_delta", text: p },
      }));
    }
  };
  if (thinking) {
    block("thinking", thinking);
    out.push(sse("content_block_stop", { type: "content_block_stop", index }));
    index++;
  }
  block("text", s.text ?? "");
  if (s.streamError) {
    out.push(sse("error", { type: "error", error: s.streamError }));
    return out;
  }
  if (s.hang || s.truncate) return out;
  out.push(sse("content_block_stop", { type: "content_block_stop", index }));
  out.push(sse("message_delta", {
    type: "message_delta",
    delta: { stop_reason: s.stopReason ?? "end_turn", stop_sequence: null },
  }));
  out.push(sse("message_limit", {
    type: "message_limit",
    message_limit: { type: "within_limit", resetsAt: null, remaining: null },
  }));
  out.push(sse("message_stop", { type: "message_stop" }));
  return out;
}

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function isTimezone(tz: unknown): boolean {
  if (typeof tz !== "string" || tz === "") return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why a completion body is refused, or undefined when it is acceptable. */
function badCompletion(body: unknown, paid: boolean): [number, string, string] | undefined {
  const allowed = new Set([
    "prompt",
    "parent_message_uuid",
    "timezone",
    "personalized_styles",
    "locale",
    "model",
    "tools",
    "attachments",
    "files",
    "sync_sources",
    "rendering_mode",
    "max_tokens_to_sample",
  ]);
  if (!body || typeof body !== "object") return [400, "invalid_request_error", "body: object"];
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!allowed.has(k)) {
      return [400, "invalid_request_error", `${k}: Extra inputs are not permitted`];
    }
  }
  if (typeof b.prompt !== "string") return [400, "invalid_request_error", "prompt: Field required"];
  if (!Array.isArray(b.attachments)) return [400, "invalid_request_error", "attachments: list"];
  for (const a of b.attachments as Record<string, unknown>[]) {
    if (
      typeof a?.extracted_content !== "string" || typeof a.file_name !== "string" ||
      typeof a.file_type !== "string" || typeof a.file_size !== "number" ||
      a.file_size !== new TextEncoder().encode(a.extracted_content).length
    ) {
      return [400, "invalid_request_error", "attachments: invalid attachment"];
    }
  }
  if (!Array.isArray(b.files) || b.files.some((f) => typeof f !== "string")) {
    return [400, "invalid_request_error", "files: list of file uuids"];
  }
  if (b.prompt === "" && b.attachments.length === 0 && b.files.length === 0) {
    return [400, "invalid_request_error", "prompt: nothing to answer"];
  }
  if (b.rendering_mode !== "messages" && b.rendering_mode !== "raw") {
    return [400, "invalid_request_error", "rendering_mode: 'messages' or 'raw'"];
  }
  if (!isTimezone(b.timezone)) return [400, "invalid_request_error", "timezone: invalid"];
  if (b.tools !== undefined && !Array.isArray(b.tools)) {
    return [400, "invalid_request_error", "tools: list"];
  }
  if (b.model !== undefined) {
    // The fake's reading of "model only for paid accounts": a free plan cannot pick one.
    if (!paid) return [403, "permission_error", "model selection requires a paid plan"];
    if (typeof b.model !== "string" || !FAKE_MODELS.includes(b.model)) {
      return [400, "invalid_request_error", "Invalid model"];
    }
  }
  return undefined;
}

/** Starts the fake with `accounts` (defaults: a pro plan with an `sk-ant-sid01-` key). */
export async function startFakeClaudeWeb(
  accounts: Partial<WebAccount & { sid: "01" | "02" }>[] = [{}],
): Promise<FakeClaudeWeb> {
  const full: WebAccount[] = accounts.map((a, i) => ({
    sessionKey: a.sessionKey ??
      `sk-ant-sid${a.sid ?? "01"}-${String(i).padStart(4, "0")}${"Fk9_x-".repeat(15)}-abcdefAA`,
    plan: a.plan ?? "pro",
    loggedOut: a.loggedOut ?? false,
    disabled: a.disabled ?? false,
    flags: a.flags ?? [],
    apiOrg: crypto.randomUUID(),
    chatOrg: crypto.randomUUID(),
  }));
  const requests: Recorded[] = [];
  const state = {
    conversations: new Map<
      string,
      { org: string; sessionKey: string; temporary: boolean; thinking: boolean }
    >(),
    completions: [] as CompletionCall[],
    active: 0,
    maxActive: 0,
    respond: (_call: CompletionCall): ClaudeScript => ({ text: "Hello from claude.ai!" }),
  };
  const capabilities = (a: WebAccount) =>
    a.plan === "free"
      ? ["chat"]
      : a.plan === "pro"
      ? ["chat", "claude_pro"]
      : ["chat", "claude_max"];
  const orgs = (a: WebAccount) => [
    {
      uuid: a.apiOrg,
      name: "API",
      capabilities: ["api", "api_individual", "api_console", "usage_billing", "workbench"],
      active_flags: [],
    },
    {
      uuid: a.chatOrg,
      name: "Personal",
      capabilities: capabilities(a),
      active_flags: a.flags,
      billing_type: a.plan === "free" ? null : "stripe_subscription",
    },
  ];

  const handle = async (req: Request): Promise<Response> => {
    const rec = await recordRequest(req);
    requests.push(rec);
    const account = full.find((a) =>
      a.sessionKey === cookieValue(req.headers.get("cookie"), "sessionKey")
    );
    if (!account) return fail(401, "authentication_error", "Invalid authorization");
    const p = rec.path;
    const m = /^\/api\/organizations\/([^/]+)\/chat_conversations(?:\/([^/]+)(\/completion)?)?$/
      .exec(p);
    if (req.method === "GET" && p === "/api/bootstrap") {
      if (account.loggedOut) return json({ account: null, statsig: {} });
      return json({
        account: {
          uuid: crypto.randomUUID(),
          email_address: "fake@example.com",
          memberships: orgs(account).map((organization) => ({ organization, role: "admin" })),
        },
      });
    }
    if (req.method === "GET" && p === "/api/organizations") return json(orgs(account));
    if (!m) return fail(404, "not_found_error", "Not found");
    const [, org, conv, completion] = m;
    if (org !== account.apiOrg && org !== account.chatOrg) {
      return fail(403, "permission_error", "Forbidden");
    }
    if (org === account.apiOrg) {
      return fail(403, "permission_error", "This organization does not have chat access");
    }
    if (account.disabled) {
      return fail(400, "invalid_request_error", "This organization has been disabled.");
    }
    if (
      req.method !== "GET" &&
      (req.headers.get("content-type") ?? "").split(";")[0].trim() !== "application/json"
    ) {
      return fail(400, "invalid_request_error", "Input should be a valid dictionary");
    }
    if (req.method === "POST" && !conv) {
      const body = rec.json as Record<string, unknown> | undefined;
      if (!body || typeof body.uuid !== "string" || !UUID4.test(body.uuid)) {
        return fail(400, "invalid_request_error", "uuid: Input should be a valid UUID");
      }
      if (typeof body.name !== "string") return fail(400, "invalid_request_error", "name: string");
      if (state.conversations.has(body.uuid)) {
        return fail(409, "invalid_request_error", "Conversation already exists");
      }
      state.conversations.set(body.uuid, {
        org,
        sessionKey: account.sessionKey,
        temporary: body.is_temporary === true,
        thinking: false,
      });
      return json({
        uuid: body.uuid,
        name: body.name,
        is_temporary: body.is_temporary === true,
        settings: {},
        created_at: new Date().toISOString(),
      }, 201);
    }
    const c = conv ? state.conversations.get(conv) : undefined;
    if (!c || c.org !== org || c.sessionKey !== account.sessionKey) {
      return fail(404, "not_found_error", "Not found");
    }
    if (req.method === "PUT" && !completion) {
      const settings = (rec.json as { settings?: Record<string, unknown> } | undefined)?.settings;
      if (!settings || !("paprika_mode" in settings)) {
        return fail(400, "invalid_request_error", "settings: Field required");
      }
      if (settings.paprika_mode !== "extended" && settings.paprika_mode !== null) {
        return fail(400, "invalid_request_error", "settings.paprika_mode: 'extended' or null");
      }
      if (account.plan === "free") {
        return fail(403, "permission_error", "Extended thinking requires a paid plan");
      }
      c.thinking = settings.paprika_mode === "extended";
      return json({ uuid: conv, settings }, 202);
    }
    if (req.method !== "POST" || !completion) return fail(405, "invalid_request_error", "method");
    if (!(req.headers.get("accept") ?? "").includes("text/event-stream")) {
      return fail(406, "invalid_request_error", "Accept: text/event-stream");
    }
    const refused = badCompletion(rec.json, account.plan !== "free");
    if (refused) return fail(...refused);
    const body = rec.json as CompletionCall["body"];
    const call: CompletionCall = {
      sessionKey: account.sessionKey,
      org,
      conv: conv!,
      thinking: c.thinking,
      body,
      rec,
    };
    state.completions.push(call);
    return answer(call, state.respond(call), state, c.thinking);
  };

  const gate = await startTlsGate(handle);
  return {
    origin: gate.origin,
    caFile: gate.caFile,
    gate,
    requests,
    accounts: full,
    get conversations() {
      return state.conversations;
    },
    get completions() {
      return state.completions;
    },
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
    close: () => gate.close(),
  };
}

/** The response to one accepted completion: the script's error, or its stream. */
function answer(
  call: CompletionCall,
  script: ClaudeScript,
  state: { active: number; maxActive: number },
  thinkingOn: boolean,
): Response {
  if (script.error) {
    return fail(script.error.status, script.error.type, script.error.message, script.error.headers);
  }
  if (script.raw) {
    return new Response(script.raw.body, {
      status: script.raw.status,
      headers: { "content-type": script.raw.contentType, ...script.raw.headers },
    });
  }
  const model = call.body.model ?? "claude-sonnet-4-5-20250929";
  const thinking = thinkingOn ? (script.thinking ?? "Let me think.") : undefined;
  const events = call.body.rendering_mode === "messages"
    ? messageEvents(script, model, thinking)
    : rawEvents(script, model);
  const encoder = new TextEncoder();
  const rec = call.rec;
  state.active++;
  state.maxActive = Math.max(state.maxActive, state.active);
  let finished = false;
  const finish = () => {
    if (!finished) state.active--;
    finished = true;
  };
  rec.aborted.then(finish);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for (const e of events) {
          if (script.delayMs) await sleep(script.delayMs);
          if (rec.wasAborted) return;
          controller.enqueue(encoder.encode(e));
        }
        if (script.hang) {
          await rec.aborted;
          return;
        }
        controller.close();
      } catch {
        // The client went away.
      } finally {
        finish();
      }
    },
    cancel() {
      // Deno.serve cancels the body when the client went away.
      rec.markAborted();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}
