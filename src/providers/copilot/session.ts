/**
 * Copilot's REST calls (reference section 1, request flow steps 1 to 3): the first `GET /` for
 * cookies, the conversation start (`POST /c/api/start`, falling back to `POST
 * /c/api/conversations`), image uploads (`POST /c/api/attachments`) and the delete of a
 * conversation. Every call carries the session's cookies with the Cloudflare clearance, the user
 * agent that earned it, the site as `Origin` and `Referer`.
 *
 * A session (`CopilotSession`) is one identity: an anonymous one the gateway made (its cookies,
 * `__Host-copilot-anon` among them, kept between requests) or a signed-in account (its access
 * token, and the cookies the site sets on the way).
 *
 * @module
 */
import type { Clearance } from "../../browser/mod.ts";
import { refusalOf } from "../../net/cloudflare.ts";
import { readJson, type Upstream } from "../../net/http.ts";
import { chromeUserAgent } from "../../net/transport/mod.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { badToken } from "./errors.ts";

/** The cookie of an anonymous Copilot session. */
export const ANON_COOKIE = "__Host-copilot-anon";

/** One Copilot identity and the cookies the site gave it. */
export class CopilotSession {
  readonly jar = new Map<string, string>();
  /** Whether the site's root has been visited (cookies collected). */
  visited = false;

  /** @param token the access token of a signed-in account; undefined for anonymous */
  constructor(readonly token?: string) {}

  /** Takes the cookies a response sets. */
  absorb(res: Response): void {
    for (const set of res.headers.getSetCookie()) {
      const pair = set.split(";", 1)[0];
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/;\s*max-age=0\b/i.test(set) || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /** The `Cookie` header: the session's cookies with the clearance's on top. */
  cookieHeader(clearance?: Clearance): string {
    const all = new Map(this.jar);
    for (const [k, v] of Object.entries(clearance?.cookies ?? {})) all.set(k, v);
    return [...all].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Forgets the cookies (the site refused them). */
  reset(): void {
    this.jar.clear();
    this.visited = false;
  }
}

/** Options of `CopilotWeb`. */
export interface WebOptions {
  /** `Accept-Language`. */
  lang: string;
  /** `X-UserIdentityType` of a signed-in account (`google`). */
  identityType?: string;
  /** IANA time zone for the conversation start. */
  timeZone: string;
}

/** One request's REST calls for one session. */
export class CopilotWeb {
  constructor(
    private readonly http: Upstream,
    readonly base: string,
    readonly session: CopilotSession,
    readonly clearance: Clearance | undefined,
    private readonly o: WebOptions,
  ) {}

  /** The site's host (error messages). */
  get host(): string {
    return new URL(this.base).host;
  }

  /** The user agent every call (and the socket) presents. */
  get userAgent(): string {
    return this.clearance?.userAgent ?? chromeUserAgent();
  }

  /** The headers of a REST call; `bearer` adds the access token (see `start`). */
  headers(extra: Record<string, string> = {}, bearer = false): Record<string, string> {
    const h: Record<string, string> = {
      "user-agent": this.userAgent,
      "accept-language": this.clearance?.lang ?? this.o.lang,
      origin: this.base,
      referer: `${this.base}/`,
      ...extra,
    };
    const cookie = this.session.cookieHeader(this.clearance);
    if (cookie) h.cookie = cookie;
    if (bearer && this.session.token) {
      h.authorization = `Bearer ${this.session.token}`;
      if (this.o.identityType) h["x-useridentitytype"] = this.o.identityType;
    }
    return h;
  }

  /** `GET /` once per session: the site's cookies. */
  async visit(): Promise<void> {
    if (this.session.visited) return;
    const res = await this.http.fetch(`${this.base}/`, {
      headers: this.headers({ accept: "text/html,application/xhtml+xml,*/*;q=0.8" }),
    });
    if (!res.ok) throw await refusalOf("copilot", res, this.host);
    this.session.absorb(res);
    await res.body?.cancel();
    this.session.visited = true;
  }

  /**
   * A new conversation's id: `POST /c/api/start`, or `POST /c/api/conversations` where the
   * former is missing (404/405). Signed in, the calls carry the token as a Bearer first and
   * without it after a 401 (sources disagree on which the site wants, reference section 1).
   */
  async start(): Promise<string> {
    const body = JSON.stringify({
      timeZone: this.o.timeZone,
      startNewConversation: true,
      teenSupportEnabled: true,
      correctPersonalizationSetting: true,
      performUserMerge: true,
      deferredDataUseCapable: true,
    });
    const post = (path: string, withBody: boolean, bearer: boolean) =>
      this.http.fetch(`${this.base}${path}`, {
        method: "POST",
        headers: this.headers(
          withBody
            ? { "content-type": "application/json", accept: "application/json" }
            : { accept: "application/json" },
          bearer,
        ),
        body: withBody ? body : undefined,
      });
    const signedIn = this.session.token !== undefined;
    let res = await post("/c/api/start", true, signedIn);
    if (res.status === 401 && signedIn) {
      await res.body?.cancel();
      res = await post("/c/api/start", true, false);
    }
    let field = "currentConversationId";
    if (res.status === 404 || res.status === 405) {
      await res.body?.cancel();
      field = "id";
      res = await post("/c/api/conversations", false, signedIn);
      if (res.status === 401 && signedIn) {
        await res.body?.cancel();
        res = await post("/c/api/conversations", false, false);
      }
    }
    if (res.status === 401) {
      await res.body?.cancel();
      if (signedIn) throw badToken("conversation start answered 401");
      this.session.reset();
      throw upstreamFailed(
        "copilot",
        "the conversation start refused the anonymous session (401); its cookies were dropped and a new session starts with the next request",
      );
    }
    if (!res.ok) throw await refusalOf("copilot", res, this.host);
    this.session.absorb(res);
    const json = await readJson<Record<string, unknown>>("copilot", res);
    const id = json?.[field];
    if (typeof id !== "string" || id === "") {
      throw upstreamFailed("copilot", `the conversation start answered without '${field}'`);
    }
    return id;
  }

  /** Uploads an image; its URL for the `send` frame. */
  async upload(bytes: Uint8Array<ArrayBuffer>, type: string): Promise<string> {
    const res = await this.http.fetch(`${this.base}/c/api/attachments`, {
      method: "POST",
      headers: this.headers({ "content-type": type, accept: "application/json" }, true),
      body: bytes,
    });
    if (res.status === 401 && this.session.token) {
      await res.body?.cancel();
      throw badToken("the image upload answered 401");
    }
    if (res.status === 413) {
      await res.body?.cancel();
      throw new GatewayError(
        413,
        "copilot refused the image as too large",
        "invalid_request_error",
      );
    }
    if (!res.ok) throw await refusalOf("copilot", res, this.host);
    this.session.absorb(res);
    const json = await readJson<{ url?: unknown }>("copilot", res);
    if (typeof json?.url !== "string" || json.url === "") {
      throw upstreamFailed("copilot", "the image upload answered without a url");
    }
    return json.url;
  }

  /** Deletes a conversation; failures are only logged by the caller. */
  async remove(conversationId: string): Promise<void> {
    const res = await this.http.fetch(
      `${this.base}/c/api/conversations/${encodeURIComponent(conversationId)}`,
      { method: "DELETE", headers: this.headers({}, true) },
    );
    await res.body?.cancel();
    if (!res.ok && res.status !== 404) {
      throw upstreamFailed("copilot", `deleting the conversation answered ${res.status}`);
    }
  }
}
