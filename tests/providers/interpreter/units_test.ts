/**
 * Unit tests of the interpreter provider's parts: the last user message as the OpenAI route's
 * body and as LMC chunks, the LMC mapper's fences per echo switch, the OpenAI route's inline
 * code filter, and its chunk parser.
 */
import { assertEquals, assertRejects, assertStringIncludes, assertThrows } from "../../assert.ts";
import { InterpreterSocket, runOverSocket } from "../../../src/providers/interpreter/socket.ts";
import {
  toInterpreterInput,
  toLmc,
  toOpenAiRoute,
} from "../../../src/providers/interpreter/request.ts";
import {
  CONFIRMATION,
  deltaOf,
  InlineCodeFilter,
  type LmcChunk,
  LmcMapper,
} from "../../../src/providers/interpreter/stream.ts";
import type { ChatRequest } from "../../../src/openai/schema.ts";
import { GatewayError } from "../../../src/openai/errors.ts";

const req = (messages: unknown[]) => ({ model: "open-interpreter", messages }) as ChatRequest;

Deno.test("interpreter input: the last user message only, images inline or by URL", () => {
  const input = toInterpreterInput(req([
    { role: "system", content: "sys" },
    { role: "user", content: "a" },
    { role: "assistant", content: "b" },
    {
      role: "user",
      content: [
        { type: "text", text: "c" },
        { type: "image_url", image_url: { url: "data:image/PNG;base64,AAA=" } },
        { type: "image_url", image_url: { url: "https://x/y.jpg" } },
      ],
    },
  ]));
  assertEquals(input, {
    text: "c\n*image*: https://x/y.jpg",
    images: [{ url: "data:image/PNG;base64,AAA=", type: "png", base64: "AAA=" }],
  });
  assertEquals(toOpenAiRoute(input, "open-interpreter"), {
    model: "open-interpreter",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "c\n*image*: https://x/y.jpg" },
        { type: "image_url", image_url: { url: "data:image/PNG;base64,AAA=" } },
      ],
    }],
    stream: true,
  });
  assertEquals(toLmc(input), [
    { role: "user", start: true },
    { role: "user", type: "message", content: "c\n*image*: https://x/y.jpg" },
    { role: "user", type: "image", format: "base64.png", content: "AAA=" },
    { role: "user", end: true },
  ]);
  assertEquals(toOpenAiRoute({ text: "plain", images: [] }, "m").messages[0].content, "plain");
  const notUser = assertThrows(
    () =>
      toInterpreterInput(
        req([{ role: "user", content: "a" }, { role: "tool", content: "r", tool_call_id: "t" }]),
      ),
    GatewayError,
  );
  assertEquals([notUser.status, notUser.param], [400, "messages[1].role"]);
  const empty = assertThrows(
    () => toInterpreterInput(req([{ role: "user", content: [] }])),
    GatewayError,
  );
  assertEquals(empty.param, "messages[0].content");
});

function run(mapper: LmcMapper, chunks: LmcChunk[]): string {
  let out = "";
  for (const c of chunks) for (const e of mapper.map(c)) out += (e as { text: string }).text;
  for (const e of mapper.end()) out += (e as { text: string }).text;
  return out;
}

Deno.test("LmcMapper: fences per switch, closed even when left open, confirmation told", () => {
  const code: LmcChunk[] = [
    { role: "assistant", type: "code", format: "js", start: true },
    { role: "assistant", type: "code", format: "js", content: "1+1" },
  ];
  assertEquals(run(new LmcMapper({ code: true, console: false }), code), "```js\n1+1\n```");
  assertEquals(run(new LmcMapper({ code: false, console: true }), code), "");
  const console: LmcChunk[] = [
    { role: "assistant", type: "message", content: "run:" },
    { role: "computer", type: "console", start: true },
    { role: "computer", type: "console", format: "active_line", content: "1" },
    { role: "computer", type: "console", format: "output", content: "2" },
    { role: "computer", type: "console", end: true },
    { role: "assistant", type: "message", start: true },
    { role: "assistant", type: "message", content: "done" },
  ];
  assertEquals(
    run(new LmcMapper({ code: false, console: true }), console),
    "run:\n\n```text\n2\n```\n\ndone",
  );
  assertEquals(run(new LmcMapper({ code: true, console: false }), console), "run:\n\ndone");
  assertEquals(
    run(new LmcMapper({ code: false, console: false }), [
      { role: "assistant", type: "message", content: "Here:" },
      { role: "assistant", type: "confirmation", content: { format: "python", content: "x" } },
      { role: "assistant", type: "review", content: "<SAFE>" },
      { role: "computer", type: "image", format: "base64.png", content: "AAA" },
    ]),
    `Here:\n\n${CONFIRMATION}`,
  );
});

Deno.test("InlineCodeFilter: code dropped or kept per echo-code, an unclosed fence given back", () => {
  const deltas = ["Let me ", "compute.", "```python\n", "print(1)", "\n```\n", "Done."];
  const through = (f: InlineCodeFilter, ds: string[]) =>
    ds.map((d) => f.push(d)).join("") + f.end();
  assertEquals(through(new InlineCodeFilter(false), deltas), "Let me compute.\n\nDone.");
  assertEquals(
    through(new InlineCodeFilter(true), deltas),
    "Let me compute.\n\n```python\nprint(1)\n```\nDone.",
  );
  // A fence the server never closes: the text comes back at the end.
  assertEquals(through(new InlineCodeFilter(false), ["a", "```\n", "b"]), "a```\nb");
  // A fence inside the text of a message is no block of its own.
  assertEquals(through(new InlineCodeFilter(false), ["see ```js\n", "x"]), "see ```js\nx");
  // Past the hold limit the held text is given back and passes on.
  const f = new InlineCodeFilter(false);
  f.push("```sh\n");
  const big = "x".repeat(1024 * 1024);
  assertEquals(f.push(big), "```sh\n" + big);
  assertEquals(f.push("tail"), "tail");
});

Deno.test("deltaOf: content deltas, empty chunks, errors and garbage", () => {
  assertEquals(deltaOf('{"choices":[{"delta":{"content":"hi"}}]}'), "hi");
  assertEquals(deltaOf('{"choices":[{"delta":{}}]}'), "");
  assertThrows(() => deltaOf("not json"), GatewayError, "not JSON");
  assertThrows(() => deltaOf('{"error":{"message":"boom"}}'), GatewayError, "boom");
  assertThrows(() => deltaOf("42"), GatewayError, "not an object");
});

Deno.test("runOverSocket: a frame that is JSON but no object is the upstream's 502, never a plain Error (fuzz finding)", async () => {
  for (const sent of ["null", "[1,2]", "7"]) {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => socket.send(sent);
      return response;
    });
    const socket = new InterpreterSocket(`ws://127.0.0.1:${server.addr.port}/`, {});
    try {
      const run = runOverSocket({
        socket,
        key: "k",
        frames: [],
        signal: new AbortController().signal,
        idleMs: 10_000,
      });
      const err = await assertRejects(async () => {
        for await (const _ of run) { /* nothing comes */ }
      }, GatewayError);
      assertEquals(err.status, 502, sent);
      assertStringIncludes(err.message, "not an object");
    } finally {
      await socket.close();
      await server.shutdown();
    }
  }
});
