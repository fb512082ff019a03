/**
 * Unit tests of the interpreter provider's parts: socket.io packet parsing, the engine.io
 * heartbeat and polling protocol spoken with raw HTTP, message conversion, stream mapping.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { toInterpreter } from "../../../src/providers/interpreter/messages.ts";
import { parseSocketPacket, SocketIoServer } from "../../../src/providers/interpreter/socketio.ts";
import { InterpreterMapper } from "../../../src/providers/interpreter/stream.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { waitFor } from "../../helpers.ts";

Deno.test("socket.io packets: events, acks, namespaces", () => {
  assertEquals(parseSocketPacket('2["reply","hi"]'), {
    type: 2,
    nsp: "/",
    id: undefined,
    data: ["reply", "hi"],
  });
  assertEquals(parseSocketPacket('212["message","x"]'), {
    type: 2,
    nsp: "/",
    id: 12,
    data: ["message", "x"],
  });
  assertEquals(parseSocketPacket("0"), { type: 0, nsp: "/", id: undefined, data: undefined });
  assertEquals(parseSocketPacket('0{"token":"a"}'), {
    type: 0,
    nsp: "/",
    id: undefined,
    data: { token: "a" },
  });
  assertEquals(parseSocketPacket('2/admin,3["x"]'), { type: 2, nsp: "/admin", id: 3, data: ["x"] });
  assertEquals(parseSocketPacket('51-["up",{"_placeholder":true,"num":0}]').type, 5);
  assertThrows(() => parseSocketPacket("9"));
});

Deno.test("engine.io over raw HTTP: handshake, connect, event, ack, heartbeat timeout", async () => {
  const io = new SocketIoServer({ pingInterval: 300, pingTimeout: 200 });
  const events: unknown[][] = [];
  let closedWith = "";
  io.onConnection((s) => {
    s.on("message", (args, ack) => {
      events.push(args);
      ack?.("ok");
    });
    s.onClose((r) => closedWith = r);
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => io.handle(req),
  );
  const base = `http://127.0.0.1:${server.addr.port}/socket.io/open-i/?EIO=4&transport=polling`;
  try {
    assertEquals(
      (await (await fetch(base.replace("EIO=4", "EIO=3"))).json()).message,
      "Unsupported protocol version",
    );
    const open = await (await fetch(base)).text();
    assertEquals(open[0], "0");
    const hs = JSON.parse(open.slice(1));
    assertEquals(hs.upgrades, ["websocket"]);
    assertEquals(hs.pingInterval, 300);
    const url = `${base}&sid=${hs.sid}`;
    const post = async (body: string) => await (await fetch(url, { method: "POST", body })).text();
    assertEquals(await post("40"), "ok");
    const connected = await (await fetch(url)).text();
    assert(connected.startsWith('40{"sid":'), connected);
    // Two packets in one payload, the second with an ack id.
    assertEquals(await post('42["message","a"]\x1e427["message","b"]'), "ok");
    assertEquals(events, [["a"], ["b"]]);
    // The ack, then a ping (they may share a poll on a slow machine); no pong is sent.
    const packets: string[] = [];
    while (!packets.includes("2") && packets.length < 10) {
      packets.push(...(await (await fetch(url)).text()).split("\x1e"));
    }
    assertEquals(packets.slice(0, 2), ['437["ok"]', "2"]);
    await waitFor(() => closedWith === "ping timeout", 2000, "ping timeout");
    assertEquals(io.size, 0);
    const gone = await fetch(url);
    assertEquals([gone.status, (await gone.json()).message], [400, "Session ID unknown"]);
  } finally {
    io.closeAll();
    await server.shutdown();
  }
});

Deno.test("interpreter messages: history, system, images, last user turn", () => {
  const req = {
    model: "open-interpreter",
    messages: [
      { role: "system", content: "sys" },
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
      { role: "system", content: "late system" },
      {
        role: "user",
        content: [{ type: "text", text: "c" }, {
          type: "image_url",
          image_url: { url: "data:image/png;base64,AAA" },
        }],
      },
    ],
  } as ChatRequest;
  assertEquals(toInterpreter(req), {
    settings: {
      messages: [{ role: "user", type: "message", content: "a" }, {
        role: "assistant",
        type: "message",
        content: "b",
      }],
      system: "sys",
    },
    message: "late system\n\nc\n*image*: (inline image omitted)",
  });
});

Deno.test("interpreter stream: fences close even when the interpreter leaves them open", () => {
  const m = new InterpreterMapper(true);
  const out: string[] = [];
  for (
    const c of [
      { role: "assistant", type: "code", format: "js", start: true },
      { role: "assistant", type: "code", format: "js", content: "1+1" },
    ]
  ) for (const e of m.map(c)) out.push((e as { text: string }).text);
  for (const e of m.end()) out.push((e as { text: string }).text);
  assertEquals(out.join(""), "```js\n1+1\n```");
  const quiet = new InterpreterMapper(false);
  assertEquals(
    [...quiet.map({ role: "assistant", type: "code", format: "js", content: "1+1" })],
    [],
  );
});
