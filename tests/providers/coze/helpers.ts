/**
 * Shared setup of the Coze API tests: the fake API and a gateway pointed at it.
 */
import OpenAI from "openai";
import {
  type FakeCozeApi,
  type FakeCozeBot,
  type FakeCozeToken,
  startFakeCozeApi,
} from "../../fakes/coze_api.ts";
import { startGateway, type TestGateway } from "../../helpers.ts";
import { type PoolAccount, poolAccounts } from "../web_helpers.ts";

/** Personal access tokens the fake knows: A may use workspace 1, B workspaces 1 and 2. */
export const PAT_A = "pat_A0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS";
export const PAT_B = "pat_B0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS";
/** A token the fake does not know (expired, or made on the other region's site). */
export const PAT_BAD = "pat_X0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS";

/** Bots of the fake. */
export const BOT_1 = "7350000000000000001";
export const BOT_2 = "7350000000000000002";
export const BOT_DRAFT = "7350000000000000003";
export const BOT_IMAGES = "7350000000000000009";

const TOKENS: FakeCozeToken[] = [
  { token: PAT_A, workspaces: ["ws1"] },
  { token: PAT_B, workspaces: ["ws1", "ws2"] },
];
const BOTS: FakeCozeBot[] = [
  { id: BOT_1, workspace: "ws1" },
  { id: BOT_2, workspace: "ws2" },
  { id: BOT_DRAFT, workspace: "ws1", published: false },
  { id: BOT_IMAGES, workspace: "ws1" },
];

/** Options of `setup`. */
export interface SetupOptions {
  /** Keys of the `coze` section on top of the fake's URL, `tokens: [PAT_A]` and `bot: BOT_1`. */
  coze?: Record<string, unknown>;
  /** Set `server.password` (then pools serve); default true. */
  password?: boolean;
  /** The client's API key (default the gateway password). */
  apiKey?: string;
}

/** A running fake, gateway and OpenAI client; dispose with `await using`. */
export interface Setup {
  fake: FakeCozeApi;
  gw: TestGateway;
  client: OpenAI;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the fake and a gateway for it. */
export async function setup(o: SetupOptions = {}): Promise<Setup> {
  const fake = await startFakeCozeApi({ tokens: TOKENS, bots: BOTS });
  const password = o.password ?? true;
  const gw = await startGateway({
    ...(password ? { server: { password: ["gw-pass"] } } : {}),
    coze: { ...fake.config, tokens: [PAT_A], bot: BOT_1, ...o.coze },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: o.apiKey ?? "gw-pass", maxRetries: 0 });
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

/** `GET /v1/pool`'s coze (API token) accounts. */
export function tokenState(gw: TestGateway, key = "gw-pass"): Promise<PoolAccount[]> {
  return poolAccounts(gw, "coze", key);
}
