/**
 * Property-based tests of open-interpreter's readers: the websocket run (`runOverSocket`) against
 * a server sending random frame scripts (LMC chunks, auth replies, status and error frames,
 * garbage, binary frames, an early close), the LMC mapper's fences, the OpenAI route's inline
 * code filter and its chunk parser. Traffic stays on 127.0.0.1.
 */
import { assert, assertEquals } from "../assert.ts";
import { InterpreterSocket, runOverSocket } from "../../src/providers/interpreter/socket.ts";
import {
  deltaOf,
  InlineCodeFilter,
  type LmcChunk,
  LmcMapper,
} from "../../src/providers/interpreter/stream.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import {
  anyText,
  assertAllowedError,
  assertWellFormed,
  check,
  fc,
  outcome,
  timed,
} from "./fuzz.ts";

/** An LMC chunk as the interpreter sends them, or close to it. */
const lmc: fc.Arbitrary<Record<string, unknown>> = fc.record({
  role: fc.constantFrom("assistant", "computer", "user", "server"),
  type: fc.constantFrom("message", "code", "console", "confirmation", "image", "review"),
  format: fc.constantFrom("python", "output", "active_line", "shell", undefined),
  content: fc.oneof(fc.string({ maxLength: 12 }), fc.constant(null), fc.integer()),
  start: fc.boolean(),
  end: fc.boolean(),
}, { requiredKeys: ["role"] });

/** One frame the fake server sends. */
const frame = fc.oneof(
  { weight: 6, arbitrary: lmc.map((v) => ({ kind: "json" as const, value: v })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { kind: "json" as const, value: { auth: true } },
      { kind: "json" as const, value: { auth: false } },
      { kind: "json" as const, value: { role: "server", type: "status", content: "complete" } },
      { kind: "json" as const, value: { role: "server", type: "error", content: "Traceback" } },
      { kind: "json" as const, value: null },
      { kind: "json" as const, value: [1, 2] },
      { kind: "json" as const, value: 7 },
      { kind: "json" as const, value: { role: "assistant", id: 3, content: "acked" } },
    ),
  },
  { weight: 1, arbitrary: anyText.map((t) => ({ kind: "text" as const, value: t })) },
  { weight: 1, arbitrary: fc.constant({ kind: "binary" as const, value: null }) },
);
type Frame = typeof frame extends fc.Arbitrary<infer F> ? F : never;

/** What the run must give for a script, by the protocol of socket.ts. */
function expected(script: Frame[]): { chunks: unknown[]; ends: "complete" | "error" } {
  const chunks: unknown[] = [];
  for (const f of script) {
    if (f.kind === "binary") continue;
    if (f.kind === "text") {
      try {
        JSON.parse(f.value);
      } catch {
        return { chunks, ends: "error" };
      }
      // A text that happens to be JSON is read as the JSON frame it is.
      return expected([{ kind: "json", value: JSON.parse(f.value) }, ...script.slice(1)]);
    }
    const v = f.value as Record<string, unknown> | null;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return { chunks, ends: "error" };
    if ("auth" in v && Object.keys(v).length === 1) {
      if (v.auth === true) continue;
      return { chunks, ends: "error" };
    }
    if (v.role === "server" && v.type === "status" && v.content === "complete") {
      return { chunks, ends: "complete" };
    }
    if (v.role === "server" && v.type === "error") return { chunks, ends: "error" };
    chunks.push(JSON.parse(JSON.stringify(v)));
  }
  return { chunks, ends: "error" };
}

/** A websocket server that sends each connection the script of the current case, then closes. */
function scriptServer() {
  let script: Frame[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    const frames = script;
    socket.onopen = () => {
      for (const f of frames) {
        if (f.kind === "binary") socket.send(new Uint8Array([0, 255, 1]));
        else if (f.kind === "text") socket.send(f.value);
        else socket.send(JSON.stringify(f.value));
      }
      socket.close();
    };
    socket.onerror = () => {};
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/`,
    set: (s: Frame[]) => script = s,
    close: () => server.shutdown(),
  };
}

Deno.test("fuzz interpreter websocket: random frame scripts complete as the protocol says or fail as GatewayErrors", async () => {
  const server = scriptServer();
  try {
    await check(
      fc.asyncProperty(
        fc.array(frame, { maxLength: 10 }),
        timed(async (script) => {
          server.set(script);
          const socket = new InterpreterSocket(server.url, {});
          const signal = new AbortController().signal;
          const run = runOverSocket({ socket, key: "k", frames: [], signal, idleMs: 10_000 });
          const got = await outcome(run);
          await socket.close();
          const want = expected(script);
          if (!got.ok) assertAllowedError(got.error);
          assertEquals(got.ok ? "complete" : "error", want.ends);
          if (got.ok) assertEquals(got.items, want.chunks);
        }),
      ),
      60,
    );
  } finally {
    await server.close();
  }
});

Deno.test("fuzz interpreter LMC mapper: any chunks give text events, fences closed at the end", async () => {
  await check(
    fc.property(
      fc.array(lmc, { maxLength: 20 }),
      fc.boolean(),
      fc.boolean(),
      (chunks, code, console) => {
        const mapper = new LmcMapper({ code, console });
        const events = [...chunks.flatMap((c) => [...mapper.map(c as LmcChunk)]), ...mapper.end()];
        assertWellFormed(events);
        assert(events.every((e) => e.type === "text"));
        const text = events.map((e) => e.type === "text" ? e.text : "").join("");
        // Generated contents hold no backticks: every fence in the text is the mapper's.
        if (!chunks.some((c) => String(c.content).includes("`"))) {
          assertEquals((text.match(/```/g) ?? []).length % 2, 0, text);
        }
      },
    ),
    500,
  );
});

const FENCE_OPEN = /^```[\w+#.-]*\n$/;
const FENCE_CLOSE = "\n```\n";

/** The filter's documented result, newlines aside: code blocks kept, or dropped when closed. */
function filtered(deltas: string[], echoCode: boolean): string {
  let out = "";
  let held: string | undefined;
  for (const d of deltas) {
    if (held !== undefined) {
      if (d === FENCE_CLOSE) held = undefined;
      else held += d;
    } else if (FENCE_OPEN.test(d) && !echoCode) held = d;
    else out += d;
  }
  return (out + (held ?? "")).replace(/\n/g, "");
}

Deno.test("fuzz interpreter inline code filter: blocks kept or dropped per echo-code", async () => {
  await check(
    fc.property(
      fc.array(
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom("```python\n", "```\n", FENCE_CLOSE, "\n", ""),
        ),
        { maxLength: 15 },
      ),
      fc.boolean(),
      (deltas, echoCode) => {
        const filter = new InlineCodeFilter(echoCode);
        const out = deltas.map((d) => filter.push(d)).join("") + filter.end();
        assertEquals(out.replace(/\n/g, ""), filtered(deltas, echoCode));
      },
    ),
    500,
  );
});

Deno.test("fuzz interpreter chunk parser: any data is a content string or a GatewayError", async () => {
  await check(
    fc.property(
      fc.oneof(anyText, fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v))),
      (data) => {
        try {
          assertEquals(typeof deltaOf(data), "string");
        } catch (err) {
          if (!(err instanceof GatewayError)) throw err;
          assertAllowedError(err);
        }
      },
    ),
    500,
  );
});
