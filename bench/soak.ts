/**
 * `deno task soak`: the mixed soak of issue 15 against a gateway started as a subprocess exactly
 * as `deno task start` starts it (the task's own command line from deno.json, with a config in a
 * temporary folder). Not part of CI.
 *
 * For `SOAK_SECONDS` (default 600), `SOAK_CONCURRENCY` clients (default 32) send chat, messages
 * and responses requests, streamed or not, each asking for an answer the upstream derives from a
 * nonce, so that every answer can be checked whole; `SOAK_ABORTS` of them (default 0.1) leave
 * at a random moment. The upstream (`soak_upstream.ts`, its own process) injects 429s, 500s,
 * hangs, garbage and dropped connections. A probe (`soak_probe.ts`, its own process) sends a
 * tiny request every 100 ms and reports the worst wait another client saw. RSS of the gateway is
 * read from `/proc/<pid>/status` every second.
 *
 * Prints requests, intact answers, errors by class, errors not in the API's shape, answers that
 * ended cleanly but were not whole ("corrupted without error"), internal 500s, upstream
 * connections left open, the probe's worst stall and RSS at start, after the first minute, at
 * the peak and at the end. Exits 1 when an answer was corrupted, an error was not in its API's
 * shape or an internal error occurred. Traffic stays on 127.0.0.1; the run stops by itself
 * (`SOAK_MAX_REQUESTS` bounds the count too). `SOAK_V8_FLAGS` adds V8 flags to the gateway's
 * command line, for experiments.
 *
 * @module
 */
import { type Api, API_PATHS, errorOf, readAnswer } from "../tests/fuzz/answers.ts";
import { expectedText } from "./soak_upstream.ts";

const SECONDS = Number(Deno.env.get("SOAK_SECONDS") ?? 600);
const CONCURRENCY = Number(Deno.env.get("SOAK_CONCURRENCY") ?? 32);
const ABORTS = Number(Deno.env.get("SOAK_ABORTS") ?? 0.1);
const MAX_REQUESTS = Number(Deno.env.get("SOAK_MAX_REQUESTS") ?? 10_000_000);
/** A client gives up on a request after this long (the gateway's own timeouts are 8 s). */
const CLIENT_TIMEOUT_MS = 30_000;
const root = new URL("..", import.meta.url).pathname;
const here = new URL(".", import.meta.url).pathname;

/** What the run counted. */
interface Tally {
  requests: number;
  intact: number;
  aborted: number;
  classes: Map<string, number>;
  nonApi: number;
  corrupted: number;
  internal: number;
  samples: string[];
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitPort(port: number, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`port ${port} did not open`);
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drained */ }
  })().catch(() => {});
  return buf.split("\n")[0].trim();
}

/** The command line of `deno task start`, from deno.json, with `extra` arguments. */
async function startCommand(extra: string[]): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const words = String(config.tasks.start).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`unexpected start task: ${config.tasks.start}`);
  return [...words.slice(1), ...extra];
}

/**
 * The resident set of `pid` in bytes (VmRSS of `/proc/<pid>/status`), or 0 once it is gone.
 * Read with `cat`: Deno lets only --allow-all read /proc, and the soak keeps its network
 * permission to 127.0.0.1.
 */
async function rss(pid: number): Promise<number> {
  try {
    const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
      .output();
    const status = new TextDecoder().decode(out.stdout);
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function count(t: Tally, key: string): void {
  t.classes.set(key, (t.classes.get(key) ?? 0) + 1);
}

function sample(t: Tally, line: string): void {
  if (t.samples.length < 12) t.samples.push(line.slice(0, 300));
}

function requestBody(api: Api, stream: boolean, nonce: string): unknown {
  const content = `Please answer nonce:${nonce}`;
  const model = "soak/gpt-4o-mini";
  if (api === "chat") return { model, stream, messages: [{ role: "user", content }] };
  if (api === "messages") {
    return { model, stream, max_tokens: 400, messages: [{ role: "user", content }] };
  }
  return { model, stream, input: content, store: false };
}

/** One request of the mix, counted in `t`. */
async function one(origin: string, t: Tally): Promise<void> {
  const api = (["chat", "messages", "responses"] as const)[Math.floor(Math.random() * 3)];
  const stream = Math.random() < 0.5;
  const nonce = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  const leave = new AbortController();
  // A client that leaves does so before the answer (non-streamed) or after a few chunks.
  const leaves = Math.random() < ABORTS;
  const timer = leaves && !stream ? setTimeout(() => leave.abort(), Math.random() * 30) : undefined;
  t.requests++;
  try {
    const res = await fetch(origin + API_PATHS[api], {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify(requestBody(api, stream, nonce)),
      signal: AbortSignal.any([leave.signal, AbortSignal.timeout(CLIENT_TIMEOUT_MS)]),
    });
    if (leaves && stream && res.body) {
      const reader = res.body.getReader();
      for (let n = Math.floor(Math.random() * 4); n > 0; n--) {
        if ((await reader.read()).done) break;
      }
      leave.abort();
      await reader.cancel().catch(() => {});
      t.aborted++;
      return;
    }
    const body = await res.text();
    const read = res.status === 200 ? readAnswer(api, stream, body) : errorOf(api, body);
    if (read.kind === "error") {
      count(t, `${res.status === 200 ? "in-stream" : `HTTP ${res.status}`} ${read.type}`);
      if (!read.shaped) {
        t.nonApi++;
        sample(t, `non-API error (${api}, ${res.status}): ${read.message}`);
      }
      if (res.status === 500 || /internal error/.test(read.message)) {
        t.internal++;
        sample(t, `internal error (${api}): ${read.message}`);
      }
      return;
    }
    if (read.finished && read.text === expectedText(nonce)) {
      t.intact++;
      return;
    }
    t.corrupted++;
    sample(
      t,
      `corrupted (${api}, stream ${stream}, finished ${read.finished}): ${read.text.slice(-80)}`,
    );
  } catch (err) {
    if (leave.signal.aborted) t.aborted++;
    else count(t, `client ${(err as Error).name === "TimeoutError" ? "timeout" : "network error"}`);
  } finally {
    clearTimeout(timer);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

async function main(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "soak-" });
  const upstream = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", `${here}soak_upstream.ts`],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const upstreamPort = Number(await firstLine(upstream.stdout));
  const port = freePort();
  const configFile = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    configFile,
    [
      "server:",
      `  port: ${port}`,
      "  host: 127.0.0.1",
      "  timeouts: { connect: 8, first-byte: 8, idle: 8 }",
      "custom-llm:",
      "  - prefix: soak",
      `    base-url: http://127.0.0.1:${upstreamPort}/v1`,
      "    models: [gpt-4o-mini]",
      "",
    ].join("\n"),
  );
  const args = await startCommand(["--config", configFile]);
  // For experiments only: V8 flags the start task does not have (e.g. a smaller young generation).
  const v8 = Deno.env.get("SOAK_V8_FLAGS");
  if (v8) args.splice(1, 0, `--v8-flags=${v8}`);
  console.log(`gateway: deno ${args.join(" ")}`);
  const gateway = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderrTail: string[] = [];
  (async () => {
    for await (const line of gateway.stderr.pipeThrough(new TextDecoderStream())) {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
    }
  })().catch(() => {});
  const origin = `http://127.0.0.1:${port}`;
  const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
  try {
    await waitPort(port);
    await new Promise((r) => setTimeout(r, 3000));
    const rssStart = await rss(gateway.pid);
    let rssPeak = rssStart;
    let rssWarm = 0;
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const sampler = setInterval(async () => {
      const now = await rss(gateway.pid);
      rssPeak = Math.max(rssPeak, now);
      if (rssWarm === 0 && Date.now() - started >= 60_000 && Date.now() < deadline) rssWarm = now;
    }, 1000);
    const probe = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", `${here}soak_probe.ts`, origin, String(SECONDS)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const t: Tally = {
      requests: 0,
      intact: 0,
      aborted: 0,
      classes: new Map(),
      nonApi: 0,
      corrupted: 0,
      internal: 0,
      samples: [],
    };
    console.log(
      `soak: ${SECONDS} s, ${CONCURRENCY} clients, ${
        ABORTS * 100
      }% client aborts, upstream ${upstreamOrigin}`,
    );
    const progress = setInterval(() => {
      console.log(
        `  ${
          Math.round((Date.now() - started) / 1000)
        } s: ${t.requests} requests, ${t.intact} intact`,
      );
    }, 60_000);
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline && t.requests < MAX_REQUESTS) await one(origin, t);
    }));
    clearInterval(progress);
    const elapsed = (Date.now() - started) / 1000;
    const rssEnd = await rss(gateway.pid);
    const probeOut = JSON.parse(new TextDecoder().decode((await probe.output()).stdout));
    // The gateway's upstream timeouts are 8 s: give what it still holds a little longer.
    let stats = {
      open: 0,
      busy: 0,
      served: 0,
      faults: {} as Record<string, number>,
      busyKinds: {} as Record<string, number>,
    };
    for (let i = 0; i < 20; i++) {
      stats = await (await fetch(`${upstreamOrigin}/_stats`)).json();
      if (stats.busy === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 5000));
    const rssSettled = await rss(gateway.pid);
    clearInterval(sampler);

    const classes = [...t.classes].sort((a, b) => b[1] - a[1]);
    const growth = rssWarm > 0 ? `${(((rssEnd - rssWarm) / rssWarm) * 100).toFixed(1)}%` : "n/a";
    const lines = [
      "",
      `requests                 ${t.requests} (${(t.requests / elapsed).toFixed(0)}/s over ${
        elapsed.toFixed(0)
      } s)`,
      `intact                   ${t.intact}`,
      `client aborts            ${t.aborted}`,
      "errors by class:",
      ...classes.map(([k, n]) => `  ${k.padEnd(40)} ${n}`),
      `non-API-shaped errors    ${t.nonApi}`,
      `corrupted without error  ${t.corrupted}`,
      `internal 500s            ${t.internal}`,
      `upstream                 ${stats.served} served; faults ${JSON.stringify(stats.faults)}`,
      `upstream connections     ${stats.busy} left mid-response ${
        JSON.stringify(Object.fromEntries(Object.entries(stats.busyKinds).filter(([, n]) => n)))
      }, ${stats.open} open (kept alive)`,
      `worst stall (probe)      ${probeOut.max.toFixed(1)} ms (p99 ${
        probeOut.p99.toFixed(1)
      } ms, ` +
      `p50 ${probeOut.p50.toFixed(1)} ms, ${probeOut.over100} of ${probeOut.count} over 100 ms, ` +
      `${probeOut.failures} failed; longest at ${
        probeOut.worst.map((w: { ms: number; at: number }) => `${w.ms} ms @${w.at}s`).join(", ")
      })`,
      `RSS                      start ${mb(rssStart)}, after 60 s ${
        rssWarm ? mb(rssWarm) : "n/a"
      }, peak ${mb(rssPeak)}, end ${mb(rssEnd)} (growth from 60 s: ${growth}), 5 s after ${
        mb(rssSettled)
      }`,
      ...t.samples.map((s) => `  sample: ${s}`),
    ];
    console.log(lines.join("\n"));
    return t.corrupted + t.nonApi + t.internal > 0 ? 1 : 0;
  } catch (err) {
    console.error(
      `soak failed: ${(err as Error).message}\ngateway stderr:\n${stderrTail.join("")}`,
    );
    return 2;
  } finally {
    try {
      gateway.kill("SIGTERM");
    } catch {
      // Gone already.
    }
    await gateway.status;
    upstream.kill("SIGTERM");
    await upstream.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
