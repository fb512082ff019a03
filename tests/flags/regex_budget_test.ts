/**
 * Clients' patterns run where a deadline stops them (issue 15, items 3 and 4): a catastrophic
 * `<regex>` or `<matcher>` is a 400 naming the pattern and the limit while other clients are
 * answered; markers are bounded in number and size.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway, within } from "../helpers.ts";
import { RegexBudgetError, RegexPool } from "../../src/flags/regex_pool.ts";

async function setup(server: Record<string, unknown> = {}) {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    server,
    "custom-llm": [{ prefix: "up", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
  });
  const post = (body: unknown) =>
    fetch(gw.origin + "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "up/gpt-4o-mini", ...body as object }),
    });
  /**
   * Another client's request, sent once the one before it had 100 ms to start its work:
   * answered, and within a generous ceiling.
   */
  const otherClient = async () => {
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const res = await post({ messages: [{ role: "user", content: "still there?" }] });
    assertEquals(res.status, 200);
    assertEquals((await res.json()).choices[0].message.content, "Hello! You said: still there?");
    return performance.now() - t0;
  };
  return {
    upstream,
    gw,
    post,
    otherClient,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await upstream.close();
    },
  };
}

// In process, (a+)+$ on 28 a's and a b takes seconds and stops the whole server.
const EVIL = "a".repeat(28) + "b";

Deno.test("<regex> (a+)+$ is a 400 naming the pattern and the limit; others are served meanwhile", async () => {
  await using t = await setup({ limits: { "regex-ms": 200 } });
  const evil = t.post({
    messages: [{ role: "user", content: `${EVIL} <regex>(a+)+$:x</regex>` }],
  });
  // Another client, while the pattern runs: answered well within a second.
  const waited = await t.otherClient();
  assert(waited < 1000, `another client waited ${Math.round(waited)} ms`);
  const res = await within(evil, 20_000, "the catastrophic <regex> request");
  assertEquals(res.status, 400);
  const body = await res.json();
  assertEquals(body.error.code, "regex_budget_exceeded");
  assertMatch(body.error.message, /<regex> pattern '\(a\+\)\+\$'/);
  assertMatch(body.error.message, /200 ms .*server\.limits\.regex-ms/);
  assertEquals(t.upstream.requests.length, 1, "only the other client's request went upstream");
  // The killed process is replaced: patterns still work, JavaScript syntax whole.
  const ok = await t.post({
    messages: [{
      role: "user",
      content: "aab cat <regex>(?<=a)b:B</regex><regex>(\\w)\\1:<$1$1></regex>",
    }],
  });
  assertEquals(ok.status, 200);
  assertEquals((await ok.json()).choices[0].message.content, "Hello! You said: <aa>B cat");
});

Deno.test("<matcher> with a catastrophic pattern on the answer is refused, not a frozen server", async () => {
  await using t = await setup({ limits: { "regex-ms": 200 } });
  t.upstream.respond = (body) =>
    body.messages.some((m) => String(m.content).includes("evil"))
      ? { text: EVIL, pieceSize: 4 }
      : { text: "Hello! You said: still there?" };
  const evil = t.post({
    stream: true,
    messages: [{ role: "user", content: 'evil <matcher find="a" len=30>(a+)+$:x</matcher>' }],
  });
  const waited = await t.otherClient();
  assert(waited < 1000, `another client waited ${Math.round(waited)} ms`);
  const res = await within(evil, 20_000, "the catastrophic <matcher> request");
  const text = await res.text();
  // Nothing had reached the client before the block was complete: a plain 400.
  assertEquals(res.status, 400, text);
  assertMatch(text, /<matcher> pattern '\(a\+\)\+\$' ran past the regex budget of 200 ms/);
});

Deno.test("markers past their count or size are a 400 naming the limit, at once", async () => {
  await using t = await setup();
  // 100,000 markers over 2,000 messages (1.8 MB): blocked the loop for 28 s before.
  const messages = Array.from({ length: 2000 }, (_, i) => ({
    role: "user",
    content: i === 0 ? "<regex>a:b</regex>".repeat(100_000) : `message ${i}`,
  }));
  const many = t.post({ messages });
  const waited = await t.otherClient();
  assert(waited < 1000, `another client waited ${Math.round(waited)} ms`);
  const res = await within(many, 20_000, "the 100,000-marker request");
  assertEquals(res.status, 400);
  const body = await res.json();
  assertEquals(body.error.code, "too_many_markers");
  assertMatch(body.error.message, /more than 256 markers \(server\.limits\.markers\)/);

  const big = await t.post({
    messages: [{ role: "user", content: `q <regex>${"x".repeat(300_000)}:y</regex>` }],
  });
  assertEquals(big.status, 400);
  const bigBody = await big.json();
  assertEquals(bigBody.error.code, "markers_too_large");
  assertMatch(bigBody.error.message, /server\.limits\.marker-chars/);
  assertEquals(t.upstream.requests.length, 1);
});

Deno.test("a request's calls share one budget; the pool serves many calls on few processes", async () => {
  const pool = new RegexPool({ size: 1 });
  try {
    const s = pool.session(60_000);
    const rule = { pattern: "o", replacement: "0", what: "<matcher>" };
    for (let i = 0; i < 50; i++) assertEquals(await s.replace([rule], [{ text: "foo" }]), ["f00"]);
    assertEquals(pool.processes, 1);
    assert(s.left < 60_000 && s.left > 0);
    // Rules in order, each limited to the texts before its index bound.
    const out = await s.replace(
      [
        { pattern: "a", replacement: "b", what: "<regex>" },
        { pattern: "b", replacement: "c", before: 1, what: "<regex>" },
      ],
      [{ text: "a", index: 0 }, { text: "a", index: 1 }],
    );
    assertEquals(out, ["c", "b"]);
    const spent = pool.session(1);
    let err: unknown;
    try {
      await spent.replace([{ pattern: "(x+x+)+y", replacement: "", what: "<regex>" }], [{
        text: "x".repeat(40),
      }]);
    } catch (e) {
      err = e;
    }
    assert(err instanceof RegexBudgetError, String(err));
    // Once spent, a budget refuses at once.
    let again: unknown;
    await spent.replace([rule], [{ text: "o" }]).catch((e) => again = e);
    assert(again instanceof RegexBudgetError);
  } finally {
    pool.close();
  }
});

Deno.test("why processes: Worker.terminate() does not stop a worker busy in JavaScript", async () => {
  // The worker counts in a loop that only a flag in shared memory ends.
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const source = `self.onmessage = (e) => {
    const a = e.data;
    Atomics.store(a, 1, 1);
    while (Atomics.load(a, 0) === 0) Atomics.add(a, 1, 1);
  };`;
  const url = `data:application/javascript,${encodeURIComponent(source)}`;
  const worker = new Worker(url, { type: "module" });
  worker.postMessage(shared);
  while (Atomics.load(shared, 1) === 0) await new Promise((r) => setTimeout(r, 10));
  worker.terminate();
  const before = Atomics.load(shared, 1);
  let after = before;
  for (let i = 0; i < 300 && after === before; i++) {
    await new Promise((r) => setTimeout(r, 10));
    after = Atomics.load(shared, 1);
  }
  // Still counting after terminate(): the thread was not stopped. (If a later Deno stops it,
  // this fails, and the pool could move back into the process.)
  assert(after > before, "the worker stopped: Worker.terminate() now interrupts busy code");
  // Let the thread end, or the test process could not exit.
  Atomics.store(shared, 0, 1);
});
