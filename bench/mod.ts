/**
 * `deno task bench`: the gateway against the same fake upstream reached directly and through a
 * minimal `fetch` pass-through proxy, measured in one run with wrk (Debian package `wrk`).
 *
 * Prints non-streaming requests/s and p50/p99, 50-chunk streams/s, latency added at one
 * connection, and time to the first chunk, with the ratios and the targets:
 * - gateway streams/s at least 0.7x the pass-through's (two baselines: a body piped by Deno
 *   without JavaScript per chunk, and one that touches every chunk in JavaScript as a proxy that
 *   parses the stream must);
 * - p50 added latency under 1 ms at 1 connection (median of interleaved rounds);
 * - no first-chunk delay (TTFB through the gateway close to direct);
 * - the upstream aborted within 100 ms of a client's disconnect;
 * - gateway CPU per stream through `/v1/responses` within 1.2x of `/v1/chat/completions`.
 * - the gateway's CPU per stream of the Messages API within 1.2x of Chat Completions'
 *   (`api_streams.ts`).
 *
 * Environment: `BENCH_SECONDS` (default 5) per measurement, `BENCH_CONNECTIONS` (default 50).
 *
 * @module
 */

import { type FakeOpenAi, startFakeOpenAi } from "../tests/fakes/openai.ts";
import { formatApiStreams, measureApiStreams } from "./api_streams.ts";
import { formatParserBench, runToolcallParserBench } from "./toolcall_parser.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const CONNECTIONS = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 50);
/** Interleaved rounds of the one-connection latency measurement. */
const LATENCY_ROUNDS = 5;
const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;

interface Proc {
  child: Deno.ChildProcess;
  port: number;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitPort(port: number, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`port ${port} did not open`);
}

function spawn(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
  }
  // Keep draining so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  return buf.split("\n")[0].trim();
}

async function startUpstream(): Promise<Proc> {
  const child = spawn(["run", "-A", `${here}upstream.ts`]);
  const port = Number(await firstLine(child.stdout));
  await waitPort(port);
  return { child, port };
}

async function startGateway(upstreamPort: number, slowOrigin: string, dir: string): Promise<Proc> {
  const port = freePort();
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    `server:\n  port: ${port}\n  host: 127.0.0.1\ncustom-llm:\n  - prefix: bench\n    base-url: http://127.0.0.1:${upstreamPort}/v1\n    models: [gpt-4o-mini]\n  - prefix: slow\n    base-url: ${slowOrigin}/v1\n    models: [gpt-4o-mini]\n`,
  );
  const child = spawn(["run", "-A", `${root}main.ts`, "--config", config, "--log", "error"]);
  child.stdout.cancel().catch(() => {});
  await waitPort(port);
  return { child, port };
}

async function startPassthrough(upstreamPort: number, mode: "piped" | "chunks"): Promise<Proc> {
  const port = freePort();
  const child = spawn([
    "run",
    "-A",
    `${here}passthrough.ts`,
    String(port),
    `http://127.0.0.1:${upstreamPort}`,
    mode,
  ]);
  child.stdout.cancel().catch(() => {});
  await waitPort(port);
  return { child, port };
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests completed in the run. */
  requests: number;
}

function parseMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

async function wrk(
  url: string,
  body: string,
  connections: number,
  dir: string,
  seconds = SECONDS,
): Promise<WrkResult> {
  const script = `${dir}/post_${crypto.randomUUID()}.lua`;
  await Deno.writeTextFile(
    script,
    `wrk.method = "POST"\nwrk.body = ${
      JSON.stringify(body)
    }\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const out = await new Deno.Command("wrk", {
    args: [
      "-t",
      String(Math.min(2, connections)),
      "-c",
      String(connections),
      "-d",
      `${seconds}s`,
      "--latency",
      "-s",
      script,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const p50 = parseMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? "");
  const p99 = parseMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = non2xx + (sock ? sock.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0);
  return { rps, p50, p99, errors, requests };
}

/** The median of each figure over several runs of one path. */
function medianResult(runs: WrkResult[]): WrkResult {
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    requests: runs.reduce((n, r) => n + r.requests, 0),
  };
}

/** Median time to the first SSE data chunk over `n` sequential streamed requests. */
async function ttfb(url: string, body: string, n = 200): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes('"content":"abcd"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    times.push(performance.now() - t0);
    await reader.cancel();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Milliseconds from a client's disconnect to the upstream seeing its request aborted. */
async function abortLatency(
  url: string,
  slow: FakeOpenAi,
  n = 20,
): Promise<{ p50: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "slow/gpt-4o-mini",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const rec = slow.requests.at(-1)!;
    const t0 = performance.now();
    await reader.cancel();
    await rec.aborted;
    times.push(rec.abortedAt! - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)], max: times[n - 1] };
}

/** CPU milliseconds (user + system) a process has used so far, from /proc. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) end at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** The gateway's CPU milliseconds per request over one wrk run of `body` on `url`. */
async function cpuPerRequest(
  pid: number,
  url: string,
  body: string,
  dir: string,
): Promise<{ ms: number; rps: number; errors: number }> {
  const before = await cpuMs(pid);
  const r = await wrk(url, body, CONNECTIONS, dir);
  const used = (await cpuMs(pid)) - before;
  return { ms: used / r.requests, rps: r.rps, errors: r.errors };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["-v"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (!(await hasWrk())) {
    console.error("wrk is not installed: apt-get install -y wrk");
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "bench-" });
  const upstream = await startUpstream();
  // A slow upstream in this process, to time how fast a client's disconnect reaches it.
  const slow = await startFakeOpenAi();
  slow.respond = () => ({ text: "z".repeat(200_000), delayMs: 5 });
  const gateway = await startGateway(upstream.port, slow.origin, dir);
  const pass = await startPassthrough(upstream.port, "piped");
  const passJs = await startPassthrough(upstream.port, "chunks");
  const procs = [upstream, gateway, pass, passJs];
  try {
    const msg = [{ role: "user", content: "benchmark" }];
    const direct = `http://127.0.0.1:${upstream.port}/v1/chat/completions`;
    const viaPass = `http://127.0.0.1:${pass.port}/v1/chat/completions`;
    const viaPassJs = `http://127.0.0.1:${passJs.port}/v1/chat/completions`;
    const viaGw = `http://127.0.0.1:${gateway.port}/v1/chat/completions`;
    const upBody = (stream: boolean) =>
      JSON.stringify({ model: "gpt-4o-mini", messages: msg, stream });
    const gwBody = (stream: boolean) =>
      JSON.stringify({ model: "bench/gpt-4o-mini", messages: msg, stream });

    // Warm up every path (JIT, connection pools).
    for (
      const [u, b] of [
        [direct, upBody(true)],
        [viaPass, upBody(true)],
        [viaPassJs, upBody(true)],
        [viaGw, gwBody(true)],
      ]
    ) {
      await wrk(u, b, 10, dir);
    }

    console.log(
      `\nwrk ${SECONDS}s per run, ${CONNECTIONS} connections; fake upstream, 50-chunk streams\n`,
    );
    const rows: [string, WrkResult, WrkResult, WrkResult, WrkResult][] = [];
    for (const stream of [false, true]) {
      const d = await wrk(direct, upBody(stream), CONNECTIONS, dir);
      const p = await wrk(viaPass, upBody(stream), CONNECTIONS, dir);
      const pj = await wrk(viaPassJs, upBody(stream), CONNECTIONS, dir);
      const g = await wrk(viaGw, gwBody(stream), CONNECTIONS, dir);
      rows.push([stream ? "stream (50 chunks)" : "non-stream JSON", d, p, pj, g]);
    }
    console.log(
      "| load | direct req/s | pass-through piped req/s | pass-through JS chunks req/s | gateway req/s | gateway/piped | gateway/JS chunks | gateway p50 / p99 ms | errors |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const [name, d, p, pj, g] of rows) {
      console.log(
        `| ${name} | ${fmt(d.rps)} | ${fmt(p.rps)} | ${fmt(pj.rps)} | ${fmt(g.rps)} | ${
          fmt(g.rps / p.rps, 2)
        }x | ${fmt(g.rps / pj.rps, 2)}x | ${fmt(g.p50, 2)} / ${fmt(g.p99, 2)} | ${
          d.errors + p.errors + pj.errors + g.errors
        } |`,
      );
    }

    // One connection: interleaved short rounds, the median of each path's p50 and p99, so that
    // a burst of noise on the machine lands on all paths alike and one round does not decide.
    const rounds: { d: WrkResult; p: WrkResult; g: WrkResult }[] = [];
    const roundSeconds = Math.max(1, Math.round(SECONDS / 2));
    for (let i = 0; i < LATENCY_ROUNDS; i++) {
      rounds.push({
        d: await wrk(direct, upBody(false), 1, dir, roundSeconds),
        p: await wrk(viaPass, upBody(false), 1, dir, roundSeconds),
        g: await wrk(viaGw, gwBody(false), 1, dir, roundSeconds),
      });
    }
    const d1 = medianResult(rounds.map((r) => r.d));
    const p1 = medianResult(rounds.map((r) => r.p));
    const g1 = medianResult(rounds.map((r) => r.g));
    const added = g1.p50 - d1.p50;
    const tDirect = await ttfb(direct, upBody(true));
    const tGw = await ttfb(viaGw, gwBody(true));
    const abortMs = await abortLatency(viaGw, slow);
    console.log(
      `\n| 1 connection, non-stream (median of ${LATENCY_ROUNDS} rounds of ${roundSeconds}s) | direct | piped pass-through | gateway | gateway added |`,
    );
    console.log(`|---|---|---|---|---|`);
    console.log(
      `| p50 latency ms | ${fmt(d1.p50, 3)} | ${fmt(p1.p50, 3)} | ${fmt(g1.p50, 3)} | ${
        fmt(added, 3)
      } |`,
    );
    console.log(
      `| p99 latency ms | ${fmt(d1.p99, 3)} | ${fmt(p1.p99, 3)} | ${fmt(g1.p99, 3)} | ${
        fmt(g1.p99 - d1.p99, 3)
      } |`,
    );
    console.log(
      `| time to first chunk ms (p50 of 200) | ${fmt(tDirect, 3)} | – | ${fmt(tGw, 3)} | ${
        fmt(tGw - tDirect, 3)
      } |`,
    );
    console.log(
      `\nclient disconnect -> upstream aborted: p50 ${fmt(abortMs.p50, 1)} ms, max ${
        fmt(abortMs.max, 1)
      } ms (20 streams)`,
    );

    // CPU per stream, the chat path against the Responses path (same upstream stream),
    // interleaved rounds so that noise lands on every path alike.
    const viaResponses = `http://127.0.0.1:${gateway.port}/v1/responses`;
    const respBody = (store: boolean) =>
      JSON.stringify({ model: "bench/gpt-4o-mini", input: "benchmark", stream: true, store });
    await wrk(viaResponses, respBody(true), 10, dir);
    const cpu: { chat: number[]; stored: number[]; unstored: number[] } = {
      chat: [],
      stored: [],
      unstored: [],
    };
    let cpuErrors = 0;
    for (let i = 0; i < 3; i++) {
      for (
        const [key, url, body] of [
          ["chat", viaGw, gwBody(true)],
          ["stored", viaResponses, respBody(true)],
          ["unstored", viaResponses, respBody(false)],
        ] as const
      ) {
        const r = await cpuPerRequest(gateway.child.pid, url, body, dir);
        cpu[key].push(r.ms);
        cpuErrors += r.errors;
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const [cChat, cStored, cUnstored] = [med(cpu.chat), med(cpu.stored), med(cpu.unstored)];
    console.log(
      `\n| gateway CPU per 50-chunk stream (median of 3 rounds) | ms | vs chat |\n|---|---|---|`,
    );
    console.log(`| /v1/chat/completions | ${fmt(cChat, 3)} | 1.00x |`);
    console.log(
      `| /v1/responses (store: true) | ${fmt(cStored, 3)} | ${fmt(cStored / cChat, 2)}x |`,
    );
    console.log(
      `| /v1/responses (store: false) | ${fmt(cUnstored, 3)} | ${fmt(cUnstored / cChat, 2)}x |`,
    );
    if (cpuErrors > 0) console.log(`(${cpuErrors} errors in the CPU runs)`);

    const streamRatio = rows[1][4].rps / rows[1][2].rps;
    const streamRatioJs = rows[1][4].rps / rows[1][3].rps;
    console.log("\nTargets:");
    console.log(
      `- streams/s through the gateway >= 0.7x pass-through: ${fmt(streamRatio, 2)}x piped ${
        streamRatio >= 0.7 ? "PASS" : "FAIL"
      }, ${fmt(streamRatioJs, 2)}x JS chunks ${streamRatioJs >= 0.7 ? "PASS" : "FAIL"}`,
    );
    console.log(
      `- p50 added latency < 1 ms at 1 connection: ${fmt(added, 3)} ms ${
        added < 1 ? "PASS" : "FAIL"
      }`,
    );
    console.log(
      `- upstream aborted within 100 ms of a disconnect: max ${fmt(abortMs.max, 1)} ms ${
        abortMs.max < 100 ? "PASS" : "FAIL"
      }`,
    );
    console.log(
      `- no first-chunk delay: +${fmt(tGw - tDirect, 3)} ms ${tGw - tDirect < 2 ? "PASS" : "FAIL"}`,
    );
    const respRatio = cStored / cChat;
    console.log(
      `- Responses stream CPU within 1.2x of chat: ${fmt(respRatio, 2)}x ${
        respRatio <= 1.2 ? "PASS" : "FAIL"
      }`,
    );

    // The same stream through each client API: the gateway's CPU per stream.
    const apis = await measureApiStreams(
      `http://127.0.0.1:${gateway.port}`,
      gateway.child.pid,
      "bench/gpt-4o-mini",
      dir,
      { seconds: SECONDS, connections: CONNECTIONS },
    );
    console.log(`\n${formatApiStreams(apis)}`);
  } finally {
    for (const p of procs) {
      try {
        p.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await p.child.status;
    }
    await slow.close();
    await Deno.remove(dir, { recursive: true });
  }

  // The tool-call parser, in this process (the servers are stopped by now).
  console.log("");
  console.log(formatParserBench(runToolcallParserBench()));
}

if (import.meta.main) await main();
