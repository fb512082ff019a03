/**
 * What the Gemini API says about its models, kept per provider instance: the model list of
 * `GET /v1beta/models` (for `/v1/models`; the first configured key asks), and each model's `topK`
 * limit from `GET /v1beta/models/<id>` (asked with the request's key the first time a request
 * sets `top_k`). Without an answer callers use the built-in list and the default limits.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import type { Upstream } from "../../net/http.ts";
import { Discovery } from "../discovery.ts";
import type { ListContext } from "../types.ts";

/** One model as `models.list` / `models.get` describe it. */
interface ApiModel {
  name?: unknown;
  supportedGenerationMethods?: unknown;
  topK?: unknown;
}

const QUICK = { connect: 5, "first-byte": 5, idle: 5 };

function idOf(m: ApiModel): string | undefined {
  return typeof m.name === "string" ? m.name.replace(/^models\//, "") : undefined;
}

/** Model ids and limits by API root. */
export class GeminiCatalog {
  #lists = new Discovery<string[]>();
  #topK = new Discovery<number | null>({ max: 512 });

  /** The discovered ids, when known, without asking. */
  known(config: Config): string[] | undefined {
    return this.#lists.peek(config.gemini["base-url"]);
  }

  /** The chat and embedding ids the first configured key sees, or undefined. */
  async models(config: Config, ctx: ListContext): Promise<string[] | undefined> {
    const g = config.gemini;
    const key = g.keys[0];
    if (!key || !ctx.upstream) return undefined;
    const http = ctx.upstream("gemini", g.proxies);
    return await this.#lists.get(g["base-url"], async () => {
      const body = await http.json<{ models?: ApiModel[] }>(
        `${g["base-url"]}/v1beta/models?pageSize=1000`,
        { headers: { "x-goog-api-key": key }, timeouts: QUICK },
      );
      if (!Array.isArray(body.models)) throw new Error("no models in the answer");
      const ids: string[] = [];
      for (const m of body.models) {
        const id = idOf(m);
        const methods = Array.isArray(m.supportedGenerationMethods)
          ? m.supportedGenerationMethods
          : [];
        if (!id || !methods.some((x) => /generateContent|embedContent/.test(String(x)))) continue;
        ids.push(id);
        // The list says each model's topK too: no `models.get` needed for these.
        if (typeof m.topK === "number") this.#topK.put(`${g["base-url"]} ${id}`, m.topK);
      }
      return ids;
    });
  }

  /** The model's `topK` limit as the API reports it, or undefined when unknown. */
  async topK(
    config: Config,
    model: string,
    key: string,
    http: Upstream,
  ): Promise<number | undefined> {
    const base = config.gemini["base-url"];
    const limit = await this.#topK.get(`${base} ${model}`, async () => {
      const m = await http.json<ApiModel>(
        `${base}/v1beta/models/${encodeURIComponent(model)}`,
        { headers: { "x-goog-api-key": key }, timeouts: QUICK },
      );
      return typeof m.topK === "number" && m.topK > 0 ? m.topK : null;
    });
    return limit ?? undefined;
  }
}
