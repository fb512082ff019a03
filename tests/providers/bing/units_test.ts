/**
 * The bing provider's parts: the citation filter (streamed at every split), the history limits,
 * the hub template, the answer reader.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { CitationFilter } from "../../../src/providers/bing/citations.ts";
import { buildHistory } from "../../../src/providers/bing/history.ts";
import { buildHub, localTimestamp, toneOf } from "../../../src/providers/bing/hub.ts";
import { BingAnswer } from "../../../src/providers/bing/answer.ts";
import { cookieFor } from "../../../src/providers/bing/conversation.ts";
import type { Turn } from "../../../src/providers/combine.ts";
import { GatewayError } from "../../../src/openai/errors.ts";

function filterPieces(pieces: string[]): { out: string; emitted: string[] } {
  const f = new CitationFilter();
  const emitted = pieces.map((p) => f.push(p));
  emitted.push(f.end());
  return { out: emitted.join(""), emitted };
}

const CASES: [string, string][] = [
  ["Paris[^1^] is nice[^2^].", "Paris is nice."],
  ["A[^1^][^2^] B", "A B"],
  ["see [^12^]: https://x", "see  https://x"],
  ["open [^3^ and (^4^) and (^5^): x (^6^^ y", "open  and  and  x  y"],
  ["unclosed [^7^", "unclosed "],
  [
    "refs [1] [23], not [1234] nor [a] nor [1](http://l)",
    "refs  , not [1234] nor [a] nor [1](http://l)",
  ],
  ["math (a+b)^2 [x] (^_^) 3^2", "math (a+b)^2 [x] (^_^) 3^2"],
  ["code `a[1] + b[^1^]` ok[^1^]", "code `a[1] + b[^1^]` ok"],
  ["```\nx = y[0][^1^]\n```\nafter[^2^] [3]", "```\nx = y[0][^1^]\n```\nafter "],
  ["50% off %s %d [", "50% off %s %d ["],
  ["ends with [^1", "ends with [^1"],
  ["double ``a[1]`` code[2]", "double ``a[1]`` code"],
  [
    '<tool_call>\n{"name":"f","arguments":{"ids":[1],"m":[[2], [3]]}}\n</tool_call>',
    '<tool_call>\n{"name":"f","arguments":{"ids":[1],"m":[[2], [3]]}}\n</tool_call>',
  ],
  ["x = [1] but y[2] and z: [3]", "x = [1] but y and z: [3]"],
];

Deno.test("citations: whole texts", () => {
  for (const [input, expected] of CASES) {
    assertEquals(filterPieces([input]).out, expected, input);
  }
});

Deno.test("citations: streamed split at every position, and char by char", () => {
  for (const [input, expected] of CASES) {
    for (let i = 0; i <= input.length; i++) {
      assertEquals(
        filterPieces([input.slice(0, i), input.slice(i)]).out,
        expected,
        `${input} @${i}`,
      );
    }
    assertEquals(filterPieces([...input]).out, expected, `${input} char by char`);
  }
});

Deno.test("citations: only a possible marker is held back", () => {
  const f = new CitationFilter();
  assertEquals(f.push("Hello world"), "Hello world");
  assertEquals(f.push(" see [^"), " see ");
  assertEquals(f.push("12"), "");
  assertEquals(f.push("^] and more"), " and more");
  assertEquals(f.push(" (x)"), " (x)");
  assertEquals(f.push("text ("), "text ");
  assertEquals(f.push("y"), "(y");
  assertEquals(f.end(), "");
});

function turns(...t: [Turn["role"], string][]): Turn[] {
  return t.map(([role, text]) => ({ role, text, images: [] }));
}

Deno.test("history: limits, pad and the context page", () => {
  const convo = turns(
    ["user", "q1"],
    ["assistant", "a1"],
    ["user", "q2"],
    ["assistant", "a2"],
    ["user", "q3"],
  );
  const signedIn = buildHistory(convo, { maxRounds: 28, pad: false });
  assertEquals(signedIn.text, "q3");
  assertEquals(signedIn.previous.length, 4);
  // Anonymous with pad: 2 - 2 = 0 rounds, all history on the page after the canned turns.
  const padded = buildHistory(convo, { maxRounds: 2, pad: true });
  assertEquals(padded.previous.map((m) => m.author), [
    "user",
    "bot",
    "user",
    "bot",
    "user",
    "user",
  ]);
  assertEquals(padded.previous[4].contextType, "WebPage");
  assertEquals(padded.previous[5].messageType, "CurrentWebpageContextRequest");
  assert(String(padded.previous[4].description).startsWith("<|user|>\nq1\n<|end|>"));
  assert(padded.prompt.endsWith("q3"));
  // char_sequences replace the role prefixes.
  const seq = buildHistory(convo, {
    maxRounds: 28,
    pad: false,
    charSequences: { user: "H:", assistant: "A:" },
  });
  assertEquals(seq.previous[0].text, "H:\nq1\n<|end|>");
  assertEquals(seq.previous[1].text, "A:\na1\n<|end|>");
  // A system turn alone is the message.
  assertEquals(buildHistory(turns(["system", "only"]), { maxRounds: 2, pad: false }).text, "only");
  // A trailing assistant prefill stays in the history; the last user turn is the message.
  const prefill = buildHistory(turns(["user", "q"], ["assistant", "A"]), {
    maxRounds: 2,
    pad: false,
  });
  assertEquals(prefill.text, "q");
  assertEquals(prefill.previous.map((m) => m.text), ["<|assistant|>\nA\n<|end|>"]);
  const err = assertThrows(() =>
    buildHistory(turns(["assistant", "x"]), { maxRounds: 2, pad: false })
  );
  assertEquals((err as GatewayError).status, 400);
});

Deno.test("hub: tone, templates, plugins, image", () => {
  assertEquals([toneOf(undefined), toneOf(null), toneOf(0), toneOf(0.31), toneOf(0.61)], [
    "Creative",
    "Creative",
    "Precise",
    "Balanced",
    "Creative",
  ]);
  const conversation = {
    id: "51D|BingProd|X",
    clientId: "1",
    signature: "s",
    cookie: "_U=x",
    loggedIn: true,
    traceId: "0".repeat(32),
  };
  const base = { conversation, text: "hi", previous: [], tone: "Balanced" as const, plugins: [] };
  const chat = buildHub({ ...base, notebook: false, online: false });
  assert((chat.optionsSets as string[]).includes("h3imaginative"));
  assert((chat.optionsSets as string[]).includes("nosearchall"));
  assertEquals(chat.participant, { id: "1" });
  assertEquals("previousMessages" in chat, false);
  const nb = buildHub({ ...base, notebook: true, online: true, plugins: ["p1"] });
  assert((nb.optionsSets as string[]).includes("prjupywco"));
  assert(!(nb.optionsSets as string[]).includes("nosearchall"));
  assertEquals(nb.plugins, [{ id: "p1", category: 1 }]);
  const img = buildHub({
    ...base,
    notebook: false,
    online: false,
    image: { url: "u", originalUrl: "o" },
  });
  const m = img.message as Record<string, unknown>;
  assertEquals([m.imageUrl, m.originalImageUrl], ["u", "o"]);
  assertEquals(m.requestId, img.requestId);
  assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(localTimestamp()));
});

function update(text: string, extra: Record<string, unknown> = {}) {
  return {
    type: 1,
    target: "update",
    arguments: [{ messages: [{ author: "bot", text, ...extra }] }],
  };
}

Deno.test("answer: cumulative updates, internal messages, a second message, the end", () => {
  const a = new BingAnswer();
  assertEquals(
    a.push(update("Searching", { messageType: "InternalSearchQuery", messageId: "s" })),
    "",
  );
  assertEquals(a.push(update("Hel", { messageId: "m1" })), "Hel");
  assertEquals(a.push(update("Hello", { messageId: "m1" })), "lo");
  assertEquals(a.push(update("Hello", { messageId: "m1" })), "");
  assertEquals(a.push(update("Second", { messageId: "m2" })), "\nSecond");
  assertEquals(a.push({ type: 6 }), "");
  assertEquals(
    a.push({
      type: 2,
      item: {
        result: { value: "Success" },
        throttling: { maxNumUserMessagesInConversation: 30, numUserMessagesInConversation: 2 },
      },
    }),
    "",
  );
  assert(a.done);
  assertEquals(a.throttling, { max: 30, used: 2 });
  assertEquals(a.push(update("Hello more", { messageId: "m1" })), "");
});

Deno.test("answer: errors of type 2, 3 and 7", () => {
  const status = (msg: Record<string, unknown>) => {
    const a = new BingAnswer();
    return (assertThrows(() => a.push(msg)) as GatewayError).status;
  };
  assertEquals(status({ type: 2, item: { result: { value: "Throttled", message: "x" } } }), 429);
  assertEquals(status({ type: 2, item: { result: { value: "UnauthorizedRequest" } } }), 401);
  assertEquals(status({ type: 2, item: { result: { value: "Forbidden" } } }), 403);
  assertEquals(status({ type: 2, item: { result: { value: "ServiceUnavailable" } } }), 502);
  assertEquals(status({ type: 3, error: "boom" }), 502);
  assertEquals(status({ type: 7, error: "closing" }), 502);
  assertEquals(status({ type: 2, item: { result: { value: "Success" } } }), 502);
  const done = new BingAnswer();
  done.push(update("x"));
  assertEquals(done.push({ type: 3 }), "");
  assert(done.done);
});

Deno.test("bing cookies: _U value, cookie string, anonymous", () => {
  assertEquals(cookieFor("abc"), "_U=abc");
  assertEquals(cookieFor("_U=abc; KievRPSSecAuth=k"), "_U=abc; KievRPSSecAuth=k");
  assert(/^_U=[A-Za-z0-9]{32}$/.test(cookieFor("xxx")));
  assert(cookieFor("xxx") !== cookieFor("xxx"));
});
