/**
 * The live configuration: loaded at start, reloaded when the file changes. An invalid edit is
 * refused with a log line and the previous configuration stays live; so is a file that became
 * empty (or comments only): an editor that truncates before writing must not turn the password
 * off for a moment. Emptying the settings on purpose takes a restart.
 *
 * @module
 */
import type { Logger } from "../util/log.ts";
import { ConfigError, loadConfig } from "./load.ts";
import type { Config } from "./schema.ts";

export { ConfigError, defaultConfig, loadConfig, parseConfig } from "./load.ts";
export type { Config, CustomLlmConfig, Timeouts } from "./schema.ts";

/** Changes applied on top of every loaded file (command-line flags and environment). */
export type ConfigOverride = (config: Config) => void;

/** Holds the current configuration and swaps it on a valid reload. */
export class ConfigStore {
  #current: Config;
  #listeners = new Set<(config: Config) => void>();
  #watcher?: Deno.FsWatcher;
  #reloadTimer?: ReturnType<typeof setTimeout>;

  /** @param file path of config.yaml; @param override applied after every load */
  constructor(
    readonly file: string,
    initial: Config,
    readonly override: ConfigOverride = () => {},
  ) {
    override(initial);
    this.#current = initial;
  }

  /** The configuration in force now. Read it per request; it may change between requests. */
  get current(): Config {
    return this.#current;
  }

  /** Calls `fn` after each successful reload. Returns a function that unsubscribes. */
  onChange(fn: (config: Config) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Loads the file again; keeps the old configuration when the new one is invalid. */
  async reload(log: Logger): Promise<boolean> {
    try {
      const { config, warnings, found, empty } = await loadConfig(this.file);
      if (!found) {
        log.warn(`config: ${this.file} disappeared; keeping the configuration in force`);
        return false;
      }
      if (empty) {
        log.error(
          `config: edit refused, the previous configuration stays live: ${this.file} holds no settings (empty or comments only; restart to run on defaults)`,
        );
        return false;
      }
      for (const w of warnings) log.warn(`config: ${w}`);
      this.override(config);
      if (config.server.port !== this.#current.server.port) {
        log.warn("config: server.port changed; it takes effect at the next start");
      }
      this.#current = config;
      for (const fn of this.#listeners) fn(config);
      log.info(`config: reloaded ${this.file}`);
      return true;
    } catch (err) {
      const msg = err instanceof ConfigError ? err.message : String(err);
      log.error(`config: edit refused, the previous configuration stays live: ${msg}`);
      return false;
    }
  }

  /** Watches the file's folder and reloads after writes settle (editors write in bursts). */
  watch(log: Logger, debounceMs = 150): void {
    if (this.#watcher) return;
    const dir = dirname(this.file);
    const base = basename(this.file);
    try {
      this.#watcher = Deno.watchFs(dir, { recursive: false });
    } catch (err) {
      log.warn(`config: cannot watch ${dir} for changes: ${(err as Error).message}`);
      return;
    }
    const watcher = this.#watcher;
    (async () => {
      try {
        for await (const ev of watcher) {
          if (ev.kind === "access") continue;
          if (!ev.paths.some((p) => basename(p) === base)) continue;
          clearTimeout(this.#reloadTimer);
          this.#reloadTimer = setTimeout(() => void this.reload(log), debounceMs);
        }
      } catch {
        // The watcher was closed.
      }
    })();
  }

  /** Stops watching the file. */
  close(): void {
    // A reload still waiting for its debounce would otherwise run after shutdown.
    clearTimeout(this.#reloadTimer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

function dirname(p: string): string {
  const i = Math.max(p.lastIndexOf("/"), p.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : p.slice(0, i);
}

function basename(p: string): string {
  const i = Math.max(p.lastIndexOf("/"), p.lastIndexOf("\\"));
  return p.slice(i + 1);
}
