/**
 * A fake of you.com's Agents API (`POST /v1/agents/runs` on api.you.com), written from the
 * reference (you-ts / you-py models, you.com's error code reference):
 *
 * - The key comes as `Authorization: Bearer <key>` or `X-API-Key: <key>` (the docs and the SDKs
 *   disagree; the fake records both). None: 401 `{"detail":"API key is required"}`; unknown: 401
 *   `{"detail":"Invalid or expired API key"}`; out of credits: 402
 *   `{"detail":"Insufficient credits"}`; a custom agent on a key whose plan has none: 403
 *   `{"detail":"Missing required scopes"}`.
 * - The body must be JSON (else 400 `{status, code: "bad_request", title, detail}`), with a string
 *   `agent` and a string `input` (else 422 with pydantic-style `detail[]`); an agent other than
 *   `express`, `advanced` or a known custom agent id is 404 `agent_not_found`.
 * - With `stream: true` the answer is SSE: `id:`, `event:`, `data:{seq_id, type, response}` for
 *   `response.created`, `response.starting`, `response.output_item.added`, an optional
 *   `response.output_content.full` of `web_search.results`, `response.output_text.delta`s,
 *   `response.output_item.done` and `response.done` (`run_time_ms`, `finished`). Without it, one
 *   JSON answer `{agent, mode, input, output}`.
 * - Each run costs a credit.
 *
 * @module
 */
import { type Fake, json, type Recorded, serveFake, sleep } from "./serve.ts";

/** A key the fake knows. */
export interface FakeYouKey {
  key: string;
  /** Runs left (default unlimited). */
  credits?: number;
  /** The plan allows custom agents (default true). */
  custom?: boolean;
}

/** A web search result. */
export interface FakeResult {
  url: string;
  title: string;
  snippet?: string;
}

/** What one run answers (scripted per test). */
export interface YouScript {
  /** Text deltas (default: "You said: <input>" in two pieces). */
  deltas?: string[];
  /** Web search results sent before the text. */
  results?: FakeResult[];
  /** Answer with this status and body instead. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Leave out `response.done`. */
  noDone?: boolean;
  /** Stop after this many deltas and hold the connection open. */
  stallAfter?: number;
  delayMs?: number;
}

/** One run the fake accepted. */
export interface YouRun {
  key: string;
  body: Record<string, unknown>;
  rec: Recorded;
}

/** A running fake. */
export interface FakeYouApi extends Fake {
  runs: YouRun[];
  respond: (run: YouRun) => YouScript;
  /** The `you` config section pointing at the fake. */
  config: Record<string, unknown>;
}

/** Options of the fake. */
export interface FakeYouApiOptions {
  keys: FakeYouKey[];
  /** Custom agent ids that exist. */
  agents?: string[];
}

/** Starts the fake. */
export async function startFakeYouApi(options: FakeYouApiOptions): Promise<FakeYouApi> {
  const keys = new Map(options.keys.map((k) => [k.key, { ...k }]));
  const agents = new Set(options.agents ?? []);
  const runs: YouRun[] = [];
  const fake = {} as FakeYouApi;

  const server = await serveFake((req, rec) => {
    if (rec.path !== "/v1/agents/runs" || rec.method !== "POST") {
      return json({ detail: "Not Found" }, 404);
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    const key = req.headers.get("x-api-key") ?? bearer;
    if (!key) return json({ detail: "API key is required" }, 401);
    const k = keys.get(key);
    if (!k) return json({ detail: "Invalid or expired API key" }, 401);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(rec.body);
    } catch {
      return json({
        status: 400,
        code: "bad_request",
        title: "Bad Request",
        detail: "the body is not JSON",
      }, 400);
    }
    const missing = ["agent", "input"].filter((f) => typeof body?.[f] !== "string");
    if (missing.length > 0) {
      return json({
        detail: missing.map((f) => ({
          type: body?.[f] === undefined ? "missing" : "string_type",
          loc: ["body", f],
          msg: body?.[f] === undefined ? "Field required" : "Input should be a valid string",
        })),
      }, 422);
    }
    const agent = body.agent as string;
    const builtIn = agent === "express" || agent === "advanced";
    if (!builtIn && !agents.has(agent)) return json({ detail: "Agent not found" }, 404);
    if (!builtIn && k.custom === false) return json({ detail: "Missing required scopes" }, 403);
    if (k.credits !== undefined && k.credits <= 0) {
      return json({ detail: "Insufficient credits" }, 402);
    }
    const run: YouRun = { key, body, rec };
    runs.push(run);
    const script = fake.respond(run);
    if (script.status) {
      return json(script.body ?? { detail: "scripted" }, script.status, script.headers);
    }
    if (k.credits !== undefined) k.credits--;
    const deltas = script.deltas ?? ["You said: ", body.input as string];
    if (body.stream !== true) {
      return json({
        agent,
        mode: agent,
        input: [{ role: "user", content: body.input }],
        output: [
          ...(script.results ? [{ type: "web_search.results", content: script.results }] : []),
          { type: "message.answer", text: deltas.join("") },
        ],
      });
    }
    return runStream(run, script, deltas);
  });

  function runStream(run: YouRun, script: YouScript, deltas: string[]): Response {
    const enc = new TextEncoder();
    let seq = 0;
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        const send = async (type: string, response?: Record<string, unknown>) => {
          if (script.delayMs) await sleep(script.delayMs);
          if (run.rec.wasAborted) throw new Error("gone");
          const data = { seq_id: seq, type, ...(response ? { response } : {}) };
          c.enqueue(enc.encode(`id: ${seq++}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`));
        };
        try {
          await send("response.created");
          await send("response.starting");
          let index = 0;
          if (script.results) {
            await send("response.output_item.added", { output_index: index });
            await send("response.output_content.full", {
              output_index: index,
              type: "web_search.results",
              full: script.results.map((r) => ({
                source_type: "web_search",
                citation_uri: r.url,
                url: r.url,
                title: r.title,
                snippet: r.snippet ?? "",
              })),
            });
            await send("response.output_item.done", { output_index: index++ });
          }
          await send("response.output_item.added", { output_index: index });
          for (const [n, d] of deltas.entries()) {
            if (script.stallAfter !== undefined && n >= script.stallAfter) {
              await run.rec.aborted;
              return;
            }
            await send("response.output_text.delta", {
              output_index: index,
              type: "message.answer",
              delta: d,
            });
          }
          await send("response.output_item.done", { output_index: index });
          if (!script.noDone) await send("response.done", { run_time_ms: "42", finished: true });
          c.close();
        } catch {
          // The client went away.
        }
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }

  Object.assign(fake, server, {
    runs,
    respond: () => ({}),
    config: { "base-url": server.origin },
  });
  return fake;
}
