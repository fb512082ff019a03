/**
 * The chat socket of the fake Copilot (`copilot.ts`), from the reference (section 1, request
 * flow steps 4 to 6, "Stream format", "Errors and limits") and Windows-Copilot-API's captures:
 *
 * - the server speaks first: `connected`, twice; any frame before it is refused with
 *   `invalid-event`, as is a socket without `clientSessionId`;
 * - then exactly `setOptions`, `reportLocalConsents`, `send`, in that order (anything else, or a
 *   `send` for a conversation this identity did not start, is `invalid-event`);
 * - a scripted challenge holds the answer until a correct `challengeResponse` (method and id as
 *   sent, the right token) followed by the same `send` again; a wrong answer is `invalid-event`;
 * - anonymous use from a "restricted region" is refused with `chat-service-unavailable`;
 * - the answer: `received`, `startMessage`, the scripted events, `done`, then follow-ups; several
 *   JSON objects per frame when the script says so.
 *
 * @module
 */
import { sleep } from "./serve.ts";

/** One event the fake sends. */
export type FakeEvent = Record<string, unknown>;

/** A turn as the fake received it. */
export interface FakeCall {
  conversationId: string;
  mode: string;
  text: string;
  /** Image parts' URLs. */
  images: string[];
  /** The identity: the access token, or the anonymous cookie. */
  who: string;
  signedIn: boolean;
}

/** What the fake answers one turn with. */
export interface FakeScript {
  /** The answer's events (default: an echo of the text). */
  events?: FakeEvent[];
  /** A challenge to send before answering. */
  challenge?: { method: string | null; parameter?: string | number | null };
  /** An `error` frame instead of the answer. */
  errorCode?: string;
  /** Objects per frame (default 1). */
  perFrame?: number;
  /** Milliseconds between frames. */
  delayMs?: number;
  /** Leave `done` out, then close the socket. */
  noDone?: boolean;
  /** Go silent after this many answer frames (the socket stays open). */
  stallAfter?: number;
}

/** What the fake saw of one socket. */
export interface FakeSocketRecord {
  query: URLSearchParams;
  headers: Headers;
  /** Every frame the client sent, parsed. */
  received: FakeEvent[];
  /** Resolves when the socket closed. */
  closed: Promise<void>;
  isClosed: boolean;
  /** The `error` code the fake sent, if any. */
  refused?: string;
  /** When `done` was sent (performance.now). */
  doneAt?: number;
}

/** What the socket needs of the fake. */
export interface SocketHost {
  /** The conversations of an identity (`who`). */
  conversations(who: string): Set<string>;
  /** Checks a challenge answer; true when right. */
  checkAnswer(
    challenge: { method: string | null; parameter: string },
    answer: FakeEvent,
    userAgent: string,
  ): boolean;
  /** The script of a turn. */
  respond(call: FakeCall): FakeScript;
  /** Anonymous identities are refused (a restricted region). */
  restrictedRegion: boolean;
  /** Where the generated image is served. */
  origin: string;
}

/** Runs the fake's side of one chat socket. */
export function serveChatSocket(
  socket: WebSocket,
  rec: FakeSocketRecord,
  ident: { who: string; signedIn: boolean; userAgent: string },
  host: SocketHost,
): void {
  let connected = false;
  let stage: "setOptions" | "consents" | "send" | "answer" | "resend" | "busy" | "over" =
    "setOptions";
  let held: { send: FakeEvent; challenge: { method: string | null; parameter: string } } | null =
    null;
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => closedResolve = r);
  Object.assign(rec, { closed });
  const sendJson = (...objects: FakeEvent[]) => {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(objects.map((o) => JSON.stringify(o)).join(""));
    }
  };
  const refuse = (code: string) => {
    rec.refused = code;
    stage = "over";
    sendJson({ event: "error", errorCode: code });
    setTimeout(() => socket.readyState === WebSocket.OPEN && socket.close(1000), 20);
  };
  socket.onopen = () => {
    setTimeout(() => {
      connected = true;
      sendJson({ event: "connected" });
      // The live service says it twice.
      setTimeout(() => sendJson({ event: "connected" }), 30);
    }, 20);
  };
  socket.onclose = () => {
    rec.isClosed = true;
    closedResolve();
  };
  socket.onerror = () => {};
  socket.onmessage = (e) => {
    let frame: FakeEvent;
    try {
      frame = JSON.parse(String(e.data));
    } catch {
      return refuse("invalid-event");
    }
    rec.received.push(frame);
    if (!connected || !rec.query.get("clientSessionId")) return refuse("invalid-event");
    switch (stage) {
      case "setOptions":
        if (frame.event !== "setOptions" || !Array.isArray(frame.supportedCards)) {
          return refuse("invalid-event");
        }
        stage = "consents";
        return;
      case "consents":
        if (frame.event !== "reportLocalConsents" || !Array.isArray(frame.grantedConsents)) {
          return refuse("invalid-event");
        }
        stage = "send";
        return;
      case "send": {
        const call = checkSend(frame, ident, host);
        if (!call) return refuse("invalid-event");
        if (!ident.signedIn && host.restrictedRegion) return refuse("chat-service-unavailable");
        const script = host.respond(call);
        if (script.challenge) {
          const parameter = script.challenge.parameter == null
            ? ""
            : String(script.challenge.parameter);
          held = { send: frame, challenge: { method: script.challenge.method, parameter } };
          stage = "answer";
          sendJson({
            event: "challenge",
            method: script.challenge.method,
            parameter: script.challenge.parameter ?? null,
            id: "1",
          });
          return;
        }
        stage = "busy";
        answer(call, script);
        return;
      }
      case "answer": {
        const ok = frame.event === "challengeResponse" && frame.id === "1" &&
          host.checkAnswer(held!.challenge, frame, ident.userAgent);
        if (!ok) return refuse("invalid-event");
        stage = "resend";
        return;
      }
      case "resend": {
        if (JSON.stringify(frame) !== JSON.stringify(held!.send)) return refuse("invalid-event");
        const call = checkSend(frame, ident, host)!;
        stage = "busy";
        answer(call, { ...host.respond(call), challenge: undefined });
        return;
      }
      default:
        // A frame in the middle of an answer: the real socket takes one turn at a time.
        return refuse("invalid-event");
    }
  };

  async function answer(call: FakeCall, script: FakeScript): Promise<void> {
    if (script.errorCode) return refuse(script.errorCode);
    const messageId = crypto.randomUUID();
    const events: FakeEvent[] = [
      { event: "received", messageId },
      { event: "startMessage", conversationId: call.conversationId, messageId },
      ...(script.events ?? [
        { event: "appendText", text: "You said: ", messageId },
        { event: "appendText", text: call.text, messageId },
      ]),
      ...(script.noDone ? [] : [
        { event: "titleUpdate", title: "A title" },
        { event: "done", messageId },
        { event: "suggestedFollowups", suggestions: ["More?"] },
      ]),
    ];
    const per = Math.max(1, script.perFrame ?? 1);
    let frames = 0;
    for (let i = 0; i < events.length; i += per) {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (script.stallAfter !== undefined && frames >= script.stallAfter) return;
      const batch = events.slice(i, i + per);
      if (batch.some((e) => e.event === "done")) rec.doneAt = performance.now();
      sendJson(...batch);
      frames++;
      if (script.delayMs) await sleep(script.delayMs);
    }
    stage = "over";
    if (script.noDone) socket.close(1000);
  }
}

/** The call of a `send` frame, or undefined when the frame is not a valid one. */
function checkSend(
  frame: FakeEvent,
  ident: { who: string; signedIn: boolean },
  host: SocketHost,
): FakeCall | undefined {
  if (frame.event !== "send" || typeof frame.conversationId !== "string") return undefined;
  if (!host.conversations(ident.who).has(frame.conversationId)) return undefined;
  if (!["chat", "reasoning", "smart", "study", "search"].includes(frame.mode as string)) {
    return undefined;
  }
  if (!frame.context || typeof frame.context !== "object") return undefined;
  const parts = frame.content as { type?: string; text?: string; url?: string }[];
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  const last = parts[parts.length - 1];
  if (last.type !== "text" || typeof last.text !== "string" || last.text === "") return undefined;
  const images: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (p.type !== "image" || typeof p.url !== "string") return undefined;
    images.push(p.url);
  }
  return {
    conversationId: frame.conversationId,
    mode: frame.mode as string,
    text: last.text,
    images,
    who: ident.who,
    signedIn: ident.signedIn,
  };
}
