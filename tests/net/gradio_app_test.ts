/**
 * The Gradio 5/6 client pieces: `/config` discovery (prefix, protocol, triggers), the queue
 * under the prefix, the simple REST route `/call/<api_name>`, `/info` parameters, uploads and
 * files, the ZeroGPU quota error as a 429, and streams that end early, against the fake app.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  appError,
  callResult,
  discoverApp,
  endpointParameters,
  fileUrl,
  type GradioUpdate,
  placeByName,
  queueResult,
  runCall,
  sessionHash,
  trackCall,
  triggerOf,
  uploadFiles,
} from "../../src/net/gradio.ts";
import { HttpClients, Upstream } from "../../src/net/http.ts";
import { readSse } from "../../src/net/sse.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { type FakeFn, startFakeGradio } from "../fakes/gradio.ts";
import { bodyOf as body, collect, splits } from "../chunks.ts";

function upstream(signal = new AbortController().signal): Upstream {
  return new Upstream({
    provider: "space",
    config: defaultConfig(),
    signal,
    clients: new HttpClients(),
  });
}

const typing: FakeFn = async function* (data) {
  let out = "";
  for (const ch of String(data[0])) {
    out += ch;
    yield [out];
  }
};

const QUOTA = "You have exceeded your GPU quota (60s requested vs. 56s left). " +
  '<a style="white-space: nowrap" href="https://huggingface.co/settings/billing">Create a free ' +
  "account</a> to get more usage quota.";

Deno.test("discoverApp: Gradio 5 tells its prefix, Gradio 4 has none, 3 speaks ws", async () => {
  const five = await startFakeGradio({ fns: { 2: typing }, version: 5, triggers: { 2: 4 } });
  const four = await startFakeGradio({ fns: { 0: typing }, version: 4 });
  const three = await startFakeGradio({ fns: { 1: typing }, version: 3 });
  try {
    const a5 = await discoverApp(upstream(), five.origin);
    assertEquals([a5.prefix, a5.protocol, a5.version], ["/gradio_api", "sse_v3", "5.49.1"]);
    assertEquals(a5.prefix, "/gradio_api");
    assertEquals(triggerOf(a5, 2), 4);
    const a4 = await discoverApp(upstream(), four.origin);
    assertEquals([a4.prefix, a4.protocol], ["", "sse_v3"]);
    assertEquals(triggerOf(a4, 0), 100);
    const a3 = await discoverApp(upstream(), three.origin);
    assertEquals(a3.protocol, "ws");
    assertEquals(triggerOf(a3, 1), 101);
    // A paused or deleted space: /config is 404.
    const err = await assertRejects(
      () => discoverApp(upstream(), `${five.origin}/nothing`),
      GatewayError,
    );
    assertEquals(err.status, 404);
  } finally {
    await five.close();
    await four.close();
    await three.close();
  }
});

Deno.test("Gradio 5: the 2024 paths are 404, the prefixed queue streams the result", async () => {
  const app = await startFakeGradio({ fns: { 0: typing }, version: 5 });
  try {
    const call = { root: app.origin, fnIndex: 0, data: ["hey"], sessionHash: sessionHash() };
    const old = await assertRejects(() => queueResult(upstream(), call), GatewayError);
    assertEquals(old.status, 404);
    assertStringIncludes(old.message, "Not Found");
    assertEquals(app.joins.length, 0);
    const out = await queueResult(upstream(), { ...call, prefix: "/gradio_api" });
    assertEquals(out, ["hey"]);
    assertEquals(app.joins.length, 1);
    assert(app.requests.some((r) => r.path === "/gradio_api/queue/data"));
    // The session hash is checked: a data stream for another session finds nothing.
    const res = await fetch(`${app.origin}/gradio_api/queue/data?session_hash=nobody`);
    assertStringIncludes(await res.text(), "Session not found");
  } finally {
    await app.close();
  }
});

Deno.test("runCall: /call/<api_name> under the prefix, whole values, named inputs from /info", async () => {
  const app = await startFakeGradio({
    fns: { 5: typing },
    version: 5,
    apiNames: { infer: 5 },
    parameters: { infer: [{ name: "prompt" }, { name: "steps", default: 28 }] },
    showError: true,
  });
  try {
    const http = upstream();
    const meta = await discoverApp(http, app.origin);
    const params = await endpointParameters(http, meta, "/infer");
    assertEquals(placeByName("space", params, { prompt: "hi" }), ["hi", 28]);
    assertEquals(placeByName("space", params, { prompt: "hi", steps: 4 }), ["hi", 4]);
    const unknown = assertThrowsGateway(() => placeByName("space", params, { colour: "red" }));
    assertStringIncludes(unknown.message, "no parameter colour");
    const missing = assertThrowsGateway(() => placeByName("space", params, {}));
    assertStringIncludes(missing.message, "'prompt' needs a value");
    const missingEndpoint = await assertRejects(
      () => endpointParameters(http, meta, "draw"),
      GatewayError,
    );
    assertStringIncludes(missingEndpoint.message, "no endpoint /draw (it has: /infer)");

    const updates: GradioUpdate[] = await collect(
      runCall(http, { app: meta, apiName: "infer", data: ["abc"], headers: { "x-t": "1" } }),
    );
    assertEquals(
      updates.filter((u) => u.type !== "status").map((
        u,
      ) => [u.type, (u as { data: unknown[] }).data]),
      [["generating", ["a"]], ["generating", ["ab"]], ["generating", ["abc"]], [
        "completed",
        ["abc"],
      ]],
    );
    assertEquals(app.calls[0], { apiName: "infer", body: { data: ["abc"] } });
    const post = app.requests.find((r) => r.path === "/gradio_api/call/infer")!;
    assertEquals(post.headers.get("x-t"), "1");
    // An unknown endpoint is gradio's 500.
    const e = await assertRejects(
      () => callResult(http, { app: meta, apiName: "nope", data: [] }),
      GatewayError,
    );
    assertEquals(e.status, 502);
    assertStringIncludes(e.message, "500");
  } finally {
    await app.close();
  }
});

function assertThrowsGateway(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    assert(err instanceof GatewayError, String(err));
    return err;
  }
  throw new Error("did not throw");
}

Deno.test("ZeroGPU quota: 429 with the message (link reduced to text) on both routes", async () => {
  const app = await startFakeGradio({
    fns: { 0: typing },
    version: 5,
    apiNames: { infer: 0 },
    quotaError: QUOTA,
  });
  try {
    const http = upstream();
    for (
      const run of [
        () =>
          callResult(http, {
            app: { root: app.origin, prefix: "/gradio_api" },
            apiName: "infer",
            data: ["x"],
          }),
        () =>
          queueResult(http, {
            root: app.origin,
            prefix: "/gradio_api",
            fnIndex: 0,
            data: ["x"],
            sessionHash: sessionHash(),
          }),
      ]
    ) {
      const err = await assertRejects(run, GatewayError);
      assertEquals(err.status, 429);
      assertEquals(err.code, "insufficient_quota");
      assertStringIncludes(
        err.message,
        "You have exceeded your GPU quota (60s requested vs. 56s left).",
      );
      assertStringIncludes(err.message, "Create a free account to get more usage quota.");
      assert(!err.message.includes("<a"), err.message);
    }
  } finally {
    await app.close();
  }
  const older = appError("s", "You have exceeded your GPU quota, retry in 0:09:48");
  assertEquals([older.status, older.retryAfter], [429, 588]);
  const other = appError("s", "CUDA out of memory", "Error");
  assertEquals(other.status, 502);
  assertStringIncludes(other.message, "the app failed: CUDA out of memory");
  assertStringIncludes(appError("s", "boom", "Model crashed").message, "Model crashed: boom");
});

Deno.test("trackCall: the same updates at every split; an early end or an error event fails", async () => {
  const text = [
    "event: heartbeat\ndata: null\n",
    'event: generating\ndata: ["a"]\n',
    'event: complete\ndata: [{"path":"/tmp/x.png","url":"http://h/gradio_api/file=/tmp/x.png"}]\n',
    'event: complete\ndata: ["never"]\n',
  ].join("\n");
  for (const pieces of splits(text)) {
    const updates = await collect(trackCall("s", readSse(body(pieces))));
    assertEquals(updates.map((u) => u.type), ["status", "generating", "completed"]);
  }
  const run = (t: string) => collect(trackCall("s", readSse(body([new TextEncoder().encode(t)]))));
  await assertRejects(
    () => run('event: generating\ndata: ["a"]\n\n'),
    GatewayError,
    "ended before",
  );
  await assertRejects(
    () => run('event: error\ndata: {"error": null, "title": null}\n\n'),
    GatewayError,
    "hides its errors",
  );
  await assertRejects(() => run('event: error\ndata: "404: Not Found"\n\n'), GatewayError, "404");
  await assertRejects(() => run("event: complete\ndata: {}\n\n"), GatewayError, "without outputs");
});

Deno.test("uploadFiles: multipart under the prefix, FileData pointing at <prefix>/file=", async () => {
  const app = await startFakeGradio({ fns: { 0: typing }, version: 5 });
  try {
    const meta = { root: app.origin, prefix: "/gradio_api" };
    const [fd] = await uploadFiles(upstream(), meta, [{
      bytes: new TextEncoder().encode("hello file"),
      name: "note.txt",
      type: "text/plain",
    }]);
    assertEquals(fd.meta, { _type: "gradio.FileData" });
    assertEquals([fd.orig_name, fd.size, fd.mime_type], ["note.txt", 10, "text/plain"]);
    assertEquals(fd.url, fileUrl(meta, fd.path as string));
    const got = await fetch(fd.url as string);
    assertEquals(await got.text(), "hello file");
    // The same file is not served without the prefix.
    const old = await fetch(`${app.origin}/file=${fd.path}`);
    assertEquals(old.status, 404);
    await old.body?.cancel();
  } finally {
    await app.close();
  }
});
