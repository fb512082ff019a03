/**
 * The gradio queue client: diff operations, cookies, the SSE stream at every split, the HTTP
 * queue and the gradio 3 websocket against the fake app.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import {
  applyDiff,
  CookieJar,
  type DiffOp,
  type GradioUpdate,
  OutputTracker,
  queueResult,
  readQueueStream,
  runQueue,
  runSocket,
  sessionHash,
  socketResult,
  trackOutputs,
} from "../../src/net/gradio.ts";
import { HttpClients, Upstream } from "../../src/net/http.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { diff, type FakeFn, startFakeGradio } from "../fakes/gradio.ts";
import { serveFake } from "../fakes/serve.ts";
import { bodyOf as body, collect, splits } from "../chunks.ts";
import { abortedWithin, within } from "../helpers.ts";

const enc = new TextEncoder();

function upstream(signal = new AbortController().signal): Upstream {
  return new Upstream({
    provider: "gradio-test",
    config: defaultConfig(),
    signal,
    clients: new HttpClients(),
  });
}

Deno.test("applyDiff: replace, append, add and delete at every depth", () => {
  assertEquals(applyDiff("old", [["replace", [], "new"]]), "new");
  assertEquals(applyDiff("Hel", [["append", [], "lo"]]), "Hello");
  const chat = [["hi", "Hel"]];
  assertEquals(applyDiff(chat, [["append", [0, 1], "lo ▌"]]), [["hi", "Hello ▌"]]);
  assertEquals(applyDiff([["a", "b"]], [["replace", [0, 1], "c"]]), [["a", "c"]]);
  assertEquals(applyDiff([1, 2], [["add", [2], 3], ["add", [0], 0]]), [0, 1, 2, 3]);
  assertEquals(applyDiff([1, 2, 3], [["delete", [1], null]]), [1, 3]);
  assertEquals(applyDiff({ a: 1 }, [["add", ["b"], 2], ["delete", ["a"], null]]), { b: 2 });
  assertEquals(applyDiff({ a: { b: "x" } }, [["append", ["a", "b"], "y"]]), { a: { b: "xy" } });
});

Deno.test("applyDiff: bad operations are errors, not silent", () => {
  let threw = 0;
  for (
    const ops of [
      [["delete", [], null]],
      [["explode", [0], 1]],
      [["replace", [5, 1], "x"]],
      [["append", [0], 1]],
      ["nonsense"],
    ] as unknown as DiffOp[][]
  ) {
    try {
      applyDiff([1], ops);
    } catch (err) {
      // The diff's own errors, not a crash of the code walking it.
      assertMatch(
        (err as Error).message,
        /not a diff operation|unsupported diff action|unknown diff action|does not exist|append to a value/,
      );
      threw++;
    }
  }
  assertEquals(threw, 5);
});

Deno.test("OutputTracker rebuilds every value from gradio's diffs", () => {
  const steps: unknown[][] = [
    [{ s: 1 }, [["hi", ' <span class="cursor"></span> ']], "x"],
    [{ s: 1 }, [["hi", "Hel▌"]], "x"],
    [{ s: 1 }, [["hi", "Hello wor▌"]], "x"],
    [{ s: 2 }, [["hi", "Hello world"], ["more", null]], { update: true }],
    [{ s: 2, t: [1] }, [["hi", "Hello world!"]], null],
    [{ t: [1, 2] }, [], "done"],
  ];
  const tracker = new OutputTracker();
  let previous: unknown[] | undefined;
  for (const whole of steps) {
    const wire = previous ? whole.map((v, i) => diff(previous![i], v)) : whole;
    const got = tracker.generating(structuredClone(wire));
    assertEquals(got, whole);
    previous = whole;
  }
  // The cursor glyph makes gradio replace rather than append; without it, it appends.
  assertEquals(diff("Hel▌", "Hello▌"), [["replace", [], "Hello▌"]]);
  assertEquals(diff("Hel", "Hello"), [["append", [], "lo"]]);
});

Deno.test("CookieJar keeps the last value of each cookie and drops expired ones", () => {
  const jar = new CookieJar("a=1; SERVERID=S1|abc");
  const res = new Response(null, {
    headers: [
      ["set-cookie", "b=2; Path=/; HttpOnly"],
      ["set-cookie", "a=3; Path=/"],
      ["set-cookie", "gone=; Max-Age=0"],
    ],
  });
  jar.set("gone", "x");
  jar.absorb(res);
  assertEquals(jar.header(), "a=3; SERVERID=S1|abc; b=2");
  assertEquals(jar.get("SERVERID"), "S1|abc");
});

Deno.test("sessionHash: 10 lowercase letters and digits, fresh each time", () => {
  const a = sessionHash();
  assert(/^[a-z0-9]{10}$/.test(a));
  assert(a !== sessionHash());
});

Deno.test("readQueueStream: the same messages at every split, other events and heartbeats sorted", async () => {
  const text = [
    `data: {"msg":"estimation","event_id":"e1","rank":0,"queue_size":1}`,
    "",
    `data: {"msg":"heartbeat"}`,
    "",
    `data: {"msg":"process_generating","event_id":"other","output":{"data":["x"]},"success":true}`,
    "",
    `data: {"msg":"process_generating","event_id":"e1","output":{"data":["Hé 你"]},"success":true}`,
    "",
    `data: {"msg":"process_generating","event_id":"e1","output":{"data":[[["append",[],"好▌"]]]},"success":true}`,
    "",
    `data: {"msg":"process_completed","event_id":"e1","output":{"data":["Hé 你好"]},"success":true}`,
    "",
    `data: {"msg":"close_stream"}`,
    "",
    `data: {"msg":"never seen"}`,
    "",
  ].join("\n");
  for (const pieces of splits(text)) {
    const updates = await collect(
      trackOutputs("t", readQueueStream("t", body(pieces), "e1")),
    );
    const summary = updates.map((u) =>
      u.type === "status" ? u.message.msg : `${u.type}:${u.data[0]}`
    );
    assertEquals(summary, [
      "estimation",
      "heartbeat",
      "generating:Hé 你",
      "generating:Hé 你好▌",
      "completed:Hé 你好",
    ]);
  }
});

Deno.test("trackOutputs: a stream that ends before completion or reports errors fails", async () => {
  const run = (lines: string[]) =>
    collect(trackOutputs("t", readQueueStream("t", body([enc.encode(lines.join("\n\n"))]))));
  await assertRejects(
    () => run([`data: {"msg":"process_starts","event_id":"e"}`]),
    GatewayError,
    "ended before the event completed",
  );
  await assertRejects(
    () => run([`data: {"msg":"close_stream"}`]),
    GatewayError,
    "ended before",
  );
  await assertRejects(
    () => run([`data: {"msg":"unexpected_error","message":"404: Session not found."}`]),
    GatewayError,
    "Session not found",
  );
  const hidden = await assertRejects(
    () => run([`data: {"msg":"process_completed","output":{"error":null},"success":false}`]),
    GatewayError,
  );
  assertStringIncludes(hidden.message, "hides its errors");
  assertEquals(hidden.status, 502);
  await assertRejects(
    () =>
      run([
        `data: {"msg":"process_completed","output":{"error":"CUDA out of memory"},"success":false}`,
      ]),
    GatewayError,
    "CUDA out of memory",
  );
  await assertRejects(() => run([`data: not json`]), GatewayError, "not JSON");
});

Deno.test("trackOutputs: a completed message whose output is no object is read, never a TypeError (fuzz finding)", async () => {
  const run = (lines: string[]) =>
    collect(trackOutputs("t", readQueueStream("t", body([enc.encode(lines.join("\n\n"))]))));
  const updates = await run([
    `data: {"msg":"process_generating","output":{"data":["a"]},"success":true}`,
    `data: {"msg":"process_completed","output":1e308,"success":true}`,
  ]);
  assertEquals(updates.at(-1)?.type, "completed");
  await assertRejects(
    () => run([`data: {"msg":"process_completed","output":"boom","success":false}`]),
    GatewayError,
    "hides its errors",
  );
});

/** A streaming function that types its answer out and a plain one. */
const typing: FakeFn = async function* (data) {
  const text = String(data[0]);
  let out = "";
  for (const ch of text) {
    out += ch;
    yield [out + "▌", { step: out.length }];
  }
  return [out, { step: -1 }];
};

Deno.test("runQueue: join then stream, diffs applied, heartbeats while idle, cookies carried", async () => {
  const app = await startFakeGradio({
    fns: { 7: typing },
    heartbeatMs: 40,
    stepMs: 60,
    servers: ["S1", "S2"],
  });
  try {
    const jar = new CookieJar();
    const call = {
      root: app.origin,
      fnIndex: 7,
      triggerId: 21,
      data: ["héllo"],
      sessionHash: sessionHash(),
      jar,
      headers: { "user-agent": "test-agent" },
    };
    const updates: GradioUpdate[] = await collect(runQueue(upstream(), call));
    const texts = updates.filter((u) => u.type === "generating").map((u) =>
      (u as { data: unknown[] }).data[0]
    );
    assertEquals(texts, ["h▌", "hé▌", "hél▌", "héll▌", "héllo▌"]);
    const last = updates[updates.length - 1];
    assertEquals(last.type, "completed");
    assertEquals((last as { data: unknown[] }).data, ["héllo", { step: -1 }]);
    assert(updates.some((u) => u.type === "status" && u.message.msg === "heartbeat"));
    assert(updates.some((u) => u.type === "status" && u.message.msg === "process_starts"));
    // The join went out as gradio 4 expects; the sticky cookie the front set came back.
    assertEquals(app.joins[0].body, {
      data: ["héllo"],
      event_data: null,
      fn_index: 7,
      session_hash: call.sessionHash,
      trigger_id: 21,
    });
    const dataReq = app.requests.find((r) => r.path === "/queue/data")!;
    assertEquals(dataReq.query.get("session_hash"), call.sessionHash);
    assertEquals(dataReq.headers.get("cookie"), jar.header());
    assertEquals(dataReq.headers.get("user-agent"), "test-agent");
    assert(jar.get("SERVERID")?.startsWith(app.joins[0].server + "|"));
    // The wire really carried diffs after the first message (not whole values).
    assertEquals(updates.length > 6, true);
  } finally {
    await app.close();
  }
});

Deno.test("runQueue: a session on another backend is not found without its SERVERID", async () => {
  const app = await startFakeGradio({ fns: { 0: typing }, servers: ["S1", "S2"] });
  try {
    const hash = sessionHash();
    // No jar: the join lands on one backend, the data request on the other.
    const err = await assertRejects(
      () =>
        queueResult(upstream(), { root: app.origin, fnIndex: 0, data: ["x"], sessionHash: hash }),
      GatewayError,
    );
    assertStringIncludes(err.message, "Session not found");
  } finally {
    await app.close();
  }
});

Deno.test("runQueue: queue full, bad fn index, app errors and a dead host become GatewayErrors", async () => {
  const full = await startFakeGradio({ fns: { 0: typing }, queueFull: true });
  const failing = await startFakeGradio({
    fns: { 0: () => Promise.reject(new Error("NSFW content detected")) },
    showError: true,
  });
  try {
    const call = (root: string, fnIndex = 0) => ({
      root,
      fnIndex,
      data: ["x"],
      sessionHash: sessionHash(),
    });
    const e1 = await assertRejects(() => queueResult(upstream(), call(full.origin)), GatewayError);
    assertStringIncludes(e1.message, "Queue is full");
    const e2 = await assertRejects(
      () => queueResult(upstream(), call(failing.origin, 3)),
      GatewayError,
    );
    assertStringIncludes(e2.message, "not found");
    assertEquals(e2.status, 400);
    const e3 = await assertRejects(
      () => queueResult(upstream(), call(failing.origin)),
      GatewayError,
    );
    assertStringIncludes(e3.message, "NSFW content detected");
    assertEquals(e3.status, 502);
    const e4 = await assertRejects(
      () => queueResult(upstream(), call("http://127.0.0.1:9")),
      GatewayError,
    );
    assertEquals(e4.status, 502);
  } finally {
    await full.close();
    await failing.close();
  }
});

Deno.test("runQueue: a data stream of the wrong type is refused with its start quoted", async () => {
  const fake = await serveFake((req) => {
    if (new URL(req.url).pathname === "/queue/join") {
      return new Response(JSON.stringify({ event_id: "e" }), {
        headers: { "content-type": "application/json" },
      });
    }
    return new Response("<html>maintenance</html>", { headers: { "content-type": "text/html" } });
  });
  try {
    const err = await assertRejects(
      () =>
        queueResult(upstream(), { root: fake.origin, fnIndex: 0, data: [], sessionHash: "abc" }),
      GatewayError,
    );
    assertStringIncludes(err.message, "text/html");
    assertStringIncludes(err.message, "maintenance");
  } finally {
    await fake.close();
  }
});

Deno.test("runQueue: the client leaving aborts the data stream", async () => {
  let steps = 0;
  let onStopped!: () => void;
  const stopped = new Promise<void>((r) => onStopped = r);
  const counted: FakeFn = async function* (data, ctx) {
    try {
      for await (const out of typing(data, ctx) as AsyncGenerator<unknown[]>) {
        steps++;
        yield out;
      }
    } finally {
      onStopped();
    }
  };
  const text = "a long answer ".repeat(10);
  const app = await startFakeGradio({ fns: { 0: counted }, stepMs: 100 });
  const abort = new AbortController();
  try {
    const it = runQueue(upstream(abort.signal), {
      root: app.origin,
      fnIndex: 0,
      data: [text],
      sessionHash: sessionHash(),
    });
    for await (const u of it) {
      if (u.type === "generating") {
        abort.abort();
        break;
      }
    }
    const dataReq = app.requests.find((r) => r.path === "/queue/data")!;
    await abortedWithin(dataReq);
    assert(dataReq.wasAborted);
    // The app cancels the event when its data stream goes away (gradio's clean_events).
    await within(stopped, 20_000, "the app to cancel the event");
    assert(steps < text.length, `the event ran on to step ${steps}`);
  } finally {
    await app.close();
  }
});

Deno.test("runSocket: gradio 3 hash and data handshake, whole outputs, result", async () => {
  const app = await startFakeGradio({ fns: { 2: typing }, websocket: true });
  try {
    const hash = sessionHash();
    const signal = new AbortController().signal;
    const options = {
      provider: "ws-test",
      config: defaultConfig(),
      signal,
      clients: new HttpClients(),
    };
    const call = { root: app.origin, fnIndex: 2, data: ["ok"], sessionHash: hash };
    const updates = await collect(runSocket(options, call));
    const kinds = updates.map((u) => u.type === "status" ? u.message.msg : u.type);
    assertEquals(kinds, ["estimation", "process_starts", "generating", "generating", "completed"]);
    assertEquals(app.socketMessages, [
      { fn_index: 2, session_hash: hash },
      { data: ["ok"], event_data: null, fn_index: 2, session_hash: hash },
    ]);
    assertEquals(await socketResult(options, { ...call, sessionHash: sessionHash() }), [
      "ok",
      { step: -1 },
    ]);
  } finally {
    await app.close();
  }
});

Deno.test("runSocket: queue full, app errors and an unreachable host fail clearly", async () => {
  const full = await startFakeGradio({ fns: { 0: typing }, websocket: true, queueFull: true });
  const failing = await startFakeGradio({
    fns: { 0: () => Promise.reject(new Error("boom")) },
    websocket: true,
  });
  try {
    const options = {
      provider: "ws-test",
      config: defaultConfig(),
      signal: new AbortController().signal,
      clients: new HttpClients(),
    };
    const call = (root: string) => ({ root, fnIndex: 0, data: ["x"], sessionHash: sessionHash() });
    await assertRejects(
      () => socketResult(options, call(full.origin)),
      GatewayError,
      "queue is full",
    );
    await assertRejects(
      () => socketResult(options, call(failing.origin)),
      GatewayError,
      "hides its errors",
    );
    await assertRejects(
      () => socketResult(options, call("ws://127.0.0.1:9")),
      GatewayError,
      "cannot open",
    );
  } finally {
    await full.close();
    await failing.close();
  }
});
