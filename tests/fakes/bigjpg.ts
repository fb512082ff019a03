/**
 * A fake bigjpg.com up-scaling API. `POST /api/task/` with `X-API-KEY` and a JSON body (or the
 * form field `conf` holding that JSON) `{style, noise, x2, input}` answers
 * `{"status":"ok","info":"","remaining_api_calls":N,"tid":"..."}`, or without a `tid`
 * `{"status":"key_error"}` for an unknown key, `{"status":"no_api_calls"}` once a key's calls are
 * spent, `{"status":"param_error"}` for a bad body. The task downloads `input` (as the real service
 * fetches the image) and `GET /api/task/<tid>` answers `{"<tid>":{"status":"new"|"process"|
 * "success"|"error","url":...}}`; the result is served at `/result/<tid>.jpg`.
 *
 * @module
 */
import { type Fake, json, serveFake } from "./serve.ts";
import { jpegBytes } from "./gradio_spaces.ts";

/** Options of the fake. */
export interface FakeBigjpgOptions {
  /** Keys and their remaining calls. */
  keys: Record<string, number>;
  /** Polls answered "process" before "success". */
  pollsUntilDone?: number;
  /** The result bytes (default a JPEG a few bytes larger than the input's marker). */
  result?: () => Uint8Array;
}

/** A running fake bigjpg. */
export interface FakeBigjpg extends Fake {
  tasks: Map<string, { input: string; polls: number; status: string; fetched?: number }>;
}

/** Starts the fake bigjpg. */
export async function startFakeBigjpg(options: FakeBigjpgOptions): Promise<FakeBigjpg> {
  const tasks: FakeBigjpg["tasks"] = new Map();
  const remaining = { ...options.keys };
  const fake = await serveFake(async (req, rec) => {
    const url = new URL(req.url);
    if (url.pathname === "/api/task/" && req.method === "POST") {
      const key = req.headers.get("x-api-key") ?? "";
      if (!(key in remaining)) return json({ status: "key_error" });
      if (remaining[key] <= 0) return json({ status: "no_api_calls" });
      let conf: Record<string, unknown> | undefined;
      if (rec.json && typeof rec.json === "object") conf = rec.json as Record<string, unknown>;
      else {
        try {
          conf = JSON.parse(new URLSearchParams(rec.body).get("conf") ?? "");
        } catch {
          conf = undefined;
        }
      }
      const okStyle = conf && ["art", "photo"].includes(String(conf.style));
      const okX2 = conf && ["1", "2", "3", "4"].includes(String(conf.x2));
      if (!conf || !okStyle || !okX2 || typeof conf.input !== "string") {
        return json({ status: "param_error" });
      }
      remaining[key]--;
      const tid = crypto.randomUUID().replaceAll("-", "");
      const task = {
        input: conf.input,
        polls: 0,
        status: "new",
        fetched: undefined as number | undefined,
      };
      tasks.set(tid, task);
      // The service fetches the input image itself.
      try {
        const res = await fetch(conf.input);
        const bytes = new Uint8Array(await res.arrayBuffer());
        task.fetched = bytes.length;
        task.status = res.ok && bytes.length > 0 ? "process" : "error";
      } catch {
        task.status = "error";
      }
      return json({ status: "ok", info: "", remaining_api_calls: remaining[key], tid });
    }
    const poll = /^\/api\/task\/([0-9a-f]+)$/.exec(url.pathname);
    if (poll && req.method === "GET") {
      const task = tasks.get(poll[1]);
      if (!task) return json({});
      task.polls++;
      if (task.status === "process" && task.polls > (options.pollsUntilDone ?? 1)) {
        task.status = "success";
      }
      const body: Record<string, unknown> = { status: task.status };
      if (task.status === "success") body.url = `${fake.origin}/result/${poll[1]}.jpg`;
      return json({ [poll[1]]: body });
    }
    const result = /^\/result\/([0-9a-f]+)\.jpg$/.exec(url.pathname);
    if (result && tasks.get(result[1])?.status === "success") {
      const bytes = options.result?.() ?? jpegBytes();
      return new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "image/jpeg", "content-length": String(bytes.length) },
      });
    }
    return json({ status: "not_found" }, 404);
  });
  return { ...fake, tasks };
}
