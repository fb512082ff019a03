/**
 * Shared setup of the Gemini provider tests: the fake Gemini API, the gateway pointed at it and
 * an `openai` client.
 *
 * @module
 */
import OpenAI from "openai";
import { type FakeGemini, type FakeGeminiOptions, startFakeGemini } from "../../fakes/gemini.ts";
import { startGateway, type TestGateway } from "../../helpers.ts";

/** The key the fake accepts by default. */
export const KEY = "AIzaSyFakeKey0000000000000000000000001";

/** A running fake, gateway and client. */
export interface GeminiSetup extends AsyncDisposable {
  fake: FakeGemini;
  gw: TestGateway;
  client: OpenAI;
}

/**
 * Starts the fake and the gateway. With `pool`, the keys live in config and the client opens the
 * gateway with a password; without, the client sends its own Gemini key.
 */
export async function setup(
  options: {
    pool?: string[];
    gemini?: Record<string, unknown>;
    fake?: FakeGeminiOptions;
    clientKey?: string;
    /** Extra `server` settings (e.g. `fetch` for image URLs on 127.0.0.1). */
    server?: Record<string, unknown>;
  } = {},
): Promise<GeminiSetup> {
  const fake = await startFakeGemini(options.fake);
  const gemini = { "base-url": fake.origin, ...options.gemini };
  const config: Record<string, unknown> = options.pool
    ? {
      server: { password: ["gateway-pass"], ...options.server },
      gemini: { ...gemini, keys: options.pool },
    }
    : { gemini, ...(options.server ? { server: options.server } : {}) };
  const gw = await startGateway(config);
  const client = new OpenAI({
    baseURL: gw.url,
    apiKey: options.pool ? "gateway-pass" : options.clientKey ?? KEY,
    maxRetries: 0,
  });
  return {
    fake,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await fake.close();
    },
  };
}

/** The generate requests' bodies the fake received. */
export function lastBody(fake: FakeGemini) {
  const bodies = fake.bodies();
  return bodies[bodies.length - 1];
}
