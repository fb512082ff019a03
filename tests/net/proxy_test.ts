/**
 * Upstream traffic through a real SOCKS5 proxy (Debian's microsocks), proven from the proxy's side.
 */
import { assert, assertEquals } from "../assert.ts";
import OpenAI from "openai";
import { startFakeOpenAi } from "../fakes/openai.ts";
import { startGateway, waitFor } from "../helpers.ts";
import { proxyFor } from "../../src/net/proxy.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { freePort, startMicrosocks } from "../fakes/microsocks.ts";

Deno.test("custom requests go through a SOCKS5 proxy; no-proxy and use-proxies: false bypass it", async (t) => {
  const proxy = await startMicrosocks();
  if (!proxy) {
    console.warn(
      "SKIPPED: microsocks is not installed (apt-get install microsocks; .ci/run installs it)",
    );
    t.step({ name: "microsocks missing", ignore: true, fn: () => {} });
    return;
  }
  const upstream = await startFakeOpenAi();
  // Its own upstream, so that a connection the proxied calls left open cannot carry it unseen.
  const directUpstream = await startFakeOpenAi();
  const gw = await startGateway({
    server: { proxies: proxy.url, "no-proxy": [], password: ["pw-123456"] },
    "custom-llm": [
      { prefix: "viaproxy", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] },
      {
        prefix: "direct",
        "base-url": directUpstream.baseUrl,
        models: ["gpt-4o-mini"],
        "use-proxies": false,
      },
    ],
  });
  try {
    const client = new OpenAI({ baseURL: gw.url, apiKey: "pw-123456", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: "viaproxy/gpt-4o-mini",
      messages: [{ role: "user", content: "via socks" }],
    });
    assertEquals(res.choices[0].message.content, "Hello! You said: via socks");
    const target = `connected to 127.0.0.1:${new URL(upstream.origin).port}`;
    await waitFor(
      () => proxy.lines.some((l) => l.includes(target)),
      3000,
      "microsocks connection line",
    );

    const stream = await client.chat.completions.create({
      model: "viaproxy/gpt-4o-mini",
      messages: [{ role: "user", content: "streamed" }],
      stream: true,
    });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    assertEquals(text, "Hello! You said: streamed");
    await new Promise((r) => setTimeout(r, 100));
    const before = proxy.lines.filter((l) => l.includes(target)).length;

    const direct = await client.chat.completions.create({
      model: "direct/gpt-4o-mini",
      messages: [{ role: "user", content: "direct" }],
    });
    assertEquals(direct.choices[0].message.content, "Hello! You said: direct");
    await new Promise((r) => setTimeout(r, 200));
    // The direct request opened no connection through the proxy.
    assert(before >= 1);
    assertEquals(proxy.lines.filter((l) => l.includes(target)).length, before);
    const directTarget = `connected to 127.0.0.1:${new URL(directUpstream.origin).port}`;
    assertEquals(proxy.lines.filter((l) => l.includes(directTarget)), []);
    assertEquals(upstream.requests.length, 2);
    assertEquals(directUpstream.requests.length, 1);
  } finally {
    await gw.close();
    await upstream.close();
    await directUpstream.close();
    await proxy.stop();
  }
});

Deno.test("a proxy that refuses connections is a 502 naming the proxy, masked", async () => {
  const upstream = await startFakeOpenAi();
  const gw = await startGateway({
    server: {
      proxies: `socks5://user:secretpass@127.0.0.1:${freePort()}`,
      "no-proxy": [],
      password: ["pw-123456"],
    },
    "custom-llm": [{ prefix: "p", "base-url": upstream.baseUrl, models: ["gpt-4o-mini"] }],
  });
  try {
    const res = await fetch(`${gw.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer pw-123456" },
      body: JSON.stringify({ model: "p/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    });
    assertEquals(res.status, 502);
    const { error } = await res.json();
    assert(error.message.includes("via proxy socks5://"), error.message);
    assert(!error.message.includes("secretpass"), error.message);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("proxy selection: provider's own, server's, none for no-proxy hosts", () => {
  const c = defaultConfig();
  c.server.proxies = "http://127.0.0.1:3128";
  assertEquals(proxyFor(new URL("https://api.cohere.ai/v1/chat"), c), "http://127.0.0.1:3128");
  assertEquals(proxyFor(new URL("http://127.0.0.1:8000/chat"), c), undefined);
  assertEquals(proxyFor(new URL("http://[::1]:8000/chat"), c), undefined);
  assertEquals(
    proxyFor(new URL("https://claude.ai/api"), c, "socks5h://10.0.0.2:1080"),
    "socks5h://10.0.0.2:1080",
  );
  assertEquals(proxyFor(new URL("https://claude.ai/api"), c, false), undefined);
  c.server["no-proxy"] = [".internal.example"];
  assertEquals(proxyFor(new URL("https://llm.internal.example/v1"), c), undefined);
  assertEquals(proxyFor(new URL("https://internal.example/v1"), c), undefined);
  assertEquals(proxyFor(new URL("http://127.0.0.1:8000/chat"), c), "http://127.0.0.1:3128");
});
