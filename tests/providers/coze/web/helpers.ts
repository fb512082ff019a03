/**
 * Shared setup of the Coze tests: the fakes and a gateway pointed at them.
 */
import OpenAI from "openai";
import {
  type FakeBot,
  type FakeCoze,
  type FakeCozeOptions,
  startFakeCoze,
} from "../../../fakes/coze_web.ts";
import { settled, startGateway, type TestGateway } from "../../../helpers.ts";
import { type PoolAccount, poolAccounts } from "../../web_helpers.ts";

/** Logged-in sessions of the fake. */
export const SESSION_A = "sessA0123456789abcdef0123456789ab";
export const SESSION_B = "sessB0123456789abcdef0123456789ab";

/** Bots of the fake. */
export const BOTS: FakeBot[] = [
  { id: "7350000000000000008", version: "1716801150371" },
  { id: "7350000000000000128", version: "1716801150999" },
  {
    id: "7350000000000000777",
    spaceId: "7290000000000000001",
    owner: SESSION_A,
    model: "gpt-4o-8k",
  },
  { id: "7350000000000000555", websdk: true },
  { id: "7350000000000000999", version: "1" },
];

/** The config bots matching `BOTS`. */
export const BOT_8K = { "bot-id": BOTS[0].id, version: BOTS[0].version, scene: 2 };
export const BOT_128K = { "bot-id": BOTS[1].id, version: BOTS[1].version, scene: 2 };
export const OWNER_MODEL = `coze/${BOTS[2].id}-${BOTS[2].spaceId}-4-o`;
export const WEBSDK_MODEL = `coze/${BOTS[3].id}-0-1000-w`;

/** Options of `setup`. */
export interface SetupOptions {
  fake?: FakeCozeOptions;
  /** Keys of the `coze` section on top of the fake's URLs, the 8k/128k bots and one cookie. */
  coze?: Record<string, unknown> | ((fake: FakeCoze) => Record<string, unknown>);
  /** Set `server.password` (then pools serve) — default true. */
  password?: boolean;
  /** The client's API key (default the gateway password). */
  apiKey?: string;
}

/** A running fake, gateway and OpenAI client; dispose with `await using`. */
export interface Setup {
  fake: FakeCoze;
  gw: TestGateway;
  client: OpenAI;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the fakes and a gateway for them. */
export async function setup(o: SetupOptions = {}): Promise<Setup> {
  const fake = await startFakeCoze({ sessions: [SESSION_A, SESSION_B], bots: BOTS, ...o.fake });
  const password = o.password ?? true;
  const gw = await startGateway({
    ...(password ? { server: { password: ["gw-pass"] } } : {}),
    coze: {
      ...fake.config,
      cookies: [`sessionid=${SESSION_A}`],
      "8k": BOT_8K,
      "128k": BOT_128K,
      ...(typeof o.coze === "function" ? o.coze(fake) : o.coze),
    },
  });
  const client = new OpenAI({
    baseURL: gw.url,
    apiKey: o.apiKey ?? "gw-pass",
    maxRetries: 0,
  });
  return {
    fake,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await settled(gw, "coze");
      await gw.close();
      await fake.close();
    },
  };
}

/** `GET /v1/pool`'s coze accounts. */
export function poolState(gw: TestGateway, key = "gw-pass"): Promise<PoolAccount[]> {
  return poolAccounts(gw, "coze-web", key);
}
