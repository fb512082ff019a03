/**
 * A fake playground.com image API: `POST /api/models` with the session cookie
 * `__Secure-next-auth.session-token`. It checks the cookie (401 `{"errorCode":"UNAUTHENTICATED"}`
 * without a known session), the JSON job (prompt, modelType, size, steps, sampler...: 400
 * `{"errorCode":"INVALID_REQUEST"}` otherwise), counts images per session and refuses beyond the
 * daily limit with 200 `{"errorCode":"DAILY_LIMIT_REACHED"}` (the body the original looked for),
 * and answers `{"images":[{"url":"data:image/jpeg;base64,...","imageKey","prompt"}],"meta"}`.
 *
 * @module
 */
import { type Fake, json, serveFake, sleep } from "./serve.ts";
import { dataUrl, jpegBytes } from "./gradio_spaces.ts";

const COOKIE = "__Secure-next-auth.session-token";

/** Options of the fake. */
export interface FakePlaygroundOptions {
  /** Valid session tokens. */
  sessions: string[];
  /** Images per session per day. */
  dailyLimit?: number;
  /** Image bytes. */
  image?: () => Uint8Array;
  /** Delay before answering, ms. */
  delayMs?: number;
}

/** A running fake playground. */
export interface FakePlayground extends Fake {
  /** Jobs received (parsed bodies). */
  jobs: Record<string, unknown>[];
  /** Images made per session. */
  used: Map<string, number>;
}

function sessionOf(req: Request): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Starts the fake playground. */
export async function startFakePlayground(options: FakePlaygroundOptions): Promise<FakePlayground> {
  const jobs: Record<string, unknown>[] = [];
  const used = new Map<string, number>();
  const fake = await serveFake(async (req, rec) => {
    const url = new URL(req.url);
    if (url.pathname !== "/api/models") return json({ errorCode: "NOT_FOUND" }, 404);
    if (req.method !== "POST") return json({ errorCode: "METHOD_NOT_ALLOWED" }, 405);
    const session = sessionOf(req);
    if (!session || !options.sessions.includes(session)) {
      return json({ errorCode: "UNAUTHENTICATED", message: "Please sign in" }, 401);
    }
    const job = rec.json as Record<string, unknown> | undefined;
    const valid = job && typeof job.prompt === "string" && job.prompt.trim() !== "" &&
      job.modelType === "stable-diffusion-xl" && typeof job.width === "number" &&
      typeof job.height === "number" && typeof job.num_images === "number" &&
      job.num_images >= 1 && job.num_images <= 4 && typeof job.negativePrompt === "string" &&
      typeof job.sampler === "number" && typeof job.steps === "number" &&
      typeof job.dream_booth_model === "string" && typeof job.statusUUID === "string";
    if (!valid) return json({ errorCode: "INVALID_REQUEST", message: "Invalid job" }, 400);
    jobs.push(job);
    const count = used.get(session) ?? 0;
    const n = job.num_images as number;
    if (count + n > (options.dailyLimit ?? 100)) {
      return json({ errorCode: "DAILY_LIMIT_REACHED", message: "You reached your daily limit" });
    }
    used.set(session, count + n);
    if (options.delayMs) await sleep(options.delayMs);
    const image = options.image ?? jpegBytes;
    return json({
      images: Array.from({ length: n }, (_, i) => ({
        url: dataUrl(image(), "image/jpeg"),
        imageKey: `${crypto.randomUUID()}-${i}`,
        prompt: job.prompt,
        loading: false,
      })),
      meta: { numImagesInLast24Hours: count + n },
    });
  });
  return { ...fake, jobs, used };
}
