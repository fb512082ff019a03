/**
 * Shared setup of the Cohere provider tests: the fake API, the gateway and an `openai` client.
 *
 * @module
 */
import OpenAI from "openai";
import { type FakeCohere, startFakeCohere } from "../../fakes/cohere.ts";
import { startGateway, type TestGateway } from "../../helpers.ts";

/** The key the fake accepts by default. */
export const KEY = "CoFakeKey0000000000000000000000000000001";

/** A running fake, gateway and client. */
export interface CohereSetup extends AsyncDisposable {
  fake: FakeCohere;
  gw: TestGateway;
  client: OpenAI;
}

/** Starts the fake and the gateway (`pool`: keys in config, the client uses a password). */
export async function setup(
  options: {
    pool?: string[];
    cohere?: Record<string, unknown>;
    keys?: string[];
    clientKey?: string;
  } = {},
): Promise<CohereSetup> {
  const fake = await startFakeCohere({ keys: options.keys });
  const cohere = { "base-url": fake.origin, ...options.cohere };
  const gw = await startGateway(
    options.pool
      ? { server: { password: ["gateway-pass"] }, cohere: { ...cohere, keys: options.pool } }
      : { cohere },
  );
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

/** The last body the fake received. */
export function lastBody(fake: FakeCohere): Record<string, unknown> {
  return fake.bodies().at(-1)!;
}
