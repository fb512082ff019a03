/**
 * The gateway in front of the fake Copilot (behind its TLS gate), for the Copilot tests.
 *
 * @module
 */
import OpenAI from "openai";
import { startGateway, type TestGateway } from "../../helpers.ts";
import {
  type FakeCopilot,
  type FakeCopilotOptions,
  startFakeCopilot,
} from "../../fakes/copilot.ts";

/** A running gateway and fake. */
export interface CopilotSetup extends AsyncDisposable {
  fake: FakeCopilot;
  gw: TestGateway;
  client: OpenAI;
  /** The copilot accounts of `/v1/pool`. */
  pool(): Promise<
    {
      id: string;
      ready: boolean;
      busy: number;
      last_error: string | null;
      clearance_failures: number;
    }[]
  >;
}

/** Starts the fake and a gateway whose `copilot.base-url` is the fake. */
export async function setup(o: {
  fake?: FakeCopilotOptions;
  copilot?: Record<string, unknown>;
  server?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  apiKey?: string;
} = {}): Promise<CopilotSetup> {
  const fake = await startFakeCopilot(o.fake);
  const gw = await startGateway({
    // `/v1/pool` needs a password unless public-pool says otherwise; the tests read it.
    server: { "ca-file": fake.gate.caFile, "public-pool": true, ...o.server },
    copilot: { "base-url": fake.origin, ...o.copilot },
    browser: { timeout: 60 },
    ...o.extra,
  });
  const client = new OpenAI({
    baseURL: gw.url,
    apiKey: o.apiKey ?? "sk-placeholder",
    maxRetries: 0,
  });
  return {
    fake,
    gw,
    client,
    async pool() {
      const res = await fetch(`${gw.origin}/v1/pool`, {
        headers: { authorization: `Bearer ${o.apiKey ?? "sk-placeholder"}` },
      });
      const body = await res.json();
      return body.data?.find((p: { provider: string }) => p.provider === "copilot")
        ?.accounts ?? [];
    },
    async [Symbol.asyncDispose]() {
      await gw.close();
      await fake.close();
    },
  };
}

/** The `event` of each frame the fake received on a socket. */
export function eventsOf(received: Record<string, unknown>[]): unknown[] {
  return received.map((f) => f.event);
}
