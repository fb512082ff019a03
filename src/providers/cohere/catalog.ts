/**
 * The chat models Cohere offers a key, from `GET /v1/models?endpoint=chat` (deprecated ones
 * left out), kept ten minutes per provider instance. Without a configured key, or when the call
 * fails, callers use the built-in list.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { Discovery } from "../discovery.ts";
import type { ListContext } from "../types.ts";

interface ModelsAnswer {
  models?: { name?: unknown; is_deprecated?: unknown; endpoints?: unknown }[];
}

/** Chat model ids by API root. */
export class CohereCatalog {
  #models = new Discovery<string[]>();

  /** The discovered ids, when known, without asking. */
  known(config: Config): string[] | undefined {
    return this.#models.peek(config.cohere["base-url"]);
  }

  /** The chat ids Cohere lists for the first configured key, or undefined. */
  async chatModels(config: Config, ctx: ListContext): Promise<string[] | undefined> {
    const c = config.cohere;
    const key = c.keys[0];
    if (!key || !ctx.upstream) return undefined;
    const http = ctx.upstream("cohere", c.proxies);
    return await this.#models.get(c["base-url"], async () => {
      const body = await http.json<ModelsAnswer>(
        `${c["base-url"]}/v1/models?endpoint=chat&page_size=1000`,
        {
          headers: { accept: "application/json", authorization: `Bearer ${key}` },
          timeouts: { connect: 5, "first-byte": 5, idle: 5 },
        },
      );
      if (!Array.isArray(body.models)) throw new Error("no models in the answer");
      return body.models
        .filter((m) => typeof m.name === "string" && m.is_deprecated !== true)
        .map((m) => m.name as string);
    });
  }
}
