/**
 * Whether an open-interpreter server answers at `interpreter.base-url`, for the provider's
 * readiness. The interpreter is a local process that needs no account: the default base URL is
 * only a guess of where `interpreter --server` listens, so whether the provider can serve is a
 * fact of that server, checked with two cheap calls (upstreams-2026 section 10):
 *
 * 1. `GET /heartbeat` (never behind the key): `{"status":"alive"}` when a 0.4 server runs there;
 * 2. `GET /settings/auto_run` with the configured key: 403 when the server's
 *    `INTERPRETER_API_KEY` is set and `interpreter.api-key` is missing or differs.
 *
 * Outcomes are kept a few seconds per base URL and key (`/v1/models` may be polled), and calls
 * asking meanwhile share one check. Each call is bounded by a short timeout.
 *
 * @module
 */
import type { Config } from "../../config/schema.ts";
import { type HttpClients, upstreamFactory } from "../../net/http.ts";
import type { Readiness } from "../types.ts";

/** How long an outcome is kept. */
const TTL_MS = 10_000;
/** Seconds each probe call may take. */
const PROBE_SECONDS = 3;
/** Outcomes kept at most (one per base URL and key a config ever had). */
const MAX_ENTRIES = 16;

/** The interpreter's readiness, checked against the server at its base URL. */
export class InterpreterProbe {
  #cache = new Map<string, { until: number; outcome: Promise<Readiness> }>();

  constructor(private readonly clients: HttpClients) {}

  /** The readiness with `config`: a kept outcome, or a fresh check. */
  check(config: Config): Promise<Readiness> {
    const c = config.interpreter;
    const id = `${c["base-url"]}\n${c["api-key"] ?? ""}\n${c.proxies ?? ""}`;
    const hit = this.#cache.get(id);
    if (hit && hit.until > Date.now()) return hit.outcome;
    const outcome = probe(config, this.clients);
    this.#cache.delete(id);
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(id, { until: Date.now() + TTL_MS, outcome });
    return outcome;
  }
}

async function probe(config: Config, clients: HttpClients): Promise<Readiness> {
  const c = config.interpreter;
  const base = c["base-url"];
  const http = upstreamFactory(config, AbortSignal.timeout(PROBE_SECONDS * 1000), clients)(
    "interpreter",
    c.proxies,
  );
  const timeouts = { connect: PROBE_SECONDS, "first-byte": PROBE_SECONDS, idle: PROBE_SECONDS };
  const absent =
    `start \`interpreter --server\` there, or set interpreter.base-url to where it runs`;
  try {
    const beat = await http.fetch(`${base}/heartbeat`, { timeouts });
    const body = await beat.text();
    if (beat.status !== 200 || !/"alive"/.test(body)) {
      return {
        ready: false,
        note: `${base}/heartbeat answered ${beat.status}, not an open-interpreter 0.4 server: ` +
          absent,
      };
    }
    const headers: Record<string, string> = c["api-key"] ? { "x-api-key": c["api-key"] } : {};
    const auth = await http.fetch(`${base}/settings/auto_run`, { headers, timeouts });
    await auth.body?.cancel();
    if (auth.status === 403) {
      return {
        ready: false,
        note: c["api-key"]
          ? `the interpreter at ${base} refuses interpreter.api-key: set it to the server's INTERPRETER_API_KEY`
          : `the interpreter at ${base} wants a key: set interpreter.api-key to its INTERPRETER_API_KEY`,
      };
    }
    return {
      ready: true,
      // It runs code on its machine for whoever reaches this server: as worth guarding as keys.
      pooled: true,
      note: `an open-interpreter server answers at ${base}${
        c["api-key"] ? " (interpreter.api-key)" : ""
      }`,
    };
  } catch {
    return { ready: false, note: `nothing answers at ${base}: ${absent}` };
  }
}
