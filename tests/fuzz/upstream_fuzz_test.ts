/**
 * Random upstream answers through the running gateway: an OpenAI-compatible upstream (scripted
 * byte for byte) answers with a stream or a JSON body that may be cut at any byte (cleanly or by
 * dropping the connection), carry garbage or an error in the middle, or be an error status or an
 * HTML page. A client of Chat Completions, Messages or Responses, streaming or not, gets either
 * the intact answer (all its text and a finish) or an error in its API's shape, never a clean end
 * over a truncated answer ("corrupted without error"), and never a 500.
 */
import { assert, assertEquals } from "../assert.ts";
import { answerText, check, fc, timed } from "./fuzz.ts";
import { type Api, API_PATHS, readAnswer } from "./answers.ts";
import {
  assertHonest,
  LOCAL_ONLY,
  type RawRequest,
  type Script,
  scriptedUpstream,
  startFuzzGateway,
  startRefuser,
} from "./gateway.ts";
import { type Frame, writeSse } from "./streams.ts";

const enc = new TextEncoder();

/** What the upstream does to its answer. */
const fault = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("garbage" as const),
      at: fc.nat(),
      // Whole lines: a line glued to the next event's would only hide that event behind an
      // unknown field name, which SSE readers rightly ignore.
      text: fc.constantFrom("data: {oops\n\n", "\u0000\u00ff\n", "<html>\n", "data: 42\n\n", "}\n"),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("error" as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("status" as const),
      status: fc.constantFrom(400, 401, 403, 404, 408, 429, 500, 502, 503, 504),
      html: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "html" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "nothing" as const }) },
);
type Fault = typeof fault extends fc.Arbitrary<infer F> ? F : never;

const scenario = fc.record({
  api: fc.constantFrom<Api>("chat", "messages", "responses"),
  stream: fc.boolean(),
  text: fc.array(answerText, { maxLength: 6 }),
  reasoning: fc.array(answerText, { maxLength: 2 }),
  fault,
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/** The upstream's answer to `req` before any fault: an SSE stream or a whole completion. */
function answerOf(s: Scenario, streamed: boolean): { type: string; bytes: Uint8Array } {
  const chunk = (delta: unknown, finish_reason: string | null = null) => ({
    id: "chatcmpl-f",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta, finish_reason }],
  });
  if (!streamed) {
    const message: Record<string, unknown> = { role: "assistant", content: s.text.join("") };
    if (s.reasoning.length > 0) message.reasoning_content = s.reasoning.join("");
    return {
      type: "application/json",
      bytes: enc.encode(JSON.stringify({
        id: "chatcmpl-f",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o-mini",
        choices: [{ index: 0, message, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      })),
    };
  }
  const frames: Frame[] = [{ data: chunk({ role: "assistant", content: "" }) }];
  for (const r of s.reasoning) frames.push({ data: chunk({ reasoning_content: r }) });
  for (const t of s.text) frames.push({ data: chunk({ content: t }) });
  frames.push({ data: chunk({}, "stop") });
  frames.push({ data: "[DONE]", raw: true });
  return { type: "text/event-stream", bytes: enc.encode(writeSse(frames)) };
}

/** The byte offset of the first event boundary (blank line) at or after `from`. */
function boundary(bytes: Uint8Array, from: number): number {
  const text = new TextDecoder().decode(bytes);
  const at = text.indexOf("\n\n", Math.max(0, from - 1));
  return at < 0 ? bytes.length : enc.encode(text.slice(0, at + 2)).length;
}

/** The scripted response: the answer with the scenario's fault applied. */
function scriptOf(s: Scenario, req: RawRequest): Script {
  let streamed = false;
  try {
    streamed = JSON.parse(req.body).stream === true;
  } catch {
    // Not JSON: answered as a whole.
  }
  const { type, bytes } = answerOf(s, streamed);
  const f: Fault = s.fault;
  const ok = (pieces: Uint8Array[], ending: "clean" | "drop" = "clean"): Script => ({
    status: 200,
    headers: { "content-type": type },
    pieces,
    ending,
  });
  const at = (n: number) => n % (bytes.length + 1);
  switch (f.kind) {
    case "none":
      return ok([bytes.slice(0, at(bytes.length >> 1)), bytes.slice(at(bytes.length >> 1))]);
    case "cut":
      return ok([bytes.slice(0, at(f.at))]);
    case "drop":
      return ok([bytes.slice(0, at(f.at))], "drop");
    case "garbage": {
      // Between events of a stream, before or after a whole body: garbage inside a JSON string
      // would only be different content, which no reader can tell from the upstream's own.
      const cutAt = streamed ? boundary(bytes, at(f.at)) : f.at % 2 === 0 ? 0 : bytes.length;
      return ok([bytes.slice(0, cutAt), enc.encode(f.text), bytes.slice(cutAt)]);
    }
    case "error": {
      const err = enc.encode(
        `data: ${JSON.stringify({ error: { message: "the model crashed", code: 500 } })}\n\n`,
      );
      // At an event boundary of a stream; after a whole body (then it is garbage).
      const cutAt = streamed ? boundary(bytes, at(f.at)) : bytes.length;
      return ok([bytes.slice(0, cutAt), err, bytes.slice(cutAt)]);
    }
    case "status":
      return {
        status: f.status,
        headers: { "content-type": f.html ? "text/html" : "application/json" },
        pieces: [
          enc.encode(
            f.html ? "<html><body>Bad Gateway</body></html>" : JSON.stringify({
              error: { message: `upstream says ${f.status}`, type: "server_error", code: null },
            }),
          ),
        ],
        ending: "clean",
      };
    case "html":
      return {
        status: 200,
        headers: { "content-type": "text/html" },
        pieces: [enc.encode("<!doctype html><title>Just a moment...</title>")],
        ending: "clean",
      };
    case "nothing":
      return { status: 200, headers: { "content-type": type }, pieces: [], ending: "drop" };
  }
}

function requestBody(s: Scenario): unknown {
  const model = "fake/gpt-4o-mini";
  if (s.api === "chat") {
    return { model, messages: [{ role: "user", content: "hi" }], stream: s.stream };
  }
  if (s.api === "messages") {
    return {
      model,
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
      stream: s.stream,
    };
  }
  return { model, input: "hi", stream: s.stream, store: false };
}

Deno.test({
  name:
    "fuzz upstream: cut, dropped, garbled and failing upstream answers reach every API intact or as errors",
  permissions: LOCAL_ONLY,
  async fn() {
    let current: Scenario | undefined;
    const upstream = scriptedUpstream((req) => scriptOf(current!, req));
    const refuser = await startRefuser();
    // No key pool: an upstream 401 or 429 would rest the one key and refuse every later case.
    const gw = await startFuzzGateway(`${upstream.origin}/v1`, refuser.origin, {
      "custom-llm": [{
        prefix: "fake",
        "base-url": `${upstream.origin}/v1`,
        models: ["gpt-4o-mini"],
      }],
    });
    const tally = { intact: 0, errors: 0 };
    try {
      await check(
        fc.asyncProperty(
          scenario,
          timed(async (s) => {
            current = s;
            const path = API_PATHS[s.api];
            const res = await fetch(gw.origin + path, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(requestBody(s)),
              signal: AbortSignal.timeout(20_000),
            });
            const body = await res.text();
            const got = {
              status: res.status,
              type: res.headers.get("content-type") ?? "",
              text: body,
            };
            assertHonest(path, "POST", got);
            if (Deno.env.get("FUZZ_DEBUG")) {
              console.log(res.status, s.api, s.stream, s.fault.kind, body.slice(0, 200));
            }
            if (res.status !== 200) {
              tally.errors++;
              return;
            }
            const read = readAnswer(s.api, s.stream, body);
            if (read.kind === "error") {
              assert(read.shaped, `an error not in the API's shape: ${read.message}`);
              tally.errors++;
              return;
            }
            // A clean end is right only over the whole answer.
            assert(read.finished, `an answer that ended without a finish: ${body.slice(-300)}`);
            assertEquals(read.text, s.text.join(""), "corrupted without error");
            tally.intact++;
          }, 20_000),
        ),
        250,
      );
    } finally {
      console.log(`intact ${tally.intact}, errors ${tally.errors}`);
      await gw.close();
      upstream.close();
      await refuser.close();
    }
  },
});
