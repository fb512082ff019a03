/**
 * `open-interpreter-ws`: the interpreter connects to the gateway over socket.io (the real
 * `socket.io-client`, as the interpreter's client library would) at `/socket.io/open-i/`, over
 * long-polling upgraded to WebSocket or WebSocket only; requests go to it as `settings` and
 * `reply` events and come back as `message` events, through the `openai` client.
 */
import OpenAI from "openai";
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import {
  connectWsInterpreter,
  defaultScript,
  startFakeInterpreter,
} from "../../fakes/interpreter.ts";
import { readTextThenAbort, readThenAbort, startGateway, waitFor, within } from "../../helpers.ts";
import { InterpreterBridge } from "../../../src/providers/interpreter/bridge.ts";

async function setup(config: Record<string, unknown> = {}) {
  const http = await startFakeInterpreter();
  const gw = await startGateway({
    interpreter: { "base-url": http.origin, ws: true, "echo-code": true, ...config },
  });
  const client = new OpenAI({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
  return {
    http,
    gw,
    client,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await http.close();
    },
  };
}

const EXPECTED =
  "Let me compute 6*7.\n```python\nprint(6*7)\n```\n```text\n42\n\n```\n\nThe answer is 42.";

for (const transports of [["polling", "websocket"], ["websocket"], ["polling"]] as const) {
  Deno.test(`interpreter ws: a chat over socket.io (${transports.join(" then ")})`, async () => {
    await using t = await setup();
    const oi = await connectWsInterpreter(t.gw.origin, { transports: [...transports] });
    try {
      if (transports.length === 2) {
        await waitFor(() => oi.socket.io.engine.transport.name === "websocket", 3000, "upgrade");
      }
      const res = await t.client.chat.completions.create({
        model: "open-interpreter-ws",
        messages: [
          { role: "system", content: "You run code." },
          { role: "user", content: "earlier" },
          { role: "assistant", content: "ok" },
          { role: "user", content: "6*7" },
        ],
      });
      assertEquals(res.choices[0].message.content, EXPECTED);
      assertEquals(oi.replies, ["6*7"]);
      assertEquals(oi.settings, [{
        messages: [
          { role: "user", type: "message", content: "earlier" },
          { role: "assistant", type: "message", content: "ok" },
        ],
        system: "You run code.",
      }]);
      // Every message was acknowledged with "ok" (16 = 15 chunks and [DONE]).
      await waitFor(() => oi.acks === 16, 3000, "acks");
      // The original's /settings POST goes to the interpreter's HTTP server too.
      assertEquals(t.http.settings.length, 1);

      // Streamed, a second request on the same connection.
      const stream = await t.client.chat.completions.create({
        model: "open-interpreter-ws",
        messages: [{ role: "user", content: "6*7" }],
        stream: true,
      });
      let text = "";
      let chunks = 0;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? "";
        chunks++;
      }
      assertEquals(text, EXPECTED);
      assert(chunks > 5);
    } finally {
      oi.close();
    }
  });
}

Deno.test("interpreter ws: ping gets pong; a second interpreter is refused", async () => {
  await using t = await setup();
  const oi = await connectWsInterpreter(t.gw.origin);
  try {
    const pong = new Promise((resolve) => oi.socket.once("pong", resolve));
    oi.socket.emit("ping");
    assertEquals(await pong, "ok");
    const second = await connectWsInterpreter(t.gw.origin);
    // Connected, then sent away at once (the two packets may arrive in one poll).
    await waitFor(() => !second.socket.connected, 3000, "the second interpreter sent away");
    second.close();
    // The first still serves.
    const res = await t.client.chat.completions.create({
      model: "open-interpreter-ws",
      messages: [{ role: "user", content: "6*7" }],
    });
    assertEquals(res.choices[0].message.content, EXPECTED);
  } finally {
    oi.close();
  }
});

Deno.test("interpreter ws: a client that leaves cancels; a vanished interpreter is an error", async () => {
  await using t = await setup();
  const oi = await connectWsInterpreter(t.gw.origin, { transports: ["websocket"] });
  try {
    oi.respond = (m) => ({ ...defaultScript(m), stallAfter: 3 });
    const controller = new AbortController();
    const stream = await t.client.chat.completions.create(
      { model: "open-interpreter-ws", messages: [{ role: "user", content: "x" }], stream: true },
      { signal: controller.signal },
    );
    // Leave at the first content.
    const text = await readTextThenAbort(stream, controller, (read) => read !== "");
    assert(text !== "", "some content arrived before the client left");
    await waitFor(() => oi.cancels === 1, 3000, "cancel event");
    // The bridge is free again: the next request is served.
    oi.respond = defaultScript;
    const res = await t.client.chat.completions.create({
      model: "open-interpreter-ws",
      messages: [{ role: "user", content: "6*7" }],
    });
    assertEquals(res.choices[0].message.content, EXPECTED);
    // The interpreter goes away in the middle of an answer.
    oi.respond = (m) => ({ ...defaultScript(m), stallAfter: 2 });
    const pending = t.client.chat.completions.create({
      model: "open-interpreter-ws",
      messages: [{ role: "user", content: "x" }],
    });
    await waitFor(() => oi.replies.length === 3, 3000, "third reply");
    oi.close();
    const err = await assertRejects(() => pending, OpenAI.InternalServerError);
    assertMatch(err.message, /the interpreter disconnected/);
  } finally {
    oi.close();
  }
  // Nobody connected: a clear 503.
  const none = await assertRejects(
    () =>
      t.client.chat.completions.create({
        model: "open-interpreter-ws",
        messages: [{ role: "user", content: "x" }],
      }),
    OpenAI.InternalServerError,
  );
  assertEquals(none.status, 503);
  assertMatch(none.message, /no open-interpreter is connected/);
});

Deno.test("interpreter bridge: a request that leaves while waiting gives up its turn at once", async () => {
  const bridge = new InterpreterBridge();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => bridge.io.handle(req),
  );
  const oi = await connectWsInterpreter(`http://127.0.0.1:${server.addr.port}`, {
    transports: ["websocket"],
  });
  const input = (message: string) => ({ settings: { messages: [] }, message });
  const collect = async (run: AsyncGenerator<string>) => {
    const out: string[] = [];
    for await (const m of run) out.push(m);
    return out;
  };
  try {
    oi.respond = (m) => m === "a" ? { ...defaultScript(m), stallAfter: 1 } : defaultScript(m);
    // A holds the interpreter; B waits for it and leaves; C waits.
    const a = bridge.run(input("a"), new AbortController().signal, 0);
    assertMatch((await a.next()).value as string, /"role":"assistant"/);
    const leaving = new AbortController();
    const b = collect(bridge.run(input("b"), leaving.signal, 0));
    const c = collect(bridge.run(input("c"), new AbortController().signal, 0));
    leaving.abort();
    const err = await within(assertRejects(() => b), 5000, "the leaving request to give up");
    assertMatch(String(err), /busy/);
    // A ends: the turn goes to C now, not to B's stale place in the queue (nor after C's 30 s).
    await a.return(undefined);
    const answer = await within(c, 5000, "the waiting request to be served");
    assertEquals(answer.length, defaultScript("c").chunks.length);
    assertEquals(oi.replies, ["a", "c"]);
  } finally {
    oi.close();
    bridge.io.closeAll();
    await server.shutdown();
  }
});

Deno.test("interpreter ws: a silent interpreter times out with 504 and a cancel", async () => {
  await using t = await setup({ "ws-timeout": 0.3 });
  const oi = await connectWsInterpreter(t.gw.origin);
  try {
    oi.respond = (m) => ({ ...defaultScript(m), stallAfter: 1 });
    const err = await assertRejects(
      () =>
        t.client.chat.completions.create({
          model: "open-interpreter-ws",
          messages: [{ role: "user", content: "x" }],
        }),
      OpenAI.APIError,
    );
    assertEquals(err.status, 504);
    await waitFor(() => oi.cancels === 1, 3000, "cancel event");
  } finally {
    oi.close();
  }
});

Deno.test("interpreter ws: off by default (404), other paths refused, password gate applies", async () => {
  const off = await startGateway({});
  try {
    const res = await fetch(`${off.origin}/socket.io/open-i/?EIO=4&transport=polling`);
    assertEquals(res.status, 404);
    assertMatch((await res.json()).error.message, /interpreter.ws is off/);
    await assertRejects(() => connectWsInterpreter(off.origin), Error);
  } finally {
    await off.close();
  }
  const gated = await startGateway({
    server: { password: ["pw-123456"] },
    interpreter: { ws: true },
  });
  try {
    assertEquals(
      await fetch(`${gated.origin}/socket.io/other/?EIO=4&transport=polling`, {
        headers: { authorization: "Bearer pw-123456" },
      }).then(async (r) => (await r.body?.cancel(), r.status)),
      404,
    );
    await assertRejects(() => connectWsInterpreter(gated.origin), Error);
    const oi = await connectWsInterpreter(gated.origin, {
      headers: { authorization: "Bearer pw-123456" },
    });
    oi.close();
  } finally {
    await gated.close();
  }
});

Deno.test("interpreter ws: a cancelled run's late messages never reach the next request", async () => {
  await using t = await setup();
  const oi = await connectWsInterpreter(t.gw.origin, { transports: ["websocket"] });
  try {
    // The first run is slow and, cancelled, still sends two chunks and its [DONE].
    oi.respond = (m) =>
      m === "slow"
        ? { ...defaultScript(m), delayMs: 60, finishesAfterCancel: 2 }
        : { ...defaultScript(m), delayMs: 20 };
    const controller = new AbortController();
    const stream = await t.client.chat.completions.create(
      { model: "open-interpreter-ws", messages: [{ role: "user", content: "slow" }], stream: true },
      { signal: controller.signal },
    );
    await readThenAbort(stream, controller, (c) => !!c.choices[0]?.delta.content);
    await waitFor(() => oi.cancels === 1, 3000, "cancel event");
    // Asked right away, the next request gets its own answer only.
    const res = await t.client.chat.completions.create({
      model: "open-interpreter-ws",
      messages: [{ role: "user", content: "6*7" }],
    });
    assertEquals(res.choices[0].message.content, EXPECTED);
    assertEquals(oi.replies, ["slow", "6*7"]);
  } finally {
    oi.close();
  }
});
