/**
 * Property-based tests of the in-message markers (`flags/markup.ts`, `flags/mod.ts`): texts made
 * of marker pieces (tags with and without bodies, quoted and bare attributes, CDATA, comments,
 * near-misses) never throw from the reader and cost linear work; a text without markers passes
 * unchanged; `parseFlags` gives a request the chat schema accepts, or a 400.
 *
 * `<regex>` and `<matcher>` bodies are literal patterns here: how long a user's pattern may run
 * is the regex sandbox's business (hardening), not this reader's.
 */
import { assert, assertEquals } from "../assert.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { extractMarkers } from "../../src/flags/markup.ts";
import { parseFlags, RegexPool } from "../../src/flags/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import { type ChatRequest, chatRequest } from "../../src/openai/schema.ts";
import { answerText, anyText, assertAllowedError, check, fc, timed, timedSync } from "./fuzz.ts";

const NAMES = [
  "tool",
  "pad",
  "debug",
  "echo",
  "notebook",
  "char_sequences",
  "regex",
  "matcher",
  "histories",
  "@1",
  "@-1",
  "@0",
  "@99",
  "b",
  "toolx",
];

const attrName = fc.constantFrom(
  "enabled",
  "tasks",
  "id",
  "order",
  "miss",
  "role",
  "find",
  "len",
  "end",
  "user",
  "assistant",
  "disabled",
);

const attrValue = fc.oneof(
  fc.constantFrom("true", "false", "1", "-1", "0", "2.5", "user", "system", "assistant", "x"),
  fc.string({ maxLength: 6 }).map((s) => `"${s.replace(/"/g, "")}"`),
  fc.string({ maxLength: 6 }).map((s) => `'${s.replace(/'/g, "")}'`),
  fc.constant("<![CDATA[a>b]]>"),
);

/** A body: text, a literal `<regex>` rule, or a <histories> JSON list (good or bad). */
const body = fc.oneof(
  answerText,
  fc.tuple(fc.stringMatching(/^[a-z]{1,4}$/), fc.string({ maxLength: 4 })).map(([p, r]) =>
    `${p}:${r}`
  ),
  fc.constantFrom(
    "\\d+:#",
    "^x:y",
    "a\\:b:c",
    "[:",
    '[{"role":"user","content":"h"}]',
    '[{"role":"assistant","content":"a"}]',
    '[{"role":"nope"}]',
    "[1]",
    "{}",
    "<![CDATA[<tool />]]>",
  ),
);

const tag = fc.record({
  name: fc.constantFrom(...NAMES),
  attrs: fc.array(fc.tuple(attrName, fc.option(attrValue, { nil: undefined })), { maxLength: 3 }),
  shape: fc.constantFrom("self", "body", "open", "unclosed-attrs"),
  body,
}).map(({ name, attrs, shape, body }) => {
  const a = attrs.map(([k, v]) => v === undefined ? ` ${k}` : ` ${k}=${v}`).join("");
  switch (shape) {
    case "self":
      return `<${name}${a} />`;
    case "body":
      return `<${name}${a}>${body}</${name}>`;
    case "open":
      return `<${name}${a}>${body}`;
    default:
      return `<${name}${a}`;
  }
});

const piece = fc.oneof(
  { weight: 3, arbitrary: tag },
  { weight: 3, arbitrary: answerText },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "<",
      ">",
      "/>",
      "<!--",
      "-->",
      "<!-- c -->",
      "<![CDATA[",
      "]]>",
      '"',
      "'",
      "=",
      "\n",
      "</regex>",
      "</histories>",
    ),
  },
);

const markedText = fc.array(piece, { maxLength: 12 }).map((p) => p.join(""));

Deno.test("fuzz flags markup: any text gives text and markers; without markers it is unchanged", async () => {
  await check(
    fc.property(
      fc.oneof(markedText, anyText),
      timedSync((text) => {
        const r = extractMarkers(text);
        assert(typeof r.text === "string");
        for (const m of r.markers) {
          assert(
            typeof m.name === "string" && (m.body === undefined || typeof m.body === "string"),
          );
        }
        if (!r.changed) assertEquals(r.text, text);
        if (r.markers.length > 0) assert(r.changed);
      }),
    ),
    800,
  );
});

Deno.test("fuzz flags markup: long texts of near-markers stay linear", async () => {
  await check(
    fc.property(
      fc.array(piece, { minLength: 1, maxLength: 6 }),
      timedSync((ps) => {
        const unit = ps.join("") || "<";
        const text = unit.repeat(Math.ceil(200_000 / unit.length));
        extractMarkers(text);
      }, 8_000),
    ),
    25,
  );
});

const message = fc.record({
  role: fc.constantFrom("system", "user", "assistant", "developer"),
  content: fc.oneof(
    markedText,
    fc.array(markedText.map((text) => ({ type: "text" as const, text })), {
      minLength: 1,
      maxLength: 2,
    }),
  ),
});

Deno.test("fuzz flags: parseFlags gives a valid request or a 400, never anything else", async () => {
  const config = defaultConfig();
  config.server.flags = true;
  // `<regex>` rewrites run in child processes, as the server runs them.
  const pool = new RegexPool();
  try {
    await check(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        timed(async (messages) => {
          const req = chatRequest.parse({ model: "m", messages }) as ChatRequest;
          let out: Awaited<ReturnType<typeof parseFlags>>;
          try {
            out = await parseFlags(req, config, pool.session(10_000));
          } catch (err) {
            assertAllowedError(err, [GatewayError]);
            assertEquals((err as GatewayError).status, 400);
            return;
          }
          assert(out.req.messages.length > 0);
          const again = chatRequest.safeParse(out.req);
          assert(again.success, JSON.stringify(again.error?.issues[0]));
        }),
      ),
      600,
    );
  } finally {
    pool.close();
  }
});
