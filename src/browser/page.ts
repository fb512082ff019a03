/**
 * Browser contexts (each its own cookie jar and proxy) and the pages in them, over CDP.
 *
 * @module
 */
import type { CdpConnection } from "./cdp.ts";

/** What a context needs of its browser. */
export interface ContextHost {
  readonly cdp: CdpConnection;
  readonly connected: boolean;
}

/** Why the browser could not be used. */
export class BrowserError extends Error {
  override name = "BrowserError";
}

/** A cookie as CDP reports it. */
export interface BrowserCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  /** Seconds since the epoch; -1 for a session cookie. */
  expires: number;
  httpOnly: boolean;
  secure: boolean;
}

/** A cookie to set: `url` decides its domain, path and secure flag. */
export interface CookieToSet {
  name: string;
  value: string;
  url: string;
}

/** An isolated browser context. */
export class BrowserContext {
  #pages: Page[] = [];
  constructor(
    readonly browser: ContextHost,
    readonly id: string,
    private readonly auth?: { username: string; password: string },
  ) {}

  /** Sets cookies in this context. */
  async setCookies(cookies: readonly CookieToSet[]): Promise<void> {
    if (cookies.length === 0) return;
    await this.browser.cdp.send("Storage.setCookies", {
      cookies: cookies.map((c) => ({ name: c.name, value: c.value, url: c.url })),
      browserContextId: this.id,
    });
  }

  /** Every cookie of this context. */
  async cookies(): Promise<BrowserCookie[]> {
    const { cookies } = await this.browser.cdp.send<{ cookies: BrowserCookie[] }>(
      "Storage.getCookies",
      { browserContextId: this.id },
    );
    return cookies;
  }

  /** Opens a blank page in this context. */
  async newPage(): Promise<Page> {
    const cdp = this.browser.cdp;
    const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
      browserContextId: this.id,
    });
    const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(cdp, targetId, sessionId);
    this.#pages.push(page);
    if (this.auth) await page.answerProxyAuth(this.auth);
    return page;
  }

  /** Closes the context and its pages. */
  async close(): Promise<void> {
    for (const p of this.#pages) p.detach();
    if (!this.browser.connected) return;
    await this.browser.cdp.send("Target.disposeBrowserContext", { browserContextId: this.id })
      .catch(() => {});
  }
}

/** One page (tab). */
export class Page {
  #unsubscribe: (() => void)[] = [];
  constructor(
    private readonly cdp: CdpConnection,
    readonly targetId: string,
    readonly sessionId: string,
  ) {}

  /** Sends a command to this page. */
  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}) {
    return this.cdp.send<T>(method, params, this.sessionId);
  }

  /**
   * Sets the user agent (header and `navigator`), the `Accept-Language` and, when given, the
   * client hints (`Sec-CH-UA*` headers and `navigator.userAgentData`) of this page.
   */
  async setUserAgent(
    userAgent: string,
    acceptLanguage: string,
    userAgentMetadata?: Record<string, unknown>,
  ): Promise<void> {
    await this.send("Emulation.setUserAgentOverride", {
      userAgent,
      acceptLanguage,
      ...(userAgentMetadata ? { userAgentMetadata } : {}),
    });
  }

  /** Clicks at a point of the page (CSS pixels from the top left of the viewport). */
  async click(x: number, y: number): Promise<void> {
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
    }
  }

  /** Starts loading `url`; fails when the browser cannot load it at all (refused, DNS, ...). */
  async navigate(url: string): Promise<void> {
    const res = await this.send<{ errorText?: string }>("Page.navigate", { url });
    if (res.errorText) throw new BrowserError(`cannot open ${url}: ${res.errorText}`);
  }

  /** Evaluates `expression` in the page and returns its value (JSON-serialisable values). */
  async evaluate<T>(expression: string): Promise<T> {
    const res = await this.send<{
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (res.exceptionDetails) {
      const d = res.exceptionDetails;
      throw new BrowserError(d.exception?.description ?? d.text);
    }
    return res.result.value as T;
  }

  /** Answers HTTP proxy authentication challenges with `auth`. */
  async answerProxyAuth(auth: { username: string; password: string }): Promise<void> {
    const mine = (sid?: string) => sid === this.sessionId;
    this.#unsubscribe.push(
      this.cdp.on("Fetch.requestPaused", (p, sid) => {
        if (!mine(sid)) return;
        this.send("Fetch.continueRequest", { requestId: p.requestId }).catch(() => {});
      }),
      this.cdp.on("Fetch.authRequired", (p, sid) => {
        if (!mine(sid)) return;
        const challenge = p.authChallenge as { source?: string } | undefined;
        const response = challenge?.source === "Proxy"
          ? { response: "ProvideCredentials", ...auth }
          : { response: "Default" };
        this.send("Fetch.continueWithAuth", {
          requestId: p.requestId,
          authChallengeResponse: response,
        }).catch(() => {});
      }),
    );
    await this.send("Fetch.enable", { handleAuthRequests: true });
  }

  /** Stops listening to this page's events. */
  detach(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
  }
}
