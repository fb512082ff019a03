/**
 * What the routes of one server share: its dependencies and the per-request values that
 * middleware sets and handlers read.
 *
 * @module
 */
import type { Context } from "npm:hono@^4.13.19";
import type { ConfigStore } from "../config/mod.ts";
import type { RegexPool } from "../flags/mod.ts";
import type { ImageStores } from "../images/mod.ts";
import type { HttpClients } from "../net/http.ts";
import type { PoolSet } from "../pool/mod.ts";
import type { Registry } from "../providers/registry.ts";
import type { ResponseStore } from "../responses/store.ts";
import type { TaskPlans } from "../toolcall/mod.ts";
import type { Logger } from "../util/log.ts";

/** The running server's parts, built once at start. */
export interface AppDeps {
  store: ConfigStore;
  log: Logger;
  /** Every provider instance, and model resolution. */
  registry: Registry;
  /** HTTP clients per proxy, shared by every upstream call. */
  clients: HttpClients;
  /** Tasks-mode plans of the tool-call emulator. */
  plans: TaskPlans;
  /** Stored responses of the Responses API. */
  responses: ResponseStore;
  /** The processes that run clients' patterns (`<regex>`, `<matcher>`). */
  regex: RegexPool;
  /**
   * Stored images, when each up-scaling key may be used again, backend credentials, and the
   * notices about retired backend names already logged.
   */
  images: {
    stores: ImageStores;
    resting: Map<string, number>;
    pools: PoolSet;
    notices: Set<string>;
  };
}

/** Per-request values shared by middleware and handlers. */
export type Vars = {
  requestId: string;
  /** The upstream credential (undefined when none, or when the password gate consumed it). */
  token: string | undefined;
  /** The model of the request, for the access log. */
  model: string | undefined;
  /** Set by handlers that write the access log themselves (streams end after the handler). */
  logDeferred: boolean;
  deps: AppDeps;
};

/** A Hono context with this server's variables. */
export type Ctx = Context<{ Variables: Vars }>;
