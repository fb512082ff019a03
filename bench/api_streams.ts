/**
 * CPU per stream of each client API through the gateway: the same 50-chunk upstream answer
 * streamed as Chat Completions and as the Messages API, under the same wrk load, with the
 * gateway process's CPU time (user + system, `/proc/<pid>/stat`) divided by the streams it
 * served. The goal: every other API within 1.2x of the chat path.
 *
 * @module
 */

/** One API's figures. */
export interface ApiStreamResult {
  api: string;
  streams: number;
  streamsPerSecond: number;
  cpuMsPerStream: number;
}

/** The gateway's CPU seconds so far (all threads), from `/proc`. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}

async function wrkStreams(
  url: string,
  body: string,
  connections: number,
  seconds: number,
  dir: string,
): Promise<{ requests: number; rps: number }> {
  const script = `${dir}/api_${crypto.randomUUID()}.lua`;
  await Deno.writeTextFile(
    script,
    `wrk.method = "POST"\nwrk.body = ${
      JSON.stringify(body)
    }\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const out = await new Deno.Command("wrk", {
    args: ["-t", "2", "-c", String(connections), "-d", `${seconds}s`, "-s", script, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  if (/Non-2xx/.test(text)) throw new Error(`wrk saw errors on ${url}:\n${text}`);
  return { requests, rps };
}

/**
 * Streams through the chat and Messages routes of the gateway at `origin` (process `pid`), each
 * run twice in turn (chat, messages, chat, messages) so that a burst of noise hits both alike;
 * the lower of each API's two runs counts.
 */
export async function measureApiStreams(
  origin: string,
  pid: number,
  model: string,
  dir: string,
  options: { seconds: number; connections: number },
): Promise<ApiStreamResult[]> {
  const apis: { api: string; path: string; body: string }[] = [
    {
      api: "chat completions",
      path: "/v1/chat/completions",
      body: JSON.stringify({
        model,
        stream: true,
        messages: [{ role: "user", content: "benchmark" }],
      }),
    },
    {
      api: "messages",
      path: "/v1/messages",
      body: JSON.stringify({
        model,
        max_tokens: 256,
        stream: true,
        messages: [{ role: "user", content: "benchmark" }],
      }),
    },
  ];
  const runs = new Map<string, { cpu: number; requests: number; rps: number }[]>();
  for (let round = 0; round < 2; round++) {
    for (const a of apis) {
      const before = await cpuSeconds(pid);
      const { requests, rps } = await wrkStreams(
        origin + a.path,
        a.body,
        options.connections,
        options.seconds,
        dir,
      );
      const cpu = await cpuSeconds(pid) - before;
      runs.set(a.api, [...runs.get(a.api) ?? [], { cpu, requests, rps }]);
    }
  }
  return apis.map(({ api }) => {
    const r = runs.get(api)!.map((x) => ({ ...x, per: (x.cpu * 1000) / x.requests }))
      .sort((a, b) => a.per - b.per)[0];
    return {
      api,
      streams: r.requests,
      streamsPerSecond: r.rps,
      cpuMsPerStream: r.per,
    };
  });
}

/** The results as a Markdown table, with each API's ratio to the chat path. */
export function formatApiStreams(results: ApiStreamResult[]): string {
  const chat = results[0].cpuMsPerStream;
  const lines = [
    "| API (50-chunk streams) | streams/s | gateway CPU ms per stream | vs chat |",
    "|---|---|---|---|",
    ...results.map((r) =>
      `| ${r.api} | ${r.streamsPerSecond.toFixed(0)} | ${r.cpuMsPerStream.toFixed(3)} | ${
        (r.cpuMsPerStream / chat).toFixed(2)
      }x |`
    ),
  ];
  const worst = Math.max(...results.slice(1).map((r) => r.cpuMsPerStream / chat));
  lines.push(
    "",
    `- CPU per stream of every API within 1.2x of chat: ${worst.toFixed(2)}x ${
      worst <= 1.2 ? "PASS" : "FAIL"
    }`,
  );
  return lines.join("\n");
}
