/**
 * Starting and stopping the server.
 *
 * @module
 */
import { Browsers } from "../browser/mod.ts";
import { RegexPool } from "../flags/mod.ts";
import type { ConfigStore } from "../config/mod.ts";
import { ImageStores } from "../images/mod.ts";
import { HttpClients } from "../net/http.ts";
import { PoolSet } from "../pool/mod.ts";
import { createRegistry, type Registry } from "../providers/registry.ts";
import { MemoryResponseStore } from "../responses/store.ts";
import { TaskPlans } from "../toolcall/mod.ts";
import type { Logger } from "../util/log.ts";
import { createApp } from "./app.ts";
import type { AppDeps } from "./types.ts";

/** The port is taken by another process. */
export class AddressInUse extends Error {
  override name = "AddressInUse";
}

/** Options of `startServer`. */
export interface ServerOptions {
  store: ConfigStore;
  log: Logger;
  /** Port to listen on (0 = any free port); defaults to the config's. */
  port?: number;
  hostname?: string;
  /** Reload the config when its file changes. */
  watch?: boolean;
}

/** A running server. */
export interface RunningServer {
  /** The port it listens on. */
  port: number;
  /** The base URL of the API (`http://127.0.0.1:<port>/v1`). */
  url: string;
  /** Every provider instance of this server. */
  registry: Registry;
  /** The server's Chromium (started on first use). */
  browsers: Browsers;
  /** Stops listening, closes connections and the config watcher. */
  close(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** Starts the HTTP server. */
export function startServer(options: ServerOptions): Promise<RunningServer> {
  const { store, log } = options;
  const clients = new HttpClients();
  const browsers = new Browsers(log);
  const registry = createRegistry({ log, browsers, http: clients });
  const deps: AppDeps = {
    store,
    log,
    registry,
    clients,
    plans: new TaskPlans(),
    responses: new MemoryResponseStore(() => {
      const r = store.current.responses;
      return { maxEntries: r["max-entries"], maxBytes: r["max-bytes"], ttl: r.ttl };
    }),
    regex: new RegexPool(),
    images: {
      stores: new ImageStores(),
      resting: new Map(),
      pools: new PoolSet(log),
      notices: new Set(),
    },
  };
  const app = createApp(deps);
  const port = options.port ?? store.current.server.port;
  const hostname = options.hostname ?? store.current.server.host;
  if (options.watch) store.watch(log);
  let listening = 0;
  let onListen!: () => void;
  const ready = new Promise<void>((r) => onListen = r);
  let server: Deno.HttpServer;
  try {
    server = serve();
  } catch (err) {
    // Nothing was started yet but these (a port in use): leave nothing open behind.
    registry.close();
    browsers.close();
    clients.close();
    store.close();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new AddressInUse(
        `${hostname}:${port} is already in use: stop the process that listens there, or start ` +
          "with another --port (or server.port)",
      );
    }
    throw err;
  }
  function serve(): Deno.HttpServer {
    return Deno.serve({
      port,
      hostname,
      onListen: (addr) => {
        listening = addr.port;
        onListen();
      },
      onError: (err) => {
        log.error(`unhandled error: ${(err as Error)?.stack ?? err}`);
        return new Response(
          JSON.stringify({
            error: { message: "internal error", type: "server_error", param: null, code: null },
          }),
          { status: 500, headers: { "content-type": "application/json" } },
        );
      },
    }, app.fetch);
  }
  return ready.then(() => ({
    port: listening,
    url: `http://127.0.0.1:${listening}/v1`,
    registry,
    browsers,
    finished: server.finished,
    async close() {
      store.close();
      await server.shutdown();
      deps.regex.close();
      await registry.close();
      await browsers.close();
      clients.close();
    },
  }));
}
