/**
 * The answers of the fake Gemini API: the stream chunks of a scripted answer (thought pieces,
 * text pieces, function calls, the finish and usage on the last chunk), one whole answer merged
 * from them, embeddings, and Google's error body.
 *
 * @module
 */
import type { GeminiBody } from "./gemini_rules.ts";
import { json } from "./serve.ts";

/** A part of a scripted answer. */
export type FakePart =
  | { text: string; thought?: boolean; thoughtSignature?: string }
  | {
    functionCall: { name: string; args?: Record<string, unknown>; id?: string };
    thoughtSignature?: string;
  };

/** What the fake model answers to one request. */
export interface GeminiScript {
  /** The answer's text (split into pieces when streamed). */
  text?: string;
  /** Thought summary text (sent only when `includeThoughts` is on). */
  thought?: string;
  /** Function calls after the text. */
  functionCalls?: {
    name: string;
    args?: Record<string, unknown>;
    id?: string;
    thoughtSignature?: string;
  }[];
  /** Raw parts instead of text/thought/functionCalls. */
  parts?: FakePart[];
  finishReason?: string;
  /** End the stream without a finishReason (as a connection cut mid-answer looks). */
  noFinish?: boolean;
  /** Answer with an error status instead. */
  error?: { code: number; message: string; status: string; reason?: string; retryDelay?: string };
  /** Send this error object inside the stream after `after` chunks. */
  streamError?: { after: number; code: number; message: string; status: string };
  /** The prompt was blocked (no candidates). */
  blockReason?: string;
  /** Characters per streamed text piece (default 5). */
  pieceSize?: number;
  delayMs?: number;
  /** Never answer (until the client leaves). */
  hang?: boolean;
  usage?: Record<string, number>;
}

/** Google's error body. */
export function googleError(
  code: number,
  message: string,
  status: string,
  details: unknown[] = [],
): Response {
  const error: Record<string, unknown> = { code, message, status };
  if (details.length > 0) error.details = details;
  return json({ error }, code);
}

/** `text` in pieces of `size` characters. */
export function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Tokens the fake counts: 4 characters each. */
export function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** One `GenerateContentResponse`. */
export type Chunk = Record<string, unknown>;

/** The stream chunks of an answer: thought pieces, text pieces, function calls, then finish. */
export function buildChunks(
  body: GeminiBody,
  model: string,
  s: GeminiScript,
  seq: number,
): Chunk[] {
  const responseId = `fakeResp${seq}`;
  const promptTokens = tokensOf(JSON.stringify(body.contents));
  if (s.blockReason) {
    return [{
      promptFeedback: { blockReason: s.blockReason },
      usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
      modelVersion: model,
      responseId,
    }];
  }
  const includeThoughts =
    (body.generationConfig?.thinkingConfig as { includeThoughts?: boolean } | undefined)
      ?.includeThoughts === true;
  const size = s.pieceSize ?? 5;
  const n = Number(body.generationConfig?.candidateCount ?? 1);
  const perCandidate: FakePart[][] = [];
  for (let c = 0; c < n; c++) {
    const parts: FakePart[] = [];
    if (s.parts) {
      parts.push(...s.parts);
    } else {
      if (s.thought && includeThoughts) {
        for (const p of pieces(s.thought, size)) parts.push({ text: p, thought: true });
      }
      const text = n > 1 && s.text ? `${s.text} #${c}` : s.text ?? "";
      for (const p of pieces(text, size)) parts.push({ text: p });
      for (const fc of s.functionCalls ?? []) {
        const part: FakePart = {
          functionCall: { name: fc.name, args: fc.args ?? {}, ...(fc.id ? { id: fc.id } : {}) },
        };
        if (fc.thoughtSignature) part.thoughtSignature = fc.thoughtSignature;
        parts.push(part);
      }
    }
    perCandidate.push(parts);
  }
  const thoughts = tokensOf(s.thought ?? "");
  const completion = tokensOf(perCandidate.flat().map((p) => JSON.stringify(p)).join(""));
  const usage = {
    promptTokenCount: promptTokens,
    candidatesTokenCount: completion,
    totalTokenCount: promptTokens + completion + (includeThoughts && s.thought ? thoughts : 0),
    ...(includeThoughts && s.thought ? { thoughtsTokenCount: thoughts } : {}),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }],
    ...s.usage,
  };
  const chunks: Chunk[] = [];
  const longest = Math.max(1, ...perCandidate.map((p) => p.length));
  for (let i = 0; i < longest; i++) {
    const candidates = perCandidate.flatMap((parts, index) =>
      i < parts.length ? [{ content: { parts: [parts[i]], role: "model" }, index }] : []
    );
    const last = i === longest - 1;
    const chunk: Chunk = {
      candidates: last
        ? perCandidate.map((parts, index) => ({
          content: { parts: i < parts.length ? [parts[i]] : [], role: "model" },
          ...(s.noFinish ? {} : { finishReason: s.finishReason ?? "STOP" }),
          index,
        }))
        : candidates,
      usageMetadata: last
        ? usage
        : { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
      modelVersion: model,
      responseId,
    };
    chunks.push(chunk);
  }
  return chunks;
}

/** One `generateContent` answer from the stream chunks (parts concatenated, texts joined). */
export function merge(chunks: Chunk[]): Chunk {
  const last = chunks[chunks.length - 1];
  if (!last.candidates) return last;
  type Cand = { content: { parts: FakePart[]; role: string }; index: number };
  const byIndex = new Map<number, FakePart[]>();
  for (const c of chunks) {
    for (const cand of (c.candidates as Cand[])) {
      const parts = byIndex.get(cand.index) ?? [];
      for (const p of cand.content.parts) {
        const prev = parts[parts.length - 1];
        if (
          prev && "text" in prev && "text" in p && !!prev.thought === !!p.thought &&
          !p.thoughtSignature
        ) {
          parts[parts.length - 1] = { ...prev, text: prev.text + p.text };
        } else {
          parts.push({ ...p });
        }
      }
      byIndex.set(cand.index, parts);
    }
  }
  return {
    candidates: (last.candidates as (Cand & { finishReason: string })[]).map((c) => ({
      content: { parts: byIndex.get(c.index) ?? [], role: "model" },
      finishReason: c.finishReason,
      index: c.index,
    })),
    usageMetadata: last.usageMetadata,
    modelVersion: last.modelVersion,
    responseId: last.responseId,
  };
}

export function embed(model: string, body: Record<string, unknown>): Response {
  const requests = body.requests as
    | { model?: string; content?: { parts?: { text?: string }[] }; outputDimensionality?: number }[]
    | undefined;
  if (!Array.isArray(requests) || requests.length === 0) {
    return googleError(
      400,
      "* BatchEmbedContentsRequest.requests: requests is not specified",
      "INVALID_ARGUMENT",
    );
  }
  if (requests.length > 100) {
    return googleError(
      400,
      "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch",
      "INVALID_ARGUMENT",
    );
  }
  const out = [];
  for (const [i, r] of requests.entries()) {
    if (r.model !== `models/${model}`) {
      return googleError(
        400,
        `* BatchEmbedContentsRequest.requests[${i}].model: model must be the same as the model in the URL (models/${model}), got ${r.model}`,
        "INVALID_ARGUMENT",
      );
    }
    const text = (r.content?.parts ?? []).map((p) => p.text ?? "").join("");
    if (!text) {
      return googleError(
        400,
        `* BatchEmbedContentsRequest.requests[${i}].content.parts: contents.parts must not be empty.`,
        "INVALID_ARGUMENT",
      );
    }
    const dims = r.outputDimensionality ?? 768;
    out.push({
      values: Array.from({ length: dims }, (_, d) => {
        let h = 2166136261 ^ d;
        for (let j = 0; j < text.length; j++) h = Math.imul(h ^ text.charCodeAt(j), 16777619);
        return ((h >>> 0) % 2000) / 1000 - 1;
      }),
    });
  }
  return json({ embeddings: out });
}
