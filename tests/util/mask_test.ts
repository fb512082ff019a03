/**
 * Secrets never appear unmasked: registered secrets, cookie values, and well-known token shapes.
 */
import { assert, assertEquals } from "../assert.ts";
import { maskSecret, redact, registerSecrets } from "../../src/util/mask.ts";
import { countTokens, TokenCounter } from "../../src/util/tokens.ts";
import { loadTokenizer } from "../../src/util/tokens.ts";

// Counting tokens needs the tokenizer loaded (the server loads it on its first request).
await loadTokenizer();

Deno.test("masking keeps only the ends of a secret", () => {
  assertEquals(maskSecret("short"), "***");
  assertEquals(maskSecret("sk-abcdefghijkl"), "sk-…jkl");
  assertEquals(maskSecret("sk-proj-abcdefghijklmnopqrstuvwxyz"), "sk-pro…xyz");
});

Deno.test("redact masks registered secrets, cookie parts, token shapes and URL passwords", () => {
  registerSecrets(["sessionKey=sk-ant-sid01-AAAAAAAAAAAAAAAA; lang=en", "my-custom-secret-value"]);
  const text = [
    "cookie sessionKey=sk-ant-sid01-AAAAAAAAAAAAAAAA; lang=en",
    "value alone sk-ant-sid01-AAAAAAAAAAAAAAAA",
    "custom my-custom-secret-value",
    "key AIzaSyA1234567890abcdefghijklmnop",
    "header Authorization: Bearer abcdef1234567890",
    "url https://x/?key=AIzaQQQQQQQQQQQ&alt=sse",
    "proxy socks5://bob:hunter2secret@127.0.0.1:1080",
    "cookie _U=1AbCdEfGhIjKlMnOp; MUID=x",
  ].join("\n");
  const out = redact(text);
  for (
    const secret of [
      "AAAAAAAAAAAAAAAA",
      "my-custom-secret-value",
      "1234567890abcdefghijklmnop",
      "abcdef1234567890",
      "QQQQQQQQQQQ",
      "hunter2secret",
      "1AbCdEfGhIjKlMnOp",
    ]
  ) {
    assert(!out.includes(secret), `${secret} leaked in:\n${out}`);
  }
  assert(out.includes("socks5://bob:***@127.0.0.1:1080"));
});

Deno.test("token counting: real BPE counts, streaming counter matches the whole-text count", () => {
  assertEquals(countTokens(""), 0);
  assertEquals(countTokens("hello world"), 2);
  const text = "The quick brown fox jumps over the lazy dog. 你好，世界！ ".repeat(200) + "end";
  const counter = new TokenCounter();
  for (let i = 0; i < text.length; i += 7) counter.push(text.slice(i, i + 7));
  const whole = countTokens(text);
  assert(
    Math.abs(counter.total - whole) <= Math.ceil(whole * 0.01),
    `${counter.total} vs ${whole}`,
  );
});

Deno.test("a request's credential is masked while held and forgotten after, config secrets stay", async () => {
  const { holdSecrets, knownSecretCount } = await import("../../src/util/mask.ts");
  registerSecrets(["config-secret-value-123"]);
  const before = knownSecretCount();
  const a = holdSecrets(["client-token-abcdef123"]);
  const b = holdSecrets(["client-token-abcdef123", "config-secret-value-123"]);
  assert(!redact("x client-token-abcdef123 y").includes("abcdef123"));
  a();
  a();
  assert(!redact("client-token-abcdef123").includes("abcdef123"), "still held by b");
  b();
  assertEquals(knownSecretCount(), before);
  assert(redact("client-token-abcdef123").includes("abcdef123"));
  assert(!redact("config-secret-value-123").includes("value-123"));
});
