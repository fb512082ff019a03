/**
 * Fakes of open-interpreter in both of the gateway's modes:
 *
 * - `startFakeInterpreter`: its HTTP server (the patched fastapi + sse-starlette `server.py` the
 *   original relied on): `POST /settings` takes `{messages: [{role, type: "message", content}],
 *   system}` and answers JSON; `POST /chat` takes `{message}` and streams
 *   `text/event-stream; charset=utf-8` events `data: {role, type, format, content, start, end}`
 *   separated by CRLF CRLF as sse-starlette writes them, then `data: [DONE]`. A body that does not
 *   validate gets fastapi's 422 `{"detail":[...]}`.
 * - `connectWsInterpreter`: the interpreter as a socket.io client of the gateway (the real
 *   `socket.io-client` package), at `/socket.io/open-i/`: it answers each `reply` event with
 *   `message` events carrying the same JSON strings, then `[DONE]`.
 *
 * @module
 */
import { io, type Socket } from "socket.io-client";
import { json, type Recorded, serveFake, sleep } from "./serve.ts";

/** One message the interpreter streams. */
export interface OiChunk {
  role: string;
  type: string;
  format?: string;
  content?: string | null;
  start?: boolean;
  end?: boolean;
}

/** What the interpreter "does" for one user message. */
export interface OiScript {
  chunks: OiChunk[];
  delayMs?: number;
  /** Answer `/chat` with this status instead. */
  status?: number;
  /** Stop sending after this many chunks (and keep the connection open). */
  stallAfter?: number;
  /**
   * Over socket.io: after a `cancel`, still send this many chunks (already on their way) and
   * then `[DONE]`, as a run that stops at its next step does.
   */
  finishesAfterCancel?: number;
}

/** A conversation step as open-interpreter 0.2 streams it: text, code, its output, text. */
export function defaultScript(message: string): OiScript {
  return {
    chunks: [
      { role: "assistant", type: "message", start: true },
      { role: "assistant", type: "message", content: "Let me " },
      { role: "assistant", type: "message", content: `compute ${message}.` },
      { role: "assistant", type: "message", end: true },
      { role: "assistant", type: "code", format: "python", start: true },
      { role: "assistant", type: "code", format: "python", content: "print(6*7)" },
      { role: "assistant", type: "code", format: "python", end: true },
      { role: "computer", type: "console", start: true },
      { role: "computer", type: "console", format: "active_line", content: "1" },
      { role: "computer", type: "console", format: "output", content: "42\n" },
      { role: "computer", type: "console", format: "active_line", content: null },
      { role: "computer", type: "console", end: true },
      { role: "assistant", type: "message", start: true },
      { role: "assistant", type: "message", content: "The answer is 42." },
      { role: "assistant", type: "message", end: true },
    ],
  };
}

/** A running fake HTTP interpreter. */
export interface FakeInterpreter {
  origin: string;
  requests: Recorded[];
  /** The settings bodies received, in order. */
  settings: unknown[];
  respond: (message: string) => OiScript;
  close(): Promise<void>;
}

function validationError(loc: string[], msg: string): Response {
  return json({ detail: [{ loc, msg, type: "value_error" }] }, 422);
}

/** Starts the fake HTTP interpreter on 127.0.0.1. */
export async function startFakeInterpreter(): Promise<FakeInterpreter> {
  const settings: unknown[] = [];
  const state = { respond: defaultScript };
  const fake = await serveFake((req, rec) => {
    const body = rec.json as Record<string, unknown> | undefined;
    if (req.method === "POST" && rec.path === "/settings") {
      if (!body || !Array.isArray(body.messages)) {
        return validationError(["body", "messages"], "field required");
      }
      for (const [i, m] of (body.messages as Record<string, unknown>[]).entries()) {
        if (
          !["user", "assistant"].includes(String(m.role)) || m.type !== "message" ||
          typeof m.content !== "string"
        ) {
          return validationError(["body", "messages", String(i)], "invalid message");
        }
      }
      if (body.system !== undefined && typeof body.system !== "string") {
        return validationError(["body", "system"], "str type expected");
      }
      settings.push(body);
      return json({ status: "ok" });
    }
    if (req.method === "POST" && rec.path === "/chat") {
      if (!body || typeof body.message !== "string") {
        return validationError(["body", "message"], "field required");
      }
      const script = state.respond(body.message);
      if (script.status) return json({ detail: "Internal Server Error" }, script.status);
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          try {
            for (const [i, c] of script.chunks.entries()) {
              if (script.stallAfter !== undefined && i >= script.stallAfter) {
                await rec.aborted;
                controller.close();
                return;
              }
              if (script.delayMs) await sleep(script.delayMs);
              controller.enqueue(encoder.encode(`data: ${JSON.stringify(c)}\r\n\r\n`));
            }
            controller.enqueue(encoder.encode("data: [DONE]\r\n\r\n"));
            controller.close();
          } catch {
            // The client went away.
          }
        },
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
        },
      });
    }
    return json({ detail: "Not Found" }, 404);
  });
  return {
    origin: fake.origin,
    requests: fake.requests,
    settings,
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: fake.close,
  };
}

/** An interpreter connected to the gateway over socket.io. */
export interface WsInterpreter {
  socket: Socket;
  /** `settings` events received. */
  settings: unknown[];
  /** `reply` events received (the user's texts). */
  replies: string[];
  /** Number of `cancel` events received. */
  cancels: number;
  /** `message` acknowledgements ("ok") received. */
  acks: number;
  respond: (message: string) => OiScript;
  close(): void;
}

/** Connects a fake interpreter to the gateway at `origin` (resolves once connected). */
export function connectWsInterpreter(
  origin: string,
  options: {
    transports?: ("polling" | "websocket")[];
    headers?: Record<string, string>;
    path?: string;
  } = {},
): Promise<WsInterpreter> {
  const socket = io(origin, {
    path: options.path ?? "/socket.io/open-i/",
    transports: options.transports ?? ["polling", "websocket"],
    extraHeaders: options.headers,
    reconnection: false,
    timeout: 5000,
  });
  const w: WsInterpreter = {
    socket,
    settings: [],
    replies: [],
    cancels: 0,
    acks: 0,
    respond: defaultScript,
    close: () => socket.close(),
  };
  // `cancel` stops the run in progress (the one of the latest reply), not the ones after it.
  let run = 0;
  let cancelledRun = 0;
  socket.on("settings", (s: unknown) => w.settings.push(s));
  socket.on("cancel", () => {
    w.cancels++;
    cancelledRun = run;
  });
  socket.on("message", (m: unknown) => {
    if (m === "ok") w.acks++;
  });
  socket.on("reply", async (message: string) => {
    w.replies.push(message);
    const mine = ++run;
    const script = w.respond(message);
    let late = script.finishesAfterCancel;
    for (const [i, c] of script.chunks.entries()) {
      if (!socket.connected) return;
      if (cancelledRun === mine) {
        if (late === undefined) return;
        if (late-- === 0) break;
      }
      if (script.stallAfter !== undefined && i >= script.stallAfter) return;
      if (script.delayMs) await sleep(script.delayMs);
      socket.emit("message", JSON.stringify(c));
    }
    socket.emit("message", "[DONE]");
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(w));
    socket.once("connect_error", (e: Error) => {
      socket.close();
      reject(e);
    });
  });
}
