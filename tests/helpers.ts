/**
 * Starting the real gateway for tests: a config file in a temporary folder, `Deno.serve` on a
 * random port, log lines captured.
 *
 * @module
 */
import { stringify } from "yaml";
import { ConfigStore, loadConfig } from "../src/config/mod.ts";
import { type RunningServer, startServer } from "../src/server/mod.ts";
import { createLogger, type LogLevel } from "../src/util/log.ts";
import { loadTokenizer } from "../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

/** A gateway running for a test. */
export interface TestGateway extends RunningServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every log line written so far. */
  logs: string[];
  store: ConfigStore;
  /** The config file. */
  file: string;
  /** Rewrites the config file (the running server reloads it). */
  writeConfig(config: Record<string, unknown> | string): Promise<void>;
}

/** Starts the gateway with `config` (an object written as YAML, or YAML text). */
export async function startGateway(
  config: Record<string, unknown> | string = {},
  options: { watch?: boolean; level?: LogLevel } = {},
): Promise<TestGateway> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-test-" });
  const file = `${dir}/config.yaml`;
  const text = (c: Record<string, unknown> | string) => typeof c === "string" ? c : stringify(c);
  await Deno.writeTextFile(file, text(config));
  const logs: string[] = [];
  const log = createLogger(options.level ?? "debug", (_l, line) => logs.push(line));
  const loaded = await loadConfig(file);
  for (const w of loaded.warnings) log.warn(`config: ${w}`);
  const store = new ConfigStore(file, loaded.config);
  const server = await startServer({
    store,
    log,
    port: 0,
    hostname: "127.0.0.1",
    watch: options.watch,
  });
  return {
    ...server,
    origin: `http://127.0.0.1:${server.port}`,
    logs,
    store,
    file,
    writeConfig: (c) => Deno.writeTextFile(file, text(c)),
    async close() {
      await server.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Polls `check` every 20 ms until it returns true or `ms` pass. */
export async function waitFor(check: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with `promise`, or fails (instead of hanging the run) after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves when a fake saw its request aborted; fails (instead of hanging the run) after `ms`.
 * Generous on purpose: on a loaded machine noticing a closed connection can take a while.
 */
export function abortedWithin(
  rec: { aborted: Promise<void> },
  ms = 20_000,
  what = "the upstream request to be aborted",
): Promise<void> {
  return within(rec.aborted, ms, what);
}

/**
 * Reads a stream until `stop` says so, then aborts it with `controller` (the client leaving).
 * Returns how many chunks were read. The SDK may report the abort as an error; either way the
 * client stopped, which is what the caller tests.
 */
export async function readThenAbort<T>(
  stream: AsyncIterable<T>,
  controller: AbortController,
  stop: (chunk: T, n: number) => boolean = (_c, n) => n === 3,
): Promise<number> {
  let n = 0;
  try {
    for await (const chunk of stream) {
      if (stop(chunk, ++n)) controller.abort();
    }
  } catch {
    // The abort.
  }
  return n;
}

/**
 * Reads a chat stream's text until `stop(text so far)` says so, then aborts it with `controller`
 * (the client leaving). Returns the text read.
 */
export async function readTextThenAbort(
  stream: AsyncIterable<{ choices: { delta: { content?: string | null } }[] }>,
  controller: AbortController,
  stop: (text: string) => boolean,
): Promise<string> {
  let text = "";
  await readThenAbort(stream, controller, (chunk) => {
    text += chunk.choices[0]?.delta.content ?? "";
    return stop(text);
  });
  return text;
}

/** The JSON payloads of an SSE body (skipping `[DONE]`), and whether `[DONE]` came last. */
export function parseSseBody<T = Record<string, unknown>>(
  text: string,
): { events: T[]; done: boolean; comments: string[] } {
  const events: T[] = [];
  const comments: string[] = [];
  let done = false;
  for (const block of text.split("\n\n")) {
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) comments.push(line);
      else if (line.startsWith("data: ")) {
        const d = line.slice(6);
        if (d === "[DONE]") done = true;
        else events.push(JSON.parse(d));
      }
    }
  }
  return { events, done, comments };
}

/** Resolves when the background work of provider `id` of `gw` (deletes, closes) has finished. */
export async function settled(gw: RunningServer, id: string): Promise<void> {
  await gw.registry.get(id)?.settled?.();
}
