/**
 * The command line: `deno task start [flags]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Config, ConfigError, ConfigStore, loadConfig } from "./src/config/mod.ts";
import { defaultConfigPath } from "./src/config/paths.ts";
import { REGEX_CHILD_ENV, serveRegexChild } from "./src/flags/regex_child.ts";
import { proxyUrl } from "./src/config/schema.ts";
import { Browsers } from "./src/browser/mod.ts";
import { HttpClients, upstreamFactory } from "./src/net/http.ts";
import { createRegistry } from "./src/providers/registry.ts";
import { exposureWarning, listModels, readinessLines } from "./src/server/info.ts";
import { AddressInUse, startServer } from "./src/server/mod.ts";
import { loadWreq } from "./src/net/transport/mod.ts";
import { createLogger, LEVELS, type LogLevel } from "./src/util/log.ts";
import { NAME, VERSION } from "./src/version.ts";

/** `--help` text: every flag with its default and environment variable. */
export const HELP = `${NAME} ${VERSION}: an OpenAI-compatible gateway to many AI services.

Usage: deno task start [flags]

Flags:
  --port <n>        port to listen on (env PORT; default: server.port of the config, 8080)
  --host <addr>     address to listen on (env HOST; default: server.host, 0.0.0.0)
  --proxies <url>   proxy for every upstream: http://, https://, socks5://, socks5h://
                    (env PROXIES; default: server.proxies of the config, none)
  --config <path>   configuration file (env CONFIG; default: ./config.yaml, or
                    config.yaml beside a compiled executable; a missing file means defaults)
  --log <level>     trace, debug, info, warn, error or silent (env LOG; default: info)
  --models          print the model ids that can answer (what /v1/models lists to a
                    request without a key) and exit
  --check           check the config, say which providers are ready and what each lacks, load
                    the native part of the chrome transport; exit 1 if it cannot load
  -h, --help        print this help and exit
  -v, --version     print the version and exit
`;

/** The parsed command line. */
export interface Cli {
  port?: number;
  host?: string;
  proxies?: string;
  config: string;
  log: LogLevel;
  models: boolean;
  check: boolean;
  help: boolean;
  version: boolean;
}

/** Parses arguments and environment; throws an Error with a clear message on bad input. */
export function parseCli(args: string[], env: (name: string) => string | undefined): Cli {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      proxies: { type: "string" },
      config: { type: "string" },
      log: { type: "string" },
      models: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const portText = values.port ?? env("PORT");
  let port: number | undefined;
  if (portText !== undefined && portText !== "") {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`--port must be an integer from 0 to 65535, got '${portText}'`);
    }
  }
  const proxies = values.proxies ?? env("PROXIES") ?? undefined;
  if (proxies && !proxyUrl.safeParse(proxies).success) {
    throw new Error(`--proxies must be an http://, https://, socks5:// or socks5h:// URL`);
  }
  const log = (values.log ?? env("LOG") ?? "info").toLowerCase();
  if (!(LEVELS as readonly string[]).includes(log)) {
    throw new Error(`--log must be one of ${LEVELS.join(", ")}, got '${log}'`);
  }
  return {
    port,
    host: values.host ?? env("HOST") ?? undefined,
    proxies: proxies || undefined,
    config: values.config ?? env("CONFIG") ?? defaultConfigPath(),
    log: log as LogLevel,
    models: values.models,
    check: values.check,
    help: values.help,
    version: values.version,
  };
}

/** Applies the command line on top of a loaded config. */
export function cliOverride(cli: Cli): (config: Config) => void {
  return (config) => {
    if (cli.port !== undefined) config.server.port = cli.port;
    if (cli.host !== undefined) config.server.host = cli.host;
    if (cli.proxies !== undefined) config.server.proxies = cli.proxies;
  };
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(Deno.args, (n) => Deno.env.get(n));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (cli.help) {
    console.log(HELP);
    return 0;
  }
  if (cli.version) {
    console.log(`${NAME} ${VERSION}`);
    return 0;
  }
  const log = createLogger(cli.log);
  let store: ConfigStore;
  try {
    const { config, warnings } = await loadConfig(cli.config);
    for (const w of warnings) log.warn(`config: ${w}`);
    store = new ConfigStore(cli.config, config, cliOverride(cli));
  } catch (err) {
    console.error(`error: ${err instanceof ConfigError ? err.message : err}`);
    return 1;
  }
  if (cli.check) return await check(store);
  if (cli.models) {
    const config = store.current;
    const signal = AbortSignal.timeout(10_000);
    const http = new HttpClients();
    const browsers = new Browsers(log);
    const registry = createRegistry({ log, browsers, http });
    try {
      // The same list `/v1/models` gives a request without a credential.
      const models = await listModels(registry, config, {
        signal,
        upstream: upstreamFactory(config, signal, http),
      });
      for (const m of models) console.log(m.id);
    } finally {
      await registry.close();
      await browsers.close();
      http.close();
    }
    return 0;
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ store, log, watch: true });
  } catch (err) {
    if (!(err instanceof AddressInUse)) throw err;
    console.error(`error: ${err.message}`);
    return 1;
  }
  log.info(
    `${NAME} ${VERSION} listening on http://${store.current.server.host}:${server.port} (config: ${store.file})`,
  );
  for (const line of await readinessLines(server.registry, store.current)) log.info(line);
  const exposed = await exposureWarning(server.registry, store.current);
  if (exposed) log.warn(exposed);
  const stop = () => {
    log.info("shutting down");
    server.close().finally(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

/** `--check`: the config, each provider's readiness, and the chrome transport's native part. */
async function check(store: ConfigStore): Promise<number> {
  const log = createLogger("silent");
  const http = new HttpClients();
  const browsers = new Browsers(log);
  const registry = createRegistry({ log, browsers, http });
  console.log(`config: ${store.file}`);
  for (const line of await readinessLines(registry, store.current)) console.log(line);
  let code = 0;
  try {
    await loadWreq();
    console.log(`chrome transport: native library loaded (${Deno.build.os}-${Deno.build.arch})`);
  } catch (err) {
    console.log(`chrome transport: ${(err as Error).message}`);
    code = 1;
  }
  await registry.close();
  http.close();
  return code;
}

if (import.meta.main && Deno.env.get(REGEX_CHILD_ENV) === "1") {
  // A compiled binary started as the server's regex process (src/flags/regex_pool.ts).
  await serveRegexChild();
} else if (import.meta.main) {
  const code = await main();
  if (code !== 0) Deno.exit(code);
}
