/**
 * Starting and stopping the server.
 *
 * @module
 */
import type { ConfigStore } from "../config/mod.ts";
import { closeProxyClients } from "../net/proxy.ts";
import { PoolSet } from "../pool/mod.ts";
import { providers } from "../providers/registry.ts";
import type { Logger } from "../util/log.ts";
import { createApp } from "./app.ts";

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
  pools: PoolSet;
  /** Stops listening, closes connections and the config watcher. */
  close(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** Starts the HTTP server. */
export function startServer(options: ServerOptions): Promise<RunningServer> {
  const { store, log } = options;
  const pools = new PoolSet(log);
  const app = createApp({ store, log, pools });
  const port = options.port ?? store.current.server.port;
  const hostname = options.hostname ?? store.current.server.host;
  if (options.watch) store.watch(log);
  let listening = 0;
  let onListen!: () => void;
  const ready = new Promise<void>((r) => onListen = r);
  const server = Deno.serve({
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
  return ready.then(() => ({
    port: listening,
    url: `http://127.0.0.1:${listening}/v1`,
    pools,
    finished: server.finished,
    async close() {
      store.close();
      await server.shutdown();
      closeProxyClients();
      await Promise.allSettled(providers.map((p) => p.close?.()));
    },
  }));
}
