/**
 * Property-based tests of every provider's stream reader that exists on main (the ones being
 * rewritten elsewhere, claude, bing and lmsys, are left out): OpenAI-compatible SSE (`custom`),
 * Cohere v2, Gemini, Coze v3 and its web route, you.com's agent runs. Each gets the properties of
 * `streams.ts`: a complete answer cut anywhere reads as its model; a truncated one is an error or
 * the whole answer; odd JSON, dropped, duplicated and garbled frames and garbage give
 * `GatewayError`s only.
 */
import type { ChatEvent } from "../../src/core/events.ts";
import { readSse } from "../../src/net/sse.ts";
import { fromCohereStream } from "../../src/providers/cohere/stream.ts";
import { fromCozeStream } from "../../src/providers/coze/stream.ts";
import { readAnswer } from "../../src/providers/coze/web/stream.ts";
import { fromCustomStream } from "../../src/providers/custom/stream.ts";
import { COHERE_NAMES, GEMINI_NAMES, ToolNames } from "../../src/providers/gemini/names.ts";
import { SignatureCache } from "../../src/providers/gemini/signatures.ts";
import { fromGeminiStream, GeminiMapper } from "../../src/providers/gemini/stream.ts";
import { fromYouStream } from "../../src/providers/you/stream.ts";
import { answerText, type Digest, fc } from "./fuzz.ts";
import { type Frame, streamProperties } from "./streams.ts";

/** A tool call of a generated answer. */
interface Call {
  id: string;
  name: string;
  args: Record<string, unknown>;
  /** Where its JSON arguments are cut into fragments. */
  cuts: number[];
}

/** What a generated answer says, before a provider writes it its way. */
interface Model {
  reasoning: string[];
  text: string[];
  calls: Call[];
  sources: { url: string; title: string }[];
  usage: { prompt: number; completion: number };
}

const call: fc.Arbitrary<Call> = fc.record({
  id: fc.stringMatching(/^call_[a-z0-9]{4,10}$/),
  name: fc.constantFrom("get_weather", "search", "run_code"),
  args: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })
    .map((v) => JSON.parse(JSON.stringify(v))),
  cuts: fc.array(fc.nat(), { maxLength: 3 }),
});

const model: fc.Arbitrary<Model> = fc.record({
  reasoning: fc.array(answerText, { maxLength: 3 }),
  text: fc.array(answerText, { maxLength: 6 }),
  calls: fc.array(call, { maxLength: 2 }),
  sources: fc.array(
    fc.record({
      url: fc.webUrl({ validSchemes: ["https"] }),
      title: fc.string({ minLength: 1, maxLength: 10 }),
    }),
    { maxLength: 3 },
  ),
  usage: fc.record({ prompt: fc.nat(100_000), completion: fc.nat(100_000) }),
});

/** Text cut at `cuts` (the pieces join back into it). */
function fragments(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of at) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

/** The digest of choice 0 saying what `m` says (`with` picks the parts a provider carries). */
function expectOf(
  m: Model,
  finish: string | undefined,
  parts: { reasoning?: boolean; calls?: "ids" | "no-ids"; citations?: boolean } = {},
): Digest {
  const text = m.text.join("");
  const reasoning = parts.reasoning ? m.reasoning.join("") : "";
  const calls: Digest[number]["calls"] = {};
  if (parts.calls) {
    m.calls.forEach((c, i) => {
      calls[i] = {
        id: parts.calls === "ids" ? c.id : undefined,
        name: c.name,
        args: JSON.stringify(c.args),
      };
    });
  }
  const seen = new Set<string>();
  const citations: string[] = [];
  for (const s of parts.citations ? m.sources : []) {
    if (seen.has(s.url)) continue;
    seen.add(s.url);
    citations.push(`${seen.size} ${s.url}`);
  }
  const empty = text === "" && reasoning === "" && Object.keys(calls).length === 0 &&
    citations.length === 0;
  if (empty && finish === undefined) return {};
  return { 0: { text, reasoning, calls, citations, finish } };
}

// --- custom (OpenAI-compatible SSE) --------------------------------------------------------

const OPENAI_FINISH = ["stop", "length", "tool_calls", "content_filter"] as const;

streamProperties({
  name: "custom stream",
  answer: fc.tuple(model, fc.constantFrom(...OPENAI_FINISH), fc.boolean(), fc.boolean()).map(
    ([m, finish, done, usageChunk]) => {
      const chunk = (delta: unknown, finish_reason: string | null = null) => ({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, finish_reason }],
      });
      const frames: Frame[] = [{ data: chunk({ role: "assistant", content: "" }) }];
      for (const r of m.reasoning) frames.push({ data: chunk({ reasoning_content: r }) });
      for (const t of m.text) frames.push({ data: chunk({ content: t }) });
      m.calls.forEach((c, index) => {
        frames.push({
          data: chunk({
            tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name } }],
          }),
        });
        for (const a of fragments(JSON.stringify(c.args), c.cuts)) {
          frames.push({ data: chunk({ tool_calls: [{ index, function: { arguments: a } }] }) });
        }
      });
      frames.push({ data: chunk({}, finish) });
      const usage = { prompt_tokens: m.usage.prompt, completion_tokens: m.usage.completion };
      if (usageChunk) frames.push({ data: { id: "chatcmpl-1", choices: [], usage } });
      if (done) frames.push({ data: "[DONE]", raw: true });
      return {
        frames,
        expect: expectOf(m, finish, { reasoning: true, calls: "ids" }),
      };
    },
  ),
  read: (body) => fromCustomStream(readSse(body)),
});

// --- Cohere v2 -------------------------------------------------------------------------------

const COHERE_FINISH: Record<string, string> = {
  COMPLETE: "stop",
  STOP_SEQUENCE: "stop",
  MAX_TOKENS: "length",
  TOOL_CALL: "tool_calls",
};

streamProperties({
  name: "cohere stream",
  answer: fc.tuple(model, fc.constantFrom(...Object.keys(COHERE_FINISH))).map(([m, finish]) => {
    const ev = (type: string, rest: Record<string, unknown> = {}): Frame => ({
      event: type,
      data: { type, ...rest },
    });
    const frames: Frame[] = [
      ev("message-start", { id: "m1", delta: { message: { role: "assistant" } } }),
    ];
    for (const r of m.reasoning) {
      frames.push(
        ev("content-delta", { index: 0, delta: { message: { content: { thinking: r } } } }),
      );
    }
    frames.push(
      ev("content-start", { index: 0, delta: { message: { content: { type: "text" } } } }),
    );
    for (const t of m.text) {
      frames.push(ev("content-delta", { index: 0, delta: { message: { content: { text: t } } } }));
    }
    frames.push(ev("content-end", { index: 0 }));
    m.calls.forEach((c, i) => {
      const index = i + 1;
      frames.push(ev("tool-call-start", {
        index,
        delta: {
          message: {
            tool_calls: { id: c.id, type: "function", function: { name: c.name, arguments: "" } },
          },
        },
      }));
      for (const a of fragments(JSON.stringify(c.args), c.cuts)) {
        frames.push(ev("tool-call-delta", {
          index,
          delta: { message: { tool_calls: { function: { arguments: a } } } },
        }));
      }
      frames.push(ev("tool-call-end", { index }));
    });
    if (m.sources.length > 0) {
      frames.push(ev("citation-start", {
        index: 0,
        delta: {
          message: {
            citations: {
              start: 0,
              end: 1,
              text: "x",
              sources: m.sources.map((s, i) => ({
                type: "document",
                id: `doc_${i}`,
                document: { url: s.url, title: s.title },
              })),
            },
          },
        },
      }));
    }
    frames.push(ev("message-end", {
      delta: {
        finish_reason: finish,
        usage: {
          billed_units: { input_tokens: m.usage.prompt, output_tokens: m.usage.completion },
          tokens: { input_tokens: m.usage.prompt, output_tokens: m.usage.completion },
        },
      },
    }));
    return {
      frames,
      expect: expectOf(m, COHERE_FINISH[finish], {
        reasoning: true,
        calls: "ids",
        citations: true,
      }),
    };
  }),
  read: (body) => fromCohereStream(readSse(body), new ToolNames(COHERE_NAMES)),
});

// --- Gemini ----------------------------------------------------------------------------------

const GEMINI_FINISH: Record<string, string> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  OTHER: "stop",
};

/** Gemini invents ids for calls without one: they differ between runs. */
function withoutCallIds(events: ChatEvent[]): ChatEvent[] {
  return events.map((e) => e.type === "tool_call" ? { ...e, id: undefined } : e);
}

streamProperties({
  name: "gemini stream",
  answer: fc.tuple(model, fc.constantFrom(...Object.keys(GEMINI_FINISH)), fc.boolean()).map(
    ([m, finish, ids]) => {
      const parts: Record<string, unknown>[] = [
        ...m.reasoning.map((r) => ({ text: r, thought: true })),
        ...m.text.map((t) => ({ text: t })),
        ...m.calls.map((c) => ({
          functionCall: { name: c.name, args: c.args, ...(ids ? { id: c.id } : {}) },
          thoughtSignature: "c2ln",
        })),
      ];
      const frames: Frame[] = parts.map((p) => ({
        data: { candidates: [{ content: { parts: [p], role: "model" }, index: 0 }] },
      }));
      frames.push({
        data: {
          candidates: [{ content: { parts: [], role: "model" }, finishReason: finish, index: 0 }],
          usageMetadata: {
            promptTokenCount: m.usage.prompt,
            candidatesTokenCount: m.usage.completion,
          },
        },
      });
      return {
        frames,
        expect: expectOf(m, GEMINI_FINISH[finish], { reasoning: true, calls: "no-ids" }),
      };
    },
  ),
  read: (body) =>
    fromGeminiStream(
      readSse(body),
      new GeminiMapper(new ToolNames(GEMINI_NAMES), new SignatureCache(100)),
    ),
  normalize: withoutCallIds,
});

// --- Coze v3 ---------------------------------------------------------------------------------

streamProperties({
  name: "coze stream",
  answer: fc.tuple(model, fc.boolean()).map(([m, completed]) => {
    const frames: Frame[] = [
      { event: "conversation.chat.created", data: { id: "c1", status: "created" } },
      { event: "conversation.chat.in_progress", data: { id: "c1", status: "in_progress" } },
    ];
    const message = { id: "m1", role: "assistant", type: "answer", content_type: "text" };
    for (const r of m.reasoning) {
      frames.push({
        event: "conversation.message.delta",
        data: { ...message, content: "", reasoning_content: r },
      });
    }
    for (const t of m.text) {
      frames.push({ event: "conversation.message.delta", data: { ...message, content: t } });
    }
    if (completed) {
      frames.push({
        event: "conversation.message.completed",
        data: { ...message, content: m.text.join("") },
      });
      frames.push({
        event: "conversation.message.completed",
        data: { id: "m2", role: "assistant", type: "follow_up", content: "more?" },
      });
    }
    frames.push({
      event: "conversation.chat.completed",
      data: {
        id: "c1",
        status: "completed",
        usage: {
          input_count: m.usage.prompt,
          output_count: m.usage.completion,
          token_count: m.usage.prompt + m.usage.completion,
        },
      },
    });
    frames.push({ event: "done", data: '"[DONE]"', raw: true });
    return { frames, expect: expectOf(m, "stop", { reasoning: true }) };
  }),
  read: (body) => fromCozeStream(readSse(body)),
});

// --- Coze's web route (`event:message` / `data:{...}` lines, `event:done`) -------------------

async function* cozeWebEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatEvent> {
  for await (const text of readAnswer(body)) yield { type: "text", text };
}

streamProperties({
  name: "coze web stream",
  answer: model.map((m) => {
    // The limit notice is a refusal, not an answer: keep generated text clear of it.
    const text = m.text.map((t) => t.replace(/limit/g, "l1mit"));
    const frames: Frame[] = text.map((t, i) => ({
      event: "message",
      data: {
        message: { role: "assistant", type: "answer", content: t, content_type: "text" },
        is_finish: false,
        index: i,
        conversation_id: "c1",
      },
    }));
    frames.splice(Math.min(1, frames.length), 0, {
      event: "message",
      data: { message: { role: "assistant", type: "verbose", content: "{}" } },
    });
    frames.push({ event: "done", data: "{}", raw: true });
    return { frames, expect: expectOf({ ...m, text }, undefined) };
  }),
  read: cozeWebEvents,
  write: (frames) =>
    frames.map((f) =>
      `event:${f.event ?? "message"}\ndata:${f.raw ? String(f.data) : JSON.stringify(f.data)}\n\n`
    ).join(""),
});

// --- you.com agent runs ----------------------------------------------------------------------

streamProperties({
  name: "you stream",
  answer: model.map((m) => {
    let seq = 0;
    const ev = (type: string, response: Record<string, unknown>): Frame => ({
      event: type,
      data: { seq_id: seq++, type, response },
    });
    const frames: Frame[] = [
      ev("response.created", {}),
      ev("response.starting", {}),
      ev("response.output_item.added", { output_index: 0 }),
    ];
    if (m.sources.length > 0) {
      frames.push(ev("response.output_content.full", {
        type: "web_search.results",
        full: m.sources.map((s) => ({ url: s.url, title: s.title, snippet: "s" })),
      }));
    }
    for (const t of m.text) {
      frames.push(ev("response.output_text.delta", { type: "message.answer", delta: t }));
    }
    frames.push(ev("response.output_item.done", { output_index: 0 }));
    frames.push(ev("response.done", { run_time_ms: "42", finished: true }));
    return { frames, expect: expectOf(m, "stop", { citations: true }) };
  }),
  read: (body) => fromYouStream(readSse(body)),
});
