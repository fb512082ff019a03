/**
 * A fake of Google's Gemini API (generativelanguage v1beta), written from the reference
 * (upstreams-2026.md section 7), that answers like the real one:
 *
 * - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` (SSE, one compact
 *   `GenerateContentResponse` per `data:` line, events separated by CRLF CRLF as Google sends
 *   them; without `alt=sse` a JSON array), `POST /v1beta/models/{model}:generateContent` (one
 *   JSON), `POST /v1beta/models/{model}:batchEmbedContents`, `GET /v1beta/models` and
 *   `GET /v1beta/models/{model}` (with each model's `topK`).
 * - The key in `x-goog-api-key` (or the `key` query parameter). None: 403 PERMISSION_DENIED; a
 *   wrong one: 400 INVALID_ARGUMENT with the `API_KEY_INVALID` ErrorInfo, as Google answers.
 * - Shut-down models (1.x, `gemini-3-pro-preview`, `text-embedding-004`) are 404.
 * - The request is checked as the API checks it (`gemini_rules.ts`): fields, roles, parts,
 *   schemas, function-call turns, Gemini 3 thought signatures, thinking fields by generation,
 *   penalties, `topK`, candidates. Refusals are 400 INVALID_ARGUMENT.
 * - Errors are Google's `{"error":{"code","message","status","details"}}`; 429 carries a
 *   `RetryInfo` detail (`retryDelay`) and no Retry-After header.
 *
 * What the model answers is scripted per test with `respond`.
 *
 * @module
 */
import {
  buildChunks,
  embed,
  type FakePart,
  type GeminiScript,
  googleError,
  merge,
} from "./gemini_answers.ts";
import { FAKE_MODELS, type FakeModel, SHUT_DOWN } from "./gemini_models.ts";
import { type GeminiBody, Invalid, validate } from "./gemini_rules.ts";
import { json, type Recorded, serveFake, sleep } from "./serve.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

export type { FakePart, GeminiBody, GeminiScript };
export { googleError };

/** Options of the fake. */
export interface FakeGeminiOptions {
  /** Valid API keys. */
  keys?: string[];
  /** Model ids that exist (without `models/`); default: every model of `gemini_models.ts`. */
  models?: string[];
  /** `topK` limits that differ from the table's (a model that reports another limit). */
  topK?: Record<string, number>;
}

/** A running fake Gemini API. */
export interface FakeGemini {
  origin: string;
  requests: Recorded[];
  /** Parsed bodies of generate requests (stream or not). */
  bodies(): GeminiBody[];
  respond: (body: GeminiBody, rec: Recorded) => GeminiScript;
  close(): Promise<void>;
}

/** A model the table does not know (listed by a test): 3.x-like rules. */
const OTHER: FakeModel = { topK: 64, levels: "any", candidates: 1 };

function describe(id: string, info: FakeModel): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: `models/${id}`,
    displayName: id,
    supportedGenerationMethods: info.embedding
      ? ["embedContent", "batchEmbedContents"]
      : ["generateContent", "countTokens"],
  };
  if (!info.embedding) Object.assign(out, { topK: info.topK, temperature: 1, maxTemperature: 2 });
  return out;
}

function lastUserText(body: GeminiBody): string {
  for (let i = body.contents.length - 1; i >= 0; i--) {
    const c = body.contents[i];
    if (c.role === "model") continue;
    const t = c.parts.filter((p) => typeof p.text === "string").map((p) => p.text).join(" ");
    if (t) return t;
  }
  return "";
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const models = options.models ?? Object.keys(FAKE_MODELS);
  const infoOf = (id: string): FakeModel => {
    const info = FAKE_MODELS[id] ?? OTHER;
    const topK = options.topK?.[id];
    return topK === undefined ? info : { ...info, topK };
  };
  const keys = options.keys ?? ["AIzaSyFakeKey0000000000000000000000001"];
  let seq = 0;
  const state: { respond: FakeGemini["respond"] } = {
    respond: (body) => ({ text: `Hello! You said: ${lastUserText(body)}` }),
  };

  const fake = await serveFake(async (req, rec) => {
    const key = req.headers.get("x-goog-api-key") ?? rec.query.get("key");
    if (!key) {
      return googleError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        "PERMISSION_DENIED",
      );
    }
    if (!keys.includes(key)) {
      return googleError(
        400,
        "API key not valid. Please pass a valid API key.",
        "INVALID_ARGUMENT",
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
            metadata: { service: "generativelanguage.googleapis.com" },
          },
        ],
      );
    }
    if (req.method === "GET" && rec.path === "/v1beta/models") {
      return json({ models: models.map((id) => describe(id, infoOf(id))) });
    }
    const one = rec.path.match(/^\/v1beta\/models\/([^/:]+)$/);
    if (req.method === "GET" && one) {
      if (!models.includes(one[1])) {
        return googleError(
          404,
          `models/${one[1]} is not found for API version v1beta`,
          "NOT_FOUND",
        );
      }
      return json(describe(one[1], infoOf(one[1])));
    }
    const m = rec.path.match(/^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/);
    if (req.method !== "POST" || !m) {
      return googleError(404, `Requested entity was not found.`, "NOT_FOUND");
    }
    const [, model, method] = m;
    if (!models.includes(model) || SHUT_DOWN.includes(model)) {
      return googleError(
        404,
        `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
        "NOT_FOUND",
      );
    }
    if (
      (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase() !==
        "application/json"
    ) {
      // Google's front end reads a body of any other type as form fields (query parameters), so
      // the whole JSON text becomes one unknown parameter name.
      const name = rec.body.split("&")[0].split("=")[0];
      const message =
        `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`;
      return googleError(400, message, "INVALID_ARGUMENT", [
        {
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [{ description: message }],
        },
      ]);
    }
    if (rec.json === undefined || typeof rec.json !== "object") {
      return googleError(
        400,
        `Invalid JSON payload received. Unexpected token.\n${rec.body.slice(0, 20)}\n^`,
        "INVALID_ARGUMENT",
      );
    }
    if (method === "batchEmbedContents") return embed(model, rec.json as Record<string, unknown>);
    if (method !== "generateContent" && method !== "streamGenerateContent") {
      return googleError(404, `Method not found.`, "NOT_FOUND");
    }
    const body = rec.json as GeminiBody;
    try {
      validate(body, model, infoOf(model));
    } catch (err) {
      if (err instanceof Invalid) return googleError(400, err.message, "INVALID_ARGUMENT");
      throw err;
    }
    const script = state.respond(body, rec);
    if (script.hang) {
      await rec.aborted;
      return new Response(null, { status: 499 });
    }
    if (script.error) {
      const e = script.error;
      const details: unknown[] = [];
      if (e.reason) {
        details.push({
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: e.reason,
          domain: "googleapis.com",
        });
      }
      if (e.retryDelay) {
        details.push({
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: e.retryDelay,
        });
      }
      return googleError(e.code, e.message, e.status, details);
    }

    const chunks = buildChunks(body, model, script, ++seq);
    if (method === "generateContent") return json(merge(chunks), 200);
    const sse = rec.query.get("alt") === "sse";
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          if (!sse) controller.enqueue(encoder.encode("["));
          for (let i = 0; i < chunks.length; i++) {
            if (script.delayMs) await sleep(script.delayMs);
            if (script.streamError && i === script.streamError.after) {
              const { code, message, status } = script.streamError;
              const err = JSON.stringify({ error: { code, message, status } });
              controller.enqueue(encoder.encode(sse ? `data: ${err}\r\n\r\n` : `${err}]`));
              controller.close();
              return;
            }
            const text = JSON.stringify(chunks[i]);
            controller.enqueue(
              encoder.encode(sse ? `data: ${text}\r\n\r\n` : `${i > 0 ? ",\r\n" : ""}${text}`),
            );
          }
          if (!sse) controller.enqueue(encoder.encode("]"));
          controller.close();
        } catch {
          // The client went away.
        }
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": sse ? "text/event-stream" : "application/json; charset=UTF-8",
        "x-content-type-options": "nosniff",
      },
    });
  });

  return {
    origin: fake.origin,
    requests: fake.requests,
    bodies: () =>
      fake.requests
        .filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path))
        .map((r) => r.json as GeminiBody),
    get respond() {
      return state.respond;
    },
    set respond(fn) {
      state.respond = fn;
    },
    close: fake.close,
  };
}
