/**
 * The fake Copilot refuses what the service refuses (so that the provider's tests prove
 * something): frames before `connected`, a socket without `clientSessionId`, a misordered
 * handshake, a wrong challenge answer, a challenge answered without the re-sent `send`, a forged
 * Turnstile token, an unknown access token, a conversation start without its fields.
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { HttpClients, Upstream, type UpstreamSocket } from "../../../src/net/http.ts";
import { GatewayError } from "../../../src/openai/errors.ts";
import { type FakeCopilot, startFakeCopilot } from "../../fakes/copilot.ts";

function client(fake: FakeCopilot, headers: Record<string, string> = {}) {
  const config = configSchema.parse({ server: { "ca-file": fake.gate.caFile } });
  const http = new Upstream({
    provider: "copilot",
    config,
    signal: new AbortController().signal,
    clients: new HttpClients(),
  });
  return {
    http,
    async start(): Promise<{ id: string; cookie: string }> {
      const res = await http.fetch(`${fake.origin}/c/api/start`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({
          timeZone: "UTC",
          startNewConversation: true,
          teenSupportEnabled: true,
          correctPersonalizationSetting: true,
          performUserMerge: true,
          deferredDataUseCapable: true,
        }),
      });
      assertEquals(res.status, 200);
      const cookie = res.headers.getSetCookie()[0]?.split(";")[0] ?? "";
      return { id: (await res.json()).currentConversationId, cookie };
    },
    socket(cookie: string, query = `clientSessionId=${crypto.randomUUID()}`) {
      return http.socket(
        `${fake.origin.replace("https", "wss")}/c/api/chat?api-version=2&${query}`,
        {
          headers: { origin: fake.origin, cookie },
          timeouts: { idle: 2 },
        },
      );
    },
  };
}

/** Reads objects until `event` arrives (or the socket ends). */
async function until(socket: UpstreamSocket, event: string): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  while (true) {
    const frame = await socket.next(5);
    if (frame === undefined) return seen;
    const objects = frame.split(/(?<=\})(?=\{)/).map((s) => JSON.parse(s));
    seen.push(...objects);
    if (objects.some((o) => o.event === event)) return seen;
  }
}

const SET_OPTIONS = JSON.stringify({ event: "setOptions", supportedCards: [] });
const CONSENTS = JSON.stringify({ event: "reportLocalConsents", grantedConsents: [] });
const send = (id: string) =>
  JSON.stringify({
    event: "send",
    conversationId: id,
    content: [{ type: "text", text: "hi" }],
    mode: "chat",
    context: {},
  });

Deno.test("fake copilot: the socket's order is connected, setOptions, consents, send", async () => {
  const fake = await startFakeCopilot();
  try {
    const c = client(fake);
    const { id, cookie } = await c.start();
    // A frame before `connected`.
    const early = await c.socket(cookie);
    early.send(SET_OPTIONS);
    const got = await until(early, "error");
    assertEquals(got.at(-1), { event: "error", errorCode: "invalid-event" });
    // Without clientSessionId.
    const anonymous = await c.socket(cookie, "x=1");
    await until(anonymous, "connected");
    anonymous.send(SET_OPTIONS);
    assertEquals((await until(anonymous, "error")).at(-1)?.errorCode, "invalid-event");
    // `send` before the handshake.
    const hasty = await c.socket(cookie);
    await until(hasty, "connected");
    hasty.send(send(id));
    assertEquals((await until(hasty, "error")).at(-1)?.errorCode, "invalid-event");
    // A conversation of somebody else.
    const foreign = await c.socket(cookie);
    await until(foreign, "connected");
    for (const f of [SET_OPTIONS, CONSENTS, send("conv-not-mine")]) foreign.send(f);
    assertEquals((await until(foreign, "error")).at(-1)?.errorCode, "invalid-event");
    // In order: the answer.
    const good = await c.socket(cookie);
    await until(good, "connected");
    for (const f of [SET_OPTIONS, CONSENTS, send(id)]) good.send(f);
    const answer = await until(good, "done");
    assertEquals(
      answer.filter((o) => o.event === "appendText").map((o) => o.text).join(""),
      "You said: hi",
    );
    for (const s of [early, anonymous, hasty, foreign, good]) s.close();
  } finally {
    await fake.close();
  }
});

Deno.test("fake copilot: a wrong answer is refused; a right one needs the re-sent send", async () => {
  const fake = await startFakeCopilot();
  try {
    const c = client(fake);
    fake.respond = () => ({ challenge: { method: "hashcash", parameter: "abc:12" } });
    const { id, cookie } = await c.start();
    const wrong = await c.socket(cookie);
    await until(wrong, "connected");
    for (const f of [SET_OPTIONS, CONSENTS, send(id)]) wrong.send(f);
    assertEquals((await until(wrong, "challenge")).at(-1)?.method, "hashcash");
    wrong.send(
      JSON.stringify({ event: "challengeResponse", token: "1", method: "hashcash", id: "1" }),
    );
    assertEquals((await until(wrong, "error")).at(-1)?.errorCode, "invalid-event");

    // The right nonce (found here by brute force) without the re-sent send: silence.
    const { createHash } = await import("node:crypto");
    let nonce = 0;
    while (
      createHash("sha256").update(`abc${nonce}`).digest().readUInt16BE(0) >> 4 !== 0
    ) nonce++;
    const right = await c.socket(cookie);
    await until(right, "connected");
    for (const f of [SET_OPTIONS, CONSENTS, send(id)]) right.send(f);
    await until(right, "challenge");
    right.send(
      JSON.stringify({
        event: "challengeResponse",
        token: String(nonce),
        method: "hashcash",
        id: "1",
      }),
    );
    const silent = await assertRejects(() => right.next(1), GatewayError);
    assertEquals(silent.status, 504);

    // A forged Turnstile token.
    fake.respond = () => ({ challenge: { method: null } });
    const forged = await c.socket(cookie);
    await until(forged, "connected");
    for (const f of [SET_OPTIONS, CONSENTS, send(id)]) forged.send(f);
    await until(forged, "challenge");
    forged.send(
      JSON.stringify({
        event: "challengeResponse",
        token: "00.beef",
        method: "cloudflare",
        id: "1",
      }),
    );
    assertEquals((await until(forged, "error")).at(-1)?.errorCode, "invalid-event");
    assertEquals(fake.turnstileSpent, 0);
    for (const s of [wrong, right, forged]) s.close();
  } finally {
    await fake.close();
  }
});

Deno.test("fake copilot: unknown tokens are 401s, a start without its fields a 400", async () => {
  const fake = await startFakeCopilot({ tokens: ["good-token"] });
  try {
    const c = client(fake);
    const upgrade = await assertRejects(
      () => c.socket("", `clientSessionId=x&accessToken=bad-token`),
      GatewayError,
    );
    assertEquals(upgrade.upstreamStatus, 401);
    const bearer = await c.http.fetch(`${fake.origin}/c/api/start`, {
      method: "POST",
      headers: { authorization: "Bearer bad-token", "content-type": "application/json" },
      body: JSON.stringify({ timeZone: "UTC" }),
    });
    assertEquals(bearer.status, 400, "the body is checked first");
    await bearer.body?.cancel();
    const signed = await client(fake, { authorization: "Bearer bad-token" }).start().catch((e) =>
      e
    );
    assert(signed instanceof Error);
    const ok = await client(fake, { authorization: "Bearer good-token" }).start();
    assert(ok.id.startsWith("conv-"));
  } finally {
    await fake.close();
  }
});
