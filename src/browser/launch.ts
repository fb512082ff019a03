/**
 * Starting Chromium and driving it over the DevTools protocol: one browser process, isolated
 * browser contexts (each its own cookie jar and proxy), pages in them.
 *
 * Chromium runs headless with a fresh profile in a temporary folder and the flags it needs on
 * these machines (`--no-sandbox` as root, no background networking, no QUIC). The DevTools
 * endpoint is on a random port announced on stderr; stderr is drained for as long as the process
 * lives (a full pipe would block the browser) and its last lines explain a failed launch.
 *
 * @module
 */
import { LineSplitter } from "../net/lines.ts";
import type { Logger } from "../util/log.ts";
import { CdpConnection } from "./cdp.ts";

/** Names tried on PATH when `browser.executable` is not set. */
export const BROWSER_NAMES = [
  "chromium",
  "chromium-browser",
  "google-chrome",
  "google-chrome-stable",
];

/** Where Chromium's own service calls are sent: a closed port, so they fail at once. */
const DEAD_END = "http://127.0.0.1:9";

/** Flags every launch gets. */
const BASE_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--disable-extensions",
  "--disable-default-apps",
  "--disable-breakpad",
  "--disable-crash-reporter",
  "--disable-features=Translate,MediaRouter,DialMediaRouteProvider,OptimizationHints," +
  "AutofillServerCommunication,NetworkTimeServiceQuerying,PreconnectToSearch",
  // Chromium still calls Google's sign-in, search, push (GCM) and component-update servers at
  // start, through the page's proxy, whatever the flags above say (150 and 156 differ in which):
  // point each at a closed loopback port instead.
  ...[
    "gaia-url",
    "google-base-url",
    "gcm-checkin-url",
    "gcm-mcs-endpoint",
    "gcm-registration-url",
  ].map((flag) => `--${flag}=${DEAD_END}`),
  `--component-updater=url-source=${DEAD_END}`,
  "--metrics-recording-only",
  "--disable-client-side-phishing-detection",
  "--disable-domain-reliability",
  "--no-pings",
  // Without this `navigator.webdriver` is true, which bot checks look for.
  "--disable-blink-features=AutomationControlled",
  "--password-store=basic",
  "--use-mock-keychain",
  "--mute-audio",
  "--hide-scrollbars",
];

/** Noise Chromium prints on machines without D-Bus or a GPU; left out of error messages. */
const NOISE = /dbus|zygote|gpu_init|viz_main|Fontconfig|sandbox_linux|ALSA/i;

/** Why the browser could not be used. */
export class BrowserError extends Error {
  override name = "BrowserError";
}

/** Options of `Browser.launch`. */
export interface LaunchOptions {
  /** Path of the Chromium (or Chrome) binary. */
  executable: string;
  headless: boolean;
  /** Extra command line flags. */
  args?: readonly string[];
  /** Milliseconds to wait for the DevTools endpoint. */
  timeoutMs?: number;
  log?: Logger;
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

/**
 * Finds the browser binary: `configured` (a path, or a name looked up on PATH), else the first of
 * `BROWSER_NAMES` on PATH. Undefined when there is none.
 */
export async function findExecutable(configured?: string): Promise<string | undefined> {
  if (configured) {
    if (/[\\/]/.test(configured)) {
      return await isExecutable(configured) ? configured : undefined;
    }
    return await onPath(configured);
  }
  for (const name of BROWSER_NAMES) {
    const found = await onPath(name);
    if (found) return found;
  }
  // Where macOS and Windows install browsers that are not on PATH.
  for (const candidate of WELL_KNOWN[Deno.build.os] ?? []) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const WELL_KNOWN: Partial<Record<typeof Deno.build.os, string[]>> = {
  darwin: [
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  ],
  windows: [
    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
  ],
};

async function onPath(name: string): Promise<string | undefined> {
  const windows = Deno.build.os === "windows";
  const path = Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
  for (const dir of path.split(windows ? ";" : ":")) {
    if (!dir) continue;
    for (const file of windows ? [`${name}.exe`, name] : [name]) {
      const candidate = `${dir.replace(/[\\/]+$/, "")}/${file}`;
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** A running Chromium. */
export class Browser {
  #child: Deno.ChildProcess;
  #cdp: CdpConnection;
  #dataDir: string;
  #drained: Drain;
  #exited = false;
  #closing?: Promise<void>;
  #log?: Logger;

  private constructor(
    child: Deno.ChildProcess,
    cdp: CdpConnection,
    dataDir: string,
    drained: Drain,
    readonly executable: string,
    /** The browser's own user agent (`HeadlessChrome` when headless). */
    readonly userAgent: string,
    log?: Logger,
  ) {
    this.#child = child;
    this.#cdp = cdp;
    this.#dataDir = dataDir;
    this.#drained = drained;
    this.#log = log;
    child.status.then(() => {
      this.#exited = true;
    });
  }

  /** Starts Chromium and connects to it. Fails with the browser's own words when it cannot. */
  static async launch(options: LaunchOptions): Promise<Browser> {
    const { executable, log } = options;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const dataDir = await Deno.makeTempDir({ prefix: "gateway-chromium-" });
    const args = [
      ...BASE_ARGS,
      ...(options.headless ? ["--headless"] : []),
      `--user-data-dir=${dataDir}`,
      "--remote-debugging-port=0",
      ...(options.args ?? []),
      "about:blank",
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(executable, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw new BrowserError(`cannot start ${executable}: ${(err as Error).message}`);
    }
    const tail: string[] = [];
    let announce!: (url: string) => void;
    const announced = new Promise<string>((r) => announce = r);
    const drained = drainStderr(child.stderr, tail, announce);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failed = Promise.race([
      child.status.then((s) => `it exited with code ${s.code}${s.signal ? ` (${s.signal})` : ""}`),
      new Promise<string>((r) => {
        timer = setTimeout(() => r(`no DevTools endpoint within ${timeoutMs} ms`), timeoutMs);
      }),
    ]);
    const first = await Promise.race([
      announced.then((url) => ({ url })),
      failed.then((why) => ({ why })),
    ]);
    clearTimeout(timer);
    const fail = async (why: string): Promise<never> => {
      await killAndWait(child);
      await endDrain(drained);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      const said = tail.filter((l) => !NOISE.test(l)).slice(-8).join("\n");
      throw new BrowserError(`${executable} did not start: ${why}${said ? `\n${said}` : ""}`);
    };
    if ("why" in first) return await fail(first.why);
    let cdp: CdpConnection;
    try {
      cdp = await CdpConnection.connect(first.url);
    } catch (err) {
      return await fail((err as Error).message);
    }
    let userAgent = "";
    try {
      const version = await cdp.send<{ userAgent: string; product: string }>("Browser.getVersion");
      userAgent = version.userAgent;
      log?.info(`browser: started ${version.product} (${executable})`);
    } catch (err) {
      await cdp.close();
      return await fail((err as Error).message);
    }
    return new Browser(child, cdp, dataDir, drained, executable, userAgent, log);
  }

  /** True while the process runs and the DevTools connection is open. */
  get connected(): boolean {
    return !this.#exited && !this.#cdp.closed && !this.#closing;
  }

  /** The DevTools connection. */
  get cdp(): CdpConnection {
    return this.#cdp;
  }

  /**
   * A new isolated context (own cookies, cache and storage), optionally through `proxy`
   * (`http://`, `https://`, `socks5://` or `socks5h://`, with credentials for HTTP proxies).
   */
  async newContext(options: { proxy?: string } = {}): Promise<BrowserContext> {
    const params: Record<string, unknown> = { disposeOnDetach: true };
    let auth: { username: string; password: string } | undefined;
    if (options.proxy) {
      const u = new URL(options.proxy);
      if (u.username) {
        auth = {
          username: decodeURIComponent(u.username),
          password: decodeURIComponent(u.password),
        };
      }
      // Chromium resolves host names through a SOCKS5 proxy itself; it has no `socks5h`.
      const scheme = u.protocol.replace(":", "").replace(/^socks5h$/, "socks5");
      if (auth && scheme.startsWith("socks")) {
        throw new BrowserError("Chromium cannot use a SOCKS proxy with a user name and password");
      }
      params.proxyServer = `${scheme}://${u.host}`;
      params.proxyBypassList = "<-loopback>";
    }
    const { browserContextId } = await this.#cdp.send<{ browserContextId: string }>(
      "Target.createBrowserContext",
      params,
    );
    return new BrowserContext(this, browserContextId, auth);
  }

  /** Closes the browser (politely, then by force) and removes its profile. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#exited && !this.#cdp.closed) {
        await withTimeout(this.#cdp.send("Browser.close").catch(() => {}), 3000);
      }
      await this.#cdp.close().catch(() => {});
      const exited = await withTimeout(this.#child.status.then(() => true), 5000);
      if (!exited) await killAndWait(this.#child);
      await endDrain(this.#drained);
      await Deno.remove(this.#dataDir, { recursive: true }).catch(() => {});
      this.#log?.info("browser: closed");
    })();
    return this.#closing;
  }
}

/** An isolated browser context. */
export class BrowserContext {
  #pages: Page[] = [];
  constructor(
    readonly browser: Browser,
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

  /** Sets the user agent (header and `navigator`) and the `Accept-Language` of this page. */
  async setUserAgent(userAgent: string, acceptLanguage: string): Promise<void> {
    await this.send("Emulation.setUserAgentOverride", { userAgent, acceptLanguage });
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

/** The stderr reader: `done` when the pipe ends. */
interface Drain {
  done: Promise<void>;
  cancel: () => Promise<void>;
}

function drainStderr(
  stream: ReadableStream<Uint8Array>,
  tail: string[],
  announce: (url: string) => void,
): Drain {
  const splitter = new LineSplitter();
  const decoder = new TextDecoder();
  const onLine = (line: string) => {
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(line);
    if (m) announce(m[1]);
    if (line.trim() === "") return;
    tail.push(line);
    if (tail.length > 50) tail.shift();
  };
  const reader = stream.getReader();
  const done = (async () => {
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const line of splitter.push(decoder.decode(value, { stream: true }))) onLine(line);
      }
    } catch {
      // The pipe broke with the process, or it was cancelled.
    }
  })();
  return { done, cancel: () => reader.cancel().catch(() => {}) };
}

/** Waits for stderr to end; children of a killed browser may hold it a while, then it is cut. */
async function endDrain(drain: Drain): Promise<void> {
  if (await withTimeout(drain.done.then(() => true), 5000) === undefined) {
    await drain.cancel();
    await drain.done;
  }
}

async function killAndWait(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await child.status.catch(() => {});
}

/** Resolves with `p`'s value, or `undefined` after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
  ]);
}
