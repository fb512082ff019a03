/**
 * One turn on Copilot's chat socket (reference section 1, request flow steps 4 to 6):
 *
 * 1. open `/c/api/chat?api-version=2&clientSessionId=<uuid>` (plus `accessToken` and
 *    `X-UserIdentityType` when signed in) with the session's cookies, the site as `Origin`;
 * 2. wait for the server's `connected` (frames sent before it are refused with `invalid-event`;
 *    a second `connected` is ignored), then send `setOptions`, `reportLocalConsents` and `send`;
 * 3. answer a `challenge` (hashcash and the arithmetic `copilot` method in process, a `null` or
 *    `cloudflare` one with a Turnstile token from Chromium) with `challengeResponse`, then send
 *    the same `send` again;
 * 4. yield every other event up to and including `done`; a socket that ends before `done` is a
 *    502, an `error` frame its mapped error.
 *
 * Timeouts: the socket's connect timeout, `first-byte` until the first answer frame, `idle`
 * between frames after it. The request's abort closes the socket at once.
 *
 * @module
 */
import { challengeError } from "../../net/cloudflare.ts";
import type { Upstream, UpstreamSocket } from "../../net/http.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import type { Timeouts } from "../../config/schema.ts";
import type { Logger } from "../../util/log.ts";
import { ChallengeError, solveArithmetic, solveHashcash } from "./challenge.ts";
import { badToken, errorFrame } from "./errors.ts";
import { FrameError, JsonObjectSplitter } from "./frames.ts";
import { type CopilotSend, REPORT_CONSENTS, SET_OPTIONS } from "./request.ts";
import type { CopilotWeb } from "./session.ts";

/** A server event of the chat socket. */
export type CopilotEvent = Record<string, unknown> & { event?: unknown };

/** What a turn needs. */
export interface TurnOptions {
  http: Upstream;
  web: CopilotWeb;
  send: CopilotSend;
  /** `X-UserIdentityType` of a signed-in account. */
  identityType?: string;
  timeouts: Timeouts;
  /** Mints a Turnstile token; undefined when the browser may not be used. */
  turnstile?: () => Promise<string>;
  signal: AbortSignal;
  log: Logger;
}

/** The chat socket's URL for a session. */
export function chatUrl(base: string, token?: string, identityType?: string): URL {
  const url = new URL("/c/api/chat", base.replace(/^http/i, "ws"));
  url.searchParams.set("api-version", "2");
  url.searchParams.set("clientSessionId", crypto.randomUUID());
  if (token) {
    url.searchParams.set("accessToken", token);
    if (identityType) url.searchParams.set("X-UserIdentityType", identityType);
  }
  return url;
}

/** Opens the socket; a refused upgrade becomes a token (401) or challenge (403) error. */
async function open(o: TurnOptions): Promise<UpstreamSocket> {
  const { web } = o;
  const url = chatUrl(web.base, web.session.token, o.identityType);
  const cookie = web.session.cookieHeader(web.clearance);
  try {
    return await o.http.socket(url, {
      headers: { origin: web.base, "user-agent": web.userAgent, ...(cookie ? { cookie } : {}) },
      acceptLanguage: web.clearance?.lang,
    });
  } catch (err) {
    if (err instanceof GatewayError && err.upstreamStatus === 401 && web.session.token) {
      throw badToken("the chat socket's upgrade answered 401");
    }
    if (err instanceof GatewayError && err.upstreamStatus === 403) {
      throw challengeError("copilot", web.host, "the chat socket");
    }
    throw err;
  }
}

/** Reads the next events of the socket (`seconds` bounds the wait); undefined when it ended. */
async function read(
  socket: UpstreamSocket,
  splitter: JsonObjectSplitter,
  seconds: number,
  what: string,
): Promise<CopilotEvent[] | undefined> {
  const frame = await socket.next(seconds, what);
  if (frame === undefined) return undefined;
  try {
    return splitter.push(frame);
  } catch (err) {
    if (err instanceof FrameError) throw upstreamFailed("copilot", err.message, err);
    throw err;
  }
}

/** Runs one turn and yields the server's events up to `done` (see the module doc). */
export async function* copilotTurn(o: TurnOptions): AsyncGenerator<CopilotEvent> {
  const socket = await open(o);
  const splitter = new JsonObjectSplitter();
  const signedIn = o.web.session.token !== undefined;
  const sendFrame = JSON.stringify(o.send);
  try {
    // The server speaks first; what it says instead of `connected` is handled below.
    let pending = await read(socket, splitter, o.timeouts["first-byte"], "the connected frame");
    if (pending === undefined) throw ended(socket, "before it said connected");
    while (pending.length === 0) {
      pending = await read(socket, splitter, o.timeouts["first-byte"], "the connected frame");
      if (pending === undefined) throw ended(socket, "before it said connected");
    }
    if (pending[0].event === "connected") pending.shift();
    for (const frame of [JSON.stringify(SET_OPTIONS), JSON.stringify(REPORT_CONSENTS), sendFrame]) {
      socket.send(frame);
    }
    let answered: string | undefined;
    let answering = true;
    while (true) {
      for (const ev of pending) {
        switch (ev.event) {
          case "connected":
            continue;
          case "challenge": {
            if (answered !== undefined) {
              throw challengeError("copilot", o.web.host, "the chat (a second challenge)");
            }
            const { token, method } = await answer(ev, o);
            answered = method;
            socket.send(JSON.stringify({ event: "challengeResponse", token, method, id: ev.id }));
            socket.send(sendFrame);
            continue;
          }
          case "error":
            if (ev.errorCode === "invalid-event" && answered === "cloudflare") {
              // The Turnstile answer was refused: the clearance, not the protocol.
              throw challengeError("copilot", o.web.host, "the chat (its Turnstile answer)");
            }
            throw errorFrame(ev, { signedIn, answered: answered !== undefined });
          case "done":
            yield ev;
            return;
          default:
            if (typeof ev.event === "string" && !["received", "startMessage"].includes(ev.event)) {
              answering = false;
            }
            yield ev;
        }
      }
      const seconds = answering ? o.timeouts["first-byte"] : o.timeouts.idle;
      const next = await read(socket, splitter, seconds, answering ? "the answer" : "mid-answer");
      if (next === undefined) throw ended(socket, "before its 'done' event");
      pending = next;
    }
  } finally {
    socket.close();
  }
}

/** The token and method that answer a challenge frame. */
async function answer(
  ev: CopilotEvent,
  o: TurnOptions,
): Promise<{ token: string; method: string }> {
  const method = typeof ev.method === "string" ? ev.method : null;
  const parameter = ev.parameter === undefined || ev.parameter === null ? "" : String(ev.parameter);
  try {
    if (method === "hashcash") {
      o.log.debug("copilot: answering a hashcash challenge");
      return { token: await solveHashcash(parameter, o.signal), method };
    }
    if (method === "copilot") return { token: solveArithmetic(parameter), method };
  } catch (err) {
    if (err instanceof ChallengeError) {
      throw upstreamFailed("copilot", `cannot answer the ${method} challenge: ${err.message}`);
    }
    throw err;
  }
  if (method === null || method === "cloudflare") {
    if (!o.turnstile) {
      throw challengeError(
        "copilot",
        o.web.host,
        "the chat (it asks for a Turnstile token and copilot.clearance is off)",
      );
    }
    o.log.info("copilot: the chat socket asks for Turnstile; minting a token with Chromium");
    return { token: await o.turnstile(), method: "cloudflare" };
  }
  throw upstreamFailed("copilot", `the chat socket sent a challenge of unknown method '${method}'`);
}

/** The 502 of a socket that ended early. */
function ended(socket: UpstreamSocket, when: string): GatewayError {
  const e = socket.end;
  const how = e ? (e.error ?? `code ${e.code}${e.reason ? `, ${e.reason}` : ""}`) : "closed";
  return upstreamFailed("copilot", `the chat socket closed ${when} (${how})`);
}
