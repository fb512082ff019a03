/**
 * The process that runs the patterns clients write (`<regex>`, `<matcher>`): one JSON job per
 * line on stdin, one answer per line on stdout. It imports only a line splitter and needs no permission, so it
 * runs as `deno run <this file>` (or as a compiled binary with `GATEWAY_REGEX_CHILD=1`, see
 * main.ts). The server kills it when a job runs past its budget: a catastrophic pattern costs that
 * process, never the server's event loop (see `regex_pool.ts` for why a Worker cannot do this).
 *
 * It first writes `{ready: true}`. A job: `{id, rules: [{p: pattern, r: replacement, b: before}], texts: [{t: text, m: index}]}`.
 * Rules run in order, each on every text whose `m` is below its `b` (all when `b` < 0). With more
 * than one rule, `{id, at: k}` is written before rule `k` starts, so that the server can name the
 * pattern that ran out of time. The answer is `{id, texts}` or `{id, error, at}`.
 *
 * @module
 */
import { LineSplitter } from "../util/line_splitter.ts";

/** The environment variable that makes a compiled binary run as this process. */
export const REGEX_CHILD_ENV = "GATEWAY_REGEX_CHILD";

interface Job {
  id: number;
  rules: { p: string; r: string; b: number }[];
  texts: { t: string; m: number }[];
}

/** Runs one job; `progress` is told which rule starts. */
function runJob(job: Job, progress: (at: number) => void): unknown {
  const texts = job.texts.map((x) => x.t);
  for (let k = 0; k < job.rules.length; k++) {
    const rule = job.rules[k];
    if (job.rules.length > 1) progress(k);
    let re: RegExp;
    try {
      re = new RegExp(rule.p, "g");
    } catch (err) {
      return { id: job.id, error: (err as Error).message, at: k };
    }
    for (let i = 0; i < texts.length; i++) {
      if (rule.b >= 0 && job.texts[i].m >= rule.b) continue;
      re.lastIndex = 0;
      texts[i] = texts[i].replace(re, rule.r);
    }
  }
  return { id: job.id, texts };
}

/** Writes a line synchronously: a progress line must be out before its rule blocks this thread. */
function writeLine(value: unknown): void {
  const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Serves jobs from stdin until it closes. */
export async function serveRegexChild(): Promise<void> {
  writeLine({ ready: true });
  const lines = new LineSplitter();
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    for (const line of lines.push(chunk)) {
      if (line.trim() === "") continue;
      const job = JSON.parse(line) as Job;
      writeLine(runJob(job, (at) => writeLine({ id: job.id, at })));
    }
  }
}

if (import.meta.main) await serveRegexChild();
