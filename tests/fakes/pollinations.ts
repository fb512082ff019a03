/**
 * A fake Pollinations (upstreams-2026 section 9.1; enter.pollinations.ai `APIDOCS.md`), both
 * hosts on one origin:
 *
 * - the keyed gateway: `GET /image/<prompt>?model=&width=&height=&seed=&nologo=&private=&enhance=
 *   &safe=` with `Authorization: Bearer <key>` or `?key=`; no key or an unknown one is 401
 *   `{"status":401,"success":false,"error":{"code":"UNAUTHORIZED","message":...}}`, a key
 *   without Pollen 403 "Insufficient Pollen balance", a `pk_` key past its burst of 3 is 429
 *   "Rate Limit Exceeded", an unknown model or a size that is not a positive integer 400
 *   `BAD_REQUEST` with `fieldErrors`; else a JPEG. A prompt the fake is told to refuse gets a
 *   placeholder image with `x-error-type`.
 * - the anonymous 2024 host: `GET /prompt/<prompt>` answers a JPEG, or (`legacyMoved`) the
 *   "WE HAVE MOVED" HTML page it serves since the move.
 *
 * @module
 */
import { jpegBytes } from "./gradio_spaces.ts";
import { json, type Recorded, serveFake } from "./serve.ts";

/** Options of the fake. */
export interface FakePollinationsOptions {
  /** Keys and the Pollen each has left (`Infinity` for plenty). */
  keys?: Record<string, number>;
  /** The anonymous host answers its "we have moved" page instead of images. */
  legacyMoved?: boolean;
  /** Prompts containing this word get a placeholder image with `x-error-type`. */
  blockWord?: string;
}

/** One image request the fake answered (or refused). */
export interface PollinationsHit {
  host: "gen" | "legacy";
  prompt: string;
  query: URLSearchParams;
  key?: string;
  status: number;
}

/** A running fake Pollinations. */
export interface FakePollinations {
  origin: string;
  hits: PollinationsHit[];
  requests: Recorded[];
  close(): Promise<void>;
}

const MODELS = ["flux", "turbo", "gptimage", "kontext", "seedream", "nanobanana", "zimage"];

function envelope(status: number, code: string, message: string, extra: object = {}): Response {
  return json({
    status,
    success: false,
    error: {
      code,
      message,
      timestamp: new Date().toISOString(),
      details: { name: code, ...extra },
      requestId: crypto.randomUUID(),
      cause: null,
    },
  }, status);
}

function image(headers: HeadersInit = {}): Response {
  const bytes = jpegBytes();
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": "image/jpeg", "content-length": String(bytes.length), ...headers },
  });
}

/** Starts the fake on 127.0.0.1. */
export async function startFakePollinations(
  options: FakePollinationsOptions = {},
): Promise<FakePollinations> {
  const hits: PollinationsHit[] = [];
  const balance = new Map(Object.entries(options.keys ?? {}));
  const used = new Map<string, number>();
  const fake = await serveFake((req) => {
    const url = new URL(req.url);
    const gen = url.pathname.startsWith("/image/");
    const legacy = url.pathname.startsWith("/prompt/");
    if (req.method !== "GET" || (!gen && !legacy)) return json({ error: "Not Found" }, 404);
    const prompt = decodeURIComponent(url.pathname.slice(gen ? 7 : 8));
    const hit: PollinationsHit = {
      host: gen ? "gen" : "legacy",
      prompt,
      query: url.searchParams,
      status: 200,
    };
    hits.push(hit);
    const answer = (res: Response) => {
      hit.status = res.status;
      return res;
    };
    if (legacy) {
      if (options.legacyMoved) {
        return answer(
          new Response("<html><h1>WE HAVE MOVED!!</h1>Sign up at enter.pollinations.ai</html>", {
            headers: { "content-type": "text/html; charset=utf-8" },
          }),
        );
      }
      return answer(image());
    }
    const auth = req.headers.get("authorization");
    const key = auth?.startsWith("Bearer ") ? auth.slice(7) : url.searchParams.get("key") ?? "";
    hit.key = key || undefined;
    if (!key || !balance.has(key)) {
      return answer(envelope(
        401,
        "UNAUTHORIZED",
        "You need to authenticate by providing a session cookie or Authorization header (Bearer token).",
      ));
    }
    if (key.startsWith("pk_")) {
      const n = (used.get(key) ?? 0) + 1;
      used.set(key, n);
      if (n > 3) return answer(envelope(429, "RATE_LIMITED", "Rate Limit Exceeded"));
    }
    const fieldErrors: Record<string, string[]> = {};
    const model = url.searchParams.get("model") ?? "flux";
    if (!MODELS.includes(model)) fieldErrors.model = [`Invalid model '${model}'`];
    for (const f of ["width", "height", "seed"]) {
      const v = url.searchParams.get(f);
      if (v !== null && !/^\d+$/.test(v)) fieldErrors[f] = ["Expected a positive integer"];
    }
    if (Object.keys(fieldErrors).length > 0) {
      return answer(envelope(
        400,
        "BAD_REQUEST",
        "Something was wrong with the input data, check the details for more info.",
        { formErrors: [], fieldErrors },
      ));
    }
    const left = balance.get(key)!;
    if (left <= 0) return answer(envelope(403, "FORBIDDEN", "Insufficient Pollen balance"));
    balance.set(key, left - 1);
    if (options.blockWord && prompt.includes(options.blockWord)) {
      return answer(image({ "x-error-type": "content_filter" }));
    }
    return answer(image());
  });
  return { origin: fake.origin, hits, requests: fake.requests, close: fake.close };
}
