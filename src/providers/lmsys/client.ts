/**
 * One arena conversation over gradio's queue: `GET /info` for the sticky `SERVERID` backend,
 * then the steps of the configured flow on one session hash with cookies carried between them:
 *
 * - two steps: `fn` `add_text` `[null, model, prompt, null]`, then `fn + 1` `bot_response`
 *   `[null, temperature, top_p, max_tokens]` (streamed);
 * - three steps (lmarena since 2024-09): `fn` with `{text: prompt, files: []}`, `fn + 1` with no
 *   input, `fn + 2` `bot_response` (streamed).
 *
 * Every step carries the same `trigger_id`. The answer is the chatbot's last bot message; its
 * cumulative text (cursor removed) becomes text deltas.
 *
 * @module
 */
import { CookieJar, type QueueCall, queueResult, runQueue, sessionHash } from "../../net/gradio.ts";
import type { Upstream } from "../../net/http.ts";
import { GatewayError, upstreamFailed } from "../../openai/errors.ts";
import { randomAlnum } from "../../util/id.ts";
import type { Logger } from "../../util/log.ts";
import { answerText, arenaError, botText, CURSOR, isPlaceholder } from "./arena.ts";
import type { FnPair } from "./fn.ts";

/** A desktop Edge user agent, as the arena's own page sends. */
const USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0";

/** The backend name of each arena (by base URL) from its last `/info`, kept by the provider. */
export type ServerIds = Map<string, string>;

/** What one conversation needs. */
export interface ArenaRequest {
  base: string;
  model: string;
  prompt: string;
  fn: FnPair;
  flow: 2 | 3;
  temperature: number;
  topP: number;
  maxTokens: number;
}

function headersFor(base: string): Record<string, string> {
  return {
    "user-agent": USER_AGENT,
    origin: base,
    referer: `${base}/`,
    "accept-language": "en-US,en;q=0.9",
    "cache-control": "no-cache",
    priority: "u=1, i",
  };
}

/**
 * The sticky backend cookie: the cached `Sxx`, else one from `/info` (`S0` and malformed values
 * are asked again, three times at most). An arena without `SERVERID` is used without it.
 */
async function pickServer(
  http: Upstream,
  base: string,
  jar: CookieJar,
  log: Logger,
  serverIds: ServerIds,
) {
  const cached = serverIds.get(base);
  if (cached) {
    jar.set("SERVERID", `${cached}|${randomAlnum(5)}`);
    return;
  }
  let seen = "";
  for (let i = 0; i < 3; i++) {
    const res = await http.ok(`${base}/info`, {
      headers: { ...headersFor(base), accept: "application/json" },
    });
    await res.body?.cancel();
    const probe = new CookieJar();
    probe.absorb(res);
    const value = probe.get("SERVERID");
    if (value === undefined) {
      log.debug("lmsys: /info set no SERVERID; going on without a sticky backend");
      return;
    }
    const id = value.split("|")[0];
    seen = value;
    if (value.includes("|") && /^S\d+$/.test(id) && id !== "S0") {
      serverIds.set(base, id);
      jar.set("SERVERID", `${id}|${randomAlnum(5)}`);
      return;
    }
  }
  throw upstreamFailed("lmsys", `no usable arena backend: /info kept answering SERVERID=${seen}`);
}

/**
 * Runs the steps and yields the answer's text deltas. Arena texts in place of an answer become
 * `GatewayError`s (moderation 400, rate limit 429, network errors 502).
 */
export async function* arenaAnswer(
  http: Upstream,
  req: ArenaRequest,
  log: Logger,
  serverIds: ServerIds,
): AsyncGenerator<string> {
  const { base } = req;
  const jar = new CookieJar();
  const hash = sessionHash();
  const call = (fnIndex: number, data: unknown[]): QueueCall => ({
    root: base,
    fnIndex,
    triggerId: req.fn[1],
    data,
    sessionHash: hash,
    jar,
    headers: headersFor(base),
  });
  try {
    await pickServer(http, base, jar, log, serverIds);
    const text = req.flow === 3 ? { text: req.prompt, files: [] } : req.prompt;
    const first = await queueResult(http, call(req.fn[0], [null, req.model, text, null]));
    checkStep(first);
    let answerFn = req.fn[0] + 1;
    if (req.flow === 3) {
      checkStep(await queueResult(http, call(req.fn[0] + 1, [])));
      answerFn = req.fn[0] + 2;
    }
    const params = [null, req.temperature, req.topP, req.maxTokens];
    let sent = "";
    let first_ = true;
    for await (const u of runQueue(http, call(answerFn, params))) {
      if (u.type === "status") continue;
      const raw = botText(u.data[1]);
      if (first_ && u.type === "generating") {
        first_ = false;
        // The first whole value shows the cursor placeholder; anything else is the arena talking.
        if (!isPlaceholder(raw) && !raw!.endsWith(CURSOR)) {
          throw arenaError(raw!) ?? upstreamFailed("lmsys", `the arena answered: ${raw}`);
        }
      }
      const now = answerText(raw);
      const err = arenaError(now);
      if (err) throw err;
      if (now.length > sent.length && now.startsWith(sent)) {
        yield now.slice(sent.length);
        sent = now;
      } else if (!now.startsWith(sent)) {
        log.debug("lmsys: the arena rewrote text already sent; keeping what was sent");
      }
      if (u.type === "completed" && sent === "" && now === "") {
        throw upstreamFailed("lmsys", "the arena gave an empty answer");
      }
    }
  } catch (err) {
    // A failed backend is not asked again by the next attempt.
    // That backend may be gone.
    if (err instanceof GatewayError && err.status >= 500) serverIds.delete(base);
    throw err;
  }
}

/** A step's output may already carry the arena's verdict (moderation) in the chatbot. */
function checkStep(data: unknown[]): void {
  const text = botText(data[1]);
  if (text && !isPlaceholder(text)) {
    const err = arenaError(text);
    if (err) throw err;
  }
}
