/**
 * A fake of Coze's official API (api.coze.com / api.coze.cn), written from the reference
 * (coze-openapi `/v3/chat`, coze-py `cozepy/chat`, coze-js `error.ts`):
 *
 * - Every call needs `Authorization: Bearer <token>` with a known token; otherwise HTTP 200 with
 *   `{"code":4100,"msg":"authentication is invalid"}` and an `x-tt-logid` header, as Coze answers.
 * - `POST /v3/chat[?conversation_id=]`: `bot_id` and `user_id` are required (else code 4000);
 *   `additional_messages` at most 100, each `role` user|assistant, `content` a string,
 *   `content_type` text|object_string (an object_string is a JSON list of text/image/file parts,
 *   images naming a `file_id` this token uploaded or a `file_url`), `type` question|answer|
 *   function_call|tool_output|tool_response, and never `answer` from the user (code 4000). A bot
 *   that does not exist or is not published to the API channel is code 4200; one in a workspace
 *   the token may not use is 4101. One chat at a time per conversation (code 4016). With
 *   `stream: true` the answer is `text/event-stream` with `event:<name>` / `data:<json>` lines (no
 *   space): chat.created, chat.in_progress, message.delta (reasoning, then answer pieces),
 *   message.completed (the answer, a verbose `generate_answer_finish`, follow-ups),
 *   chat.completed with `usage`, then `done` with `data:"[DONE]"`.
 * - `POST /v1/files/upload` (multipart `file`): `{code:0, data:{id, bytes, file_name}}`.
 * - `GET /v1/bots?workspace_id=`: the workspace's bots published to the API channel.
 *
 * What the bot answers is scripted per test with `respond`.
 *
 * @module
 */
import { type Fake, json, type Recorded, serveFake, sleep } from "./serve.ts";

/** A bot the fake knows. */
export interface FakeCozeBot {
  id: string;
  workspace: string;
  /** Published to the API channel (default true). */
  published?: boolean;
}

/** An access token and the workspaces it may use. */
export interface FakeCozeToken {
  token: string;
  workspaces: string[];
}

/** What one chat answers (scripted per test). */
export interface CozeScript {
  /** Answer pieces (default: "You said: <query>" in two pieces). */
  pieces?: string[];
  /** Reasoning pieces sent before the answer. */
  reasoning?: string[];
  /** The answer only as a `message.completed` (no deltas). */
  completedOnly?: boolean;
  /** Refuse the call with this `{code, msg}` (HTTP 200 JSON) instead. */
  refuse?: { code: number; msg: string };
  /** After the answer pieces, fail the chat (`conversation.chat.failed`). */
  fail?: { code: number; msg: string };
  /** After the answer pieces, an `error` event. */
  error?: { code: number; msg: string };
  /** Ask the caller to run a tool (`conversation.chat.requires_action`). */
  requiresAction?: string;
  /** Leave out the `done` event. */
  noDone?: boolean;
  /** Stop after this many pieces and hold the connection open. */
  stallAfter?: number;
  /** Milliseconds between events. */
  delayMs?: number;
  usage?: { input_count: number; output_count: number };
}

/** One `/v3/chat` call the fake accepted. */
export interface CozeChatCall {
  token: string;
  body: Record<string, unknown>;
  /** The text of the last message (the query). */
  query: string;
  rec: Recorded;
}

/** A running fake. */
export interface FakeCozeApi extends Fake {
  chats: CozeChatCall[];
  /** Uploaded files by id. */
  files: Map<string, { token: string; bytes: number; name: string; type: string }>;
  respond: (call: CozeChatCall) => CozeScript;
  /** The `coze` config section pointing at the fake. */
  config: Record<string, unknown>;
}

/** Options of the fake. */
export interface FakeCozeApiOptions {
  tokens: FakeCozeToken[];
  bots: FakeCozeBot[];
}

const MESSAGE_TYPES = ["question", "answer", "function_call", "tool_output", "tool_response"];

function refusal(code: number, msg: string): Response {
  const logid = `2026${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  return json({ code, msg, detail: { logid } }, 200, { "x-tt-logid": logid });
}

/** Checks `additional_messages` as Coze does; a message naming what is wrong, or undefined. */
function badMessages(
  messages: unknown,
  token: string,
  files: FakeCozeApi["files"],
): string | undefined {
  if (messages === undefined) return undefined;
  if (!Array.isArray(messages)) return "additional_messages must be a list";
  if (messages.length > 100) return "additional_messages holds more than 100 messages";
  for (const [i, m] of messages.entries()) {
    if (!m || typeof m !== "object") return `additional_messages[${i}] is no object`;
    const { role, type, content, content_type } = m as Record<string, unknown>;
    if (role !== "user" && role !== "assistant") return `additional_messages[${i}].role invalid`;
    if (type !== undefined && !MESSAGE_TYPES.includes(type as string)) {
      return `additional_messages[${i}].type invalid`;
    }
    if (role === "user" && type === "answer") return `additional_messages[${i}]: user answer`;
    if (typeof content !== "string") return `additional_messages[${i}].content must be a string`;
    if (content_type !== "text" && content_type !== "object_string") {
      return `additional_messages[${i}].content_type invalid`;
    }
    if (content_type === "object_string") {
      let parts: unknown;
      try {
        parts = JSON.parse(content);
      } catch {
        return `additional_messages[${i}].content is no JSON`;
      }
      if (!Array.isArray(parts) || parts.length === 0) return `additional_messages[${i}] parts`;
      for (const p of parts as Record<string, unknown>[]) {
        if (p.type === "text" && typeof p.text === "string") continue;
        if (p.type !== "image" && p.type !== "file") return `part type ${String(p.type)}`;
        if (typeof p.file_url === "string" && /^https?:\/\//.test(p.file_url)) continue;
        const f = typeof p.file_id === "string" ? files.get(p.file_id) : undefined;
        if (!f || f.token !== token) return `file_id ${String(p.file_id)} not found`;
      }
    }
  }
  return undefined;
}

/** The text of the last message (the query). */
function queryOf(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) return "";
  const last = messages[messages.length - 1] as { content?: string; content_type?: string };
  if (last.content_type !== "object_string") return last.content ?? "";
  return (JSON.parse(last.content ?? "[]") as { text?: string }[]).map((p) => p.text ?? "")
    .join("");
}

/** Starts the fake. */
export async function startFakeCozeApi(options: FakeCozeApiOptions): Promise<FakeCozeApi> {
  const tokens = new Map(options.tokens.map((t) => [t.token, t]));
  const bots = new Map(options.bots.map((b) => [b.id, b]));
  const busy = new Set<string>();
  const chats: CozeChatCall[] = [];
  const files: FakeCozeApi["files"] = new Map();
  let fileIds = 0;
  let chatIds = 0;
  const fake = {} as FakeCozeApi;

  const server = await serveFake(async (req, rec) => {
    const auth = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    const tok = auth ? tokens.get(auth) : undefined;
    if (!tok) return refusal(4100, "authentication is invalid");

    if (rec.path === "/v1/files/upload" && rec.method === "POST") {
      const form = await new Request(req.url, {
        method: "POST",
        headers: req.headers,
        body: rec.body,
      }).formData().catch(() => undefined);
      const file = form?.get("file");
      if (!(file instanceof File)) return refusal(4000, "file is required");
      const id = `file_${++fileIds}`;
      files.set(id, { token: tok.token, bytes: file.size, name: file.name, type: file.type });
      return json({ code: 0, msg: "", data: { id, bytes: file.size, file_name: file.name } });
    }

    if (rec.path === "/v1/bots" && rec.method === "GET") {
      const ws = rec.query.get("workspace_id");
      if (!ws) return refusal(4000, "workspace_id is required");
      if (!tok.workspaces.includes(ws)) return refusal(4101, "no permission for the workspace");
      const items = options.bots
        .filter((b) => b.workspace === ws && b.published !== false)
        .map((b) => ({ id: b.id, name: `bot ${b.id}`, is_published: true }));
      return json({ code: 0, msg: "", data: { items, total: items.length } });
    }

    if (rec.path !== "/v3/chat" || rec.method !== "POST") {
      return json({ code: 4000, msg: `unknown path ${rec.path}` }, 404);
    }
    const body = rec.json as Record<string, unknown> | undefined;
    if (!body || typeof body !== "object") return refusal(4000, "the body is not JSON");
    if (typeof body.bot_id !== "string" || body.bot_id === "") {
      return refusal(4000, "invalid param: bot_id is required");
    }
    if (typeof body.user_id !== "string" || body.user_id === "") {
      return refusal(4000, "invalid param: user_id is required");
    }
    const bad = badMessages(body.additional_messages, tok.token, files);
    if (bad) return refusal(4000, `invalid param: ${bad}`);
    const bot = bots.get(body.bot_id);
    if (!bot || bot.published === false) {
      return refusal(4200, `bot ${body.bot_id} not found or not published to the API channel`);
    }
    if (!tok.workspaces.includes(bot.workspace)) {
      return refusal(4101, "The token you entered is incorrect or has no permission");
    }
    const conversation = rec.query.get("conversation_id") ?? `conv_${++chatIds}`;
    if (busy.has(conversation)) {
      return refusal(4016, "Conversation occupied: Another chat is currently active");
    }
    const call: CozeChatCall = {
      token: tok.token,
      body,
      query: queryOf(body.additional_messages),
      rec,
    };
    chats.push(call);
    const script = fake.respond(call);
    if (script.refuse) return refusal(script.refuse.code, script.refuse.msg);
    if (body.stream !== true) {
      return json({
        code: 0,
        msg: "",
        data: { id: `chat_${chatIds}`, conversation_id: conversation, status: "in_progress" },
      });
    }
    busy.add(conversation);
    return chatStream(call, script, conversation, () => busy.delete(conversation));
  });

  function chatStream(
    call: CozeChatCall,
    script: CozeScript,
    conversation: string,
    done: () => void,
  ): Response {
    const enc = new TextEncoder();
    const chat = { id: `chat_${chatIds}`, conversation_id: conversation, bot_id: call.body.bot_id };
    const msgId = `msg_${chatIds}`;
    const pieces = script.pieces ?? ["You said: ", call.query];
    const message = (extra: Record<string, unknown>) => ({
      id: msgId,
      conversation_id: conversation,
      bot_id: call.body.bot_id,
      chat_id: chat.id,
      role: "assistant",
      type: "answer",
      content_type: "text",
      ...extra,
    });
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        const send = async (event: string, data: unknown) => {
          if (script.delayMs) await sleep(script.delayMs);
          if (call.rec.wasAborted) throw new Error("gone");
          c.enqueue(enc.encode(`event:${event}\ndata:${JSON.stringify(data)}\n\n`));
        };
        try {
          await send("conversation.chat.created", { ...chat, status: "created" });
          await send("conversation.chat.in_progress", { ...chat, status: "in_progress" });
          for (const r of script.reasoning ?? []) {
            await send(
              "conversation.message.delta",
              message({ content: "", reasoning_content: r }),
            );
          }
          if (!script.completedOnly) {
            for (const [n, p] of pieces.entries()) {
              if (script.stallAfter !== undefined && n >= script.stallAfter) {
                await call.rec.aborted;
                return;
              }
              await send("conversation.message.delta", message({ content: p }));
            }
          }
          await send(
            "conversation.message.completed",
            message({ content: pieces.join(""), reasoning_content: script.reasoning?.join("") }),
          );
          await send(
            "conversation.message.completed",
            message({
              id: `${msgId}_v`,
              type: "verbose",
              content: JSON.stringify({ msg_type: "generate_answer_finish", data: "" }),
            }),
          );
          await send(
            "conversation.message.completed",
            message({ id: `${msgId}_f`, type: "follow_up", content: "Ask me more?" }),
          );
          if (script.error) await send("error", script.error);
          if (script.fail) {
            await send("conversation.chat.failed", {
              ...chat,
              status: "failed",
              last_error: script.fail,
            });
          } else if (script.requiresAction) {
            await send("conversation.chat.requires_action", {
              ...chat,
              status: "requires_action",
              required_action: {
                type: "submit_tool_outputs",
                submit_tool_outputs: {
                  tool_calls: [{
                    id: "call_1",
                    type: "function",
                    function: { name: script.requiresAction, arguments: "{}" },
                  }],
                },
              },
            });
          } else {
            const usage = script.usage ?? { input_count: 11, output_count: 7 };
            await send("conversation.chat.completed", {
              ...chat,
              status: "completed",
              usage: { ...usage, token_count: usage.input_count + usage.output_count },
            });
          }
          if (!script.noDone) await send("done", "[DONE]");
          c.close();
        } catch {
          // The client went away.
        } finally {
          done();
        }
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "x-tt-logid": "2026chatlogid" },
    });
  }

  Object.assign(fake, server, {
    chats,
    files,
    respond: () => ({}),
    config: { "base-url": server.origin },
  });
  return fake;
}
