/**
 * The server's one Chromium process: started on first use, started again if it died or its
 * settings changed (`browser.*`, `server.ca-file`), closed when the server shuts down.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { GatewayError } from "../openai/errors.ts";
import type { Logger } from "../util/log.ts";
import { Browser, BROWSER_NAMES, findExecutable } from "./launch.ts";
import { BrowserError } from "./page.ts";
import { spkiHashes } from "./spki.ts";

interface Shared {
  key: string;
  starting: Promise<Browser>;
}

/**
 * The flags that make Chromium trust `server.ca-file` as the transports do: the public keys of its
 * certificates (see `spki.ts`). Chromium then accepts a chain that includes one of them, which is
 * what a TLS-inspecting proxy or a local fake presents. An unreadable file is a 500 naming the key.
 */
async function trustArgs(caFile: string | undefined): Promise<string[]> {
  if (!caFile) return [];
  let pem: string;
  try {
    pem = await Deno.readTextFile(caFile);
  } catch (err) {
    throw new GatewayError(
      500,
      `server.ca-file '${caFile}' cannot be used: ${(err as Error).message}`,
      "server_error",
      "ca_file_unreadable",
    );
  }
  const hashes = await spkiHashes(pem);
  return hashes.length ? [`--ignore-certificate-errors-spki-list=${hashes.join(",")}`] : [];
}

/**
 * The server's browser, started when first needed: one Chromium process for every provider that
 * needs one, started again if it died or its settings changed, closed with the server.
 */
export class Browsers {
  #shared: Shared | undefined;
  /** Bumped by `close` so that a launch finishing afterwards closes itself. */
  #generation = 0;

  constructor(private readonly log?: Logger) {}

  /**
   * The browser, started when needed. Fails with a `GatewayError` (500) that says what to do when
   * no browser is installed or it cannot start.
   */
  async get(config: Config): Promise<Browser> {
    const settings = config.browser;
    // Read before any await: a close() from here on must stop this launch.
    const gen = this.#generation;
    const trust = await trustArgs(config.server["ca-file"]);
    if (gen !== this.#generation) throw new BrowserError("the browser was closed");
    const key = JSON.stringify([
      settings.executable ?? "",
      settings.headless,
      settings.args,
      trust,
    ]);
    const shared = this.#shared;
    if (shared && shared.key === key) {
      const current = await shared.starting.catch(() => undefined);
      if (current?.connected) return current;
    }
    if (this.#shared) {
      const old = this.#shared;
      this.#shared = undefined;
      old.starting.then((b) => b.close()).catch(() => {});
    }
    const starting = this.#launch(settings, trust, gen);
    const entry = { key, starting };
    this.#shared = entry;
    starting.catch(() => {
      // A failed start is not kept: the next request tries again.
      if (this.#shared === entry) this.#shared = undefined;
    });
    return await starting;
  }

  async #launch(settings: Config["browser"], trust: string[], gen: number): Promise<Browser> {
    const executable = await findExecutable(settings.executable);
    if (!executable) {
      const where = settings.executable
        ? `browser.executable '${settings.executable}' is not an executable file`
        : `none of ${BROWSER_NAMES.join(", ")} is on PATH`;
      throw new GatewayError(
        500,
        `this model needs Chromium to pass the site's Cloudflare check, but ${where}; install it (apt-get install chromium) or set browser.executable`,
        "server_error",
        "browser_unavailable",
      );
    }
    let browser: Browser;
    try {
      browser = await Browser.launch({
        executable,
        headless: settings.headless,
        args: [...trust, ...settings.args],
        log: this.log,
      });
    } catch (err) {
      throw new GatewayError(
        500,
        `the browser could not start: ${(err as Error).message}`,
        "server_error",
        "browser_unavailable",
        null,
        { cause: err },
      );
    }
    if (gen !== this.#generation) {
      // The server shut down while the browser was starting.
      await browser.close();
      throw new BrowserError("the browser was closed");
    }
    return browser;
  }

  /** True while the browser process runs. */
  async running(): Promise<boolean> {
    const b = await this.#shared?.starting.catch(() => undefined);
    return b?.connected ?? false;
  }

  /** Closes the browser, if one was started. Safe to call at any time and more than once. */
  async close(): Promise<void> {
    this.#generation++;
    const current = this.#shared;
    this.#shared = undefined;
    if (!current) return;
    const browser = await current.starting.catch(() => undefined);
    await browser?.close();
  }
}
