/**
 * Up-scaling through bigjpg.com (`images.magnify` keys): `POST <base>/api/task/` with
 * `X-API-KEY` and `{"style":"art","noise":"3","x2":"1","input":"<image url>"}` answers
 * `{"tid": ...}` (or `{"status": "<why not>"}`); `GET <base>/api/task/<tid>` answers
 * `{"<tid>": {"status": "new"|"process"|"success"|"error", "url": ...}}`, polled until success.
 * A key that fails rests five minutes and the next one is tried.
 *
 * @module
 */
import type { Upstream } from "../net/http.ts";
import { readJson, snippet } from "../net/http.ts";
import { upstreamFailed, upstreamTimeout } from "../openai/errors.ts";
import { maskSecret } from "../util/mask.ts";
import { abortReason, pause } from "../util/signal.ts";

/** Polls of one task at most. */
const MAX_POLLS = 20;
/** Milliseconds a failing key rests. */
const KEY_REST_MS = 5 * 60_000;

/** Options of an up-scaling. */
export interface MagnifyOptions {
  base: string;
  keys: readonly string[];
  /** Milliseconds between polls. */
  pollMs: number;
  signal: AbortSignal;
  /** When each key may be used again (kept by the server across requests). */
  resting: Map<string, number>;
}

/** Up-scales the image at `input` (a URL bigjpg can fetch) and returns the result's URL. */
export async function magnify(http: Upstream, input: string, o: MagnifyOptions): Promise<string> {
  const now = Date.now();
  const keys = o.keys.filter((k) => (o.resting.get(k) ?? 0) <= now);
  if (keys.length === 0) throw upstreamFailed("bigjpg", "every images.magnify key is resting");
  const failures: string[] = [];
  for (const key of keys) {
    try {
      const url = await withKey(http, input, key, o);
      o.resting.delete(key);
      return url;
    } catch (err) {
      if (o.signal.aborted) throw err;
      o.resting.set(key, Date.now() + KEY_REST_MS);
      failures.push(`${maskSecret(key)}: ${(err as Error).message}`);
    }
  }
  throw upstreamFailed("bigjpg", `up-scaling failed with every key (${failures.join("; ")})`);
}

async function withKey(http: Upstream, input: string, key: string, o: MagnifyOptions) {
  const res = await http.ok(`${o.base}/api/task/`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify({ style: "art", noise: "3", x2: "1", input }),
  });
  const created = await readJson<{ tid?: unknown; status?: unknown }>("bigjpg", res);
  if (typeof created?.tid !== "string" || created.tid === "") {
    throw new Error(`no task (${String(created?.status ?? snippet(JSON.stringify(created)))})`);
  }
  const tid = created.tid;
  for (let i = 0; i < MAX_POLLS; i++) {
    await pause(o.pollMs, o.signal);
    if (o.signal.aborted) throw abortReason(o.signal);
    const poll = await http.ok(`${o.base}/api/task/${encodeURIComponent(tid)}`);
    const body = await readJson<Record<string, { status?: string; url?: string } | undefined>>(
      "bigjpg",
      poll,
    );
    const task = body?.[tid];
    if (task?.status === "success" && typeof task.url === "string") return task.url;
    if (task?.status === "error" || task?.status === "failed") {
      throw new Error(`task ${tid} failed`);
    }
  }
  throw upstreamTimeout("bigjpg", `task ${tid} not done after ${MAX_POLLS} polls`);
}
