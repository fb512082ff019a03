/**
 * Old coze and you configurations keep loading: the original's keys (`botId`, `isW`, the web SDK
 * accounts, `you.helper`, `you.custom`, `you.task`, `you.model`, ...) and this product's keys of
 * the web routes are mapped or ignored, each with a warning that says what replaced it; none stops
 * the server.
 */
import { assert, assertEquals } from "../assert.ts";
import { parseConfig } from "../../src/config/mod.ts";

/** The coze and you sections of the original's example config (branch v2), bots filled in. */
const ORIGINAL = `
you:
  helper: 8082
  custom: false
  task: true
  model: [gpt_4o, claude_3_opus]
  notice: "Creative Writing Mode"
  cookies:
    - 'xxx1'
    - 'xxx2'
coze:
  8k:
    botId: 7351234567890123456
    version: 9527
    scene: 2
    isW: false
  128k:
    botId: 114514
    version: 9527
    scene: 2
    isW: false
  images:
    botId: 7351234567890123457
    version: 1716801150371
    scene: 2
  websdk-counter: 0
  websdk:
    counter: 0
    model: gpt-4o-128k
    accounts:
      - email: xxx@gmail.com
        password: xxx
        validate: xxx@gmail.com
`;

/** Every coze and you key this product accepted before the API modes. */
const BEFORE = `
coze:
  base-url: https://www.coze.com
  sign-url: https://complete-mmx-coze-helper.hf.space
  websdk-url: https://api.coze.com
  upload-url: https://complete-mmx-easy-images.hf.space
  cookies: ["sessionid=0123456789abcdef0123456789abcdef"]
  8k: { bot-id: "7351234567890123456", version: "1716801150371", scene: 2 }
  128k: { bot-id: "7351234567890123457", version: "1716801150999", scene: 2, websdk: false }
  images: { bot-id: "7351234567890123458", version: "1", scene: 2 }
  owner-wait: 30
  concurrency: 1
  cooldown: 3600
  proxies: false
you:
  base-url: https://you.com
  cookies: ["stytch_session=abc; ydc_stytch_session=abc"]
  clearance: true
  file-tokens: 12000
  notice: Please review the attached prompt
  quota-cooldown: 21600
  models: [gpt_5]
  concurrency: 1
  cooldown: 60
  proxies: false
`;

function warned(warnings: string[], key: string, words: string): void {
  assert(
    warnings.some((w) => w.includes(`'${key}'`) && w.includes(words)),
    `no warning for ${key} saying '${words}':\n${warnings.join("\n")}`,
  );
}

Deno.test("the original's coze and you keys load with warnings that name their successors", () => {
  const { config, warnings } = parseConfig(ORIGINAL, "config.yaml");
  // Bots: the original's names mapped; a long unquoted id read exactly; the placeholder dropped.
  assertEquals(config.coze["8k"], {
    "bot-id": "7351234567890123456",
    version: "9527",
    scene: 2,
    websdk: false,
  });
  assertEquals(config.coze.images?.["bot-id"], "7351234567890123457");
  assertEquals(config.coze["128k"], undefined);
  assertEquals(config.you.models, ["gpt_4o", "claude_3_opus"]);
  assertEquals(config.coze.mode, "api");
  assertEquals(config.you.mode, "api");
  warned(warnings, "coze.8k.botId", "is now coze.8k.bot-id");
  warned(warnings, "coze.8k.isW", "is now coze.8k.websdk");
  warned(warnings, "coze.128k", "placeholder bot id 114514");
  warned(warnings, "coze.websdk", "personal access token (coze.tokens)");
  warned(warnings, "coze.websdk-counter", "no longer used");
  warned(warnings, "you.helper", "Chromium");
  warned(warnings, "you.custom", "you.agents");
  warned(warnings, "you.task", "no longer used");
  warned(warnings, "you.model", "is now you.models");
  warned(warnings, "you.cookies", "legacy web mode (you.mode: web)");
  warned(warnings, "you.notice", "legacy web mode (you.mode: web)");
  // Each warning names the file and the key's line.
  assert(warnings.every((w) => /^config\.yaml:\d+:\d+: '/.test(w)), warnings.join("\n"));
  assert(warnings.some((w) => w.startsWith("config.yaml:3:3: 'you.helper'")));
});

Deno.test("this product's earlier coze and you keys load; web-only keys say so; web hosts move", () => {
  const { config, warnings } = parseConfig(BEFORE, "config.yaml");
  assertEquals(config.coze["web-url"], "https://www.coze.com");
  assertEquals(config.coze["base-url"], "https://api.coze.com");
  assertEquals(config.you["web-url"], "https://you.com");
  assertEquals(config.you["base-url"], "https://api.you.com");
  assertEquals(config.coze["sign-url"], "https://complete-mmx-coze-helper.hf.space");
  assertEquals(config.coze.cookies.length, 1);
  assertEquals(config.you["quota-cooldown"], 21600);
  warned(warnings, "coze.base-url", "now coze.web-url");
  warned(warnings, "you.base-url", "now you.web-url");
  for (const k of ["cookies", "sign-url", "websdk-url", "upload-url", "owner-wait"]) {
    warned(warnings, `coze.${k}`, "legacy web mode (coze.mode: web)");
  }
  for (const k of ["cookies", "clearance", "file-tokens", "notice"]) {
    warned(warnings, `you.${k}`, "legacy web mode (you.mode: web)");
  }
  // Nothing else is called unknown.
  assert(!warnings.some((w) => w.includes("unknown key")), warnings.join("\n"));
});

Deno.test("with the web modes switched on, their keys load without a warning", () => {
  const text = BEFORE.replace("coze:\n", "coze:\n  mode: web\n").replace(
    "you:\n",
    "you:\n  mode: web\n",
  );
  const { config, warnings } = parseConfig(text, "config.yaml");
  assertEquals([config.coze.mode, config.you.mode], ["web", "web"]);
  assertEquals(
    warnings.filter((w) => w.includes("is used only by the legacy web mode")),
    [],
  );
  // The web hosts still move to their new keys (base-url is the API's now).
  assertEquals(config.coze["web-url"], "https://www.coze.com");
});

Deno.test("the new coze and you keys: defaults and values", () => {
  const { config, warnings } = parseConfig(
    [
      "coze:",
      "  base-url: https://api.coze.cn",
      "  tokens: pat_one",
      "  bot: 7351234567890123456",
      "  bots: { writer: '7351234567890123457' }",
      "  workspace-id: 7290000000000000001",
      "you:",
      "  api-key: [ydc-sk-1, ydc-sk-2]",
      "  agents: { gpt_4o: express }",
    ].join("\n"),
    "c.yaml",
  );
  assertEquals(warnings, []);
  assertEquals(config.coze["base-url"], "https://api.coze.cn");
  assertEquals(config.coze.tokens, ["pat_one"]);
  assertEquals(config.coze.bot, "7351234567890123456");
  assertEquals(config.coze["workspace-id"], "7290000000000000001");
  assertEquals(config.coze["user-id"], "chatgpt-adapter");
  assertEquals(config.coze["sign-url"], undefined);
  assertEquals(config.you["api-key"], ["ydc-sk-1", "ydc-sk-2"]);
  assertEquals(config.you.agents, { gpt_4o: "express" });
  const defaults = parseConfig("", "c.yaml").config;
  assertEquals(defaults.coze["base-url"], "https://api.coze.com");
  assertEquals(defaults.you["base-url"], "https://api.you.com");
});
