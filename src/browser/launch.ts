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
import { BrowserContext, BrowserError } from "./page.ts";
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
