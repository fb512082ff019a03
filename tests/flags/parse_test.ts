/** parseFlags: each marker's exact effect on the request and the flags. */
import { assertEquals, assertRejects } from "../assert.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { parseFlags as parse, RegexPool } from "../../src/flags/mod.ts";
import { GatewayError } from "../../src/openai/errors.ts";
import type { ChatRequest, Message } from "../../src/openai/schema.ts";

/** The patterns run in a pool of this test file (stopped by the last test). */
const pool = new RegexPool();
const parseFlags = (r: ChatRequest, c: ReturnType<typeof config>) =>
  parse(r, c, pool.session(10_000));

function config(flags = true, toolcall: Record<string, unknown> = {}) {
  const c = defaultConfig();
  c.server.flags = flags;
  Object.assign(c.toolcall, toolcall);
  return c;
}

function req(...messages: Message[]): ChatRequest {
  return { model: "m", messages } as ChatRequest;
}

const u = (content: Message["content"]) => ({ role: "user", content }) as Message;
const s = (content: string) => ({ role: "system", content }) as Message;
const a = (content: string) => ({ role: "assistant", content }) as Message;

Deno.test("flags off: nothing is parsed, the config's toolcall defaults apply", async () => {
  const r = req(u("hi <pad /> <tool enabled tasks />"));
  const out = await parseFlags(r, config(false, { enabled: false, tasks: true, id: "x" }));
  assertEquals(out.req, r);
  assertEquals(out.flags.pad, false);
  assertEquals(out.flags.tool, { enabled: false, tasks: true, id: "x" });
});

Deno.test("flags on without markers: the request is unchanged", async () => {
  const r = req(s("sys"), u("hi"));
  const out = await parseFlags(r, config());
  assertEquals(out.req, r);
  assertEquals(out.flags.tool, { enabled: true, tasks: false, id: undefined });
});

Deno.test("boolean markers: debug, echo, pad, notebook (and disabled)", async () => {
  const { req: r, flags } = await parseFlags(
    req(s("<debug /><echo/>"), u("<pad /> hello <notebook />")),
    config(),
  );
  assertEquals([flags.debug, flags.echo, flags.pad, flags.notebook], [true, true, true, true]);
  // The system message held only markers and is gone; the user text keeps its words.
  assertEquals(r.messages, [u("hello")]);
  const off = (await parseFlags(req(u("<notebook disabled /> x")), config())).flags;
  assertEquals(off.notebook, false);
});

Deno.test("markers are read in system, developer and user text only", async () => {
  const { req: r, flags } = await parseFlags(
    req({ role: "developer", content: "<pad />dev" } as Message, a("<echo /> said"), u("q")),
    config(),
  );
  assertEquals(flags.pad, true);
  assertEquals(flags.echo, false);
  assertEquals(r.messages[1], a("<echo /> said"));
});

Deno.test("text parts are scanned too", async () => {
  const { req: r, flags } = await parseFlags(
    req(
      u([{ type: "text", text: "look <pad />" }, {
        type: "image_url",
        image_url: { url: "http://x/i.png" },
      }] as never),
    ),
    config(),
  );
  assertEquals(flags.pad, true);
  assertEquals((r.messages[0].content as { text?: string }[])[0].text, "look");
});

Deno.test("<char_sequences>: both prefixes, quoted with spaces", async () => {
  const f =
    (await parseFlags(req(u('<char_sequences user="H: " assistant="A: " /> q')), config())).flags;
  assertEquals(f.charSequences, { user: "H: ", assistant: "A: " });
  const half = (await parseFlags(req(u('<char_sequences user="H:" /> q')), config())).flags;
  assertEquals(half.charSequences, undefined);
});

Deno.test("<tool>: replaces the config defaults as a whole", async () => {
  const c = config(true, { enabled: true, tasks: true, id: "cfg" });
  assertEquals((await parseFlags(req(u("<tool /> q")), c)).flags.tool, {
    enabled: false,
    tasks: false,
    id: undefined,
  });
  assertEquals((await parseFlags(req(u('<tool enabled id="search web" /> q')), c)).flags.tool, {
    enabled: true,
    tasks: false,
    id: "search web",
  });
  assertEquals((await parseFlags(req(u("<tool enabled=true tasks id=-1 /> q")), c)).flags.tool, {
    enabled: true,
    tasks: true,
    id: undefined,
  });
});

Deno.test("<matcher>: attributes and the pattern:replacement body", async () => {
  const f = (await parseFlags(
    req(u('<matcher find="<img>" len=40 end="</img>"><img>(.*?)</img>:![]($1)</matcher> q')),
    config(),
  )).flags;
  assertEquals(f.matchers, [{
    find: "<img>",
    len: 40,
    end: "</img>",
    pattern: "<img>(.*?)</img>",
    replacement: "![]($1)",
  }]);
  await assertRejects(
    () => parseFlags(req(u("<matcher>a:b</matcher>")), config()),
    GatewayError,
    "find",
  );
  await assertRejects(
    () => parseFlags(req(u('<matcher find="x">(:y</matcher>')), config()),
    GatewayError,
    "regular expression",
  );
});

Deno.test("<regex>: applied to user and assistant text, higher order first, miss skips the last K", async () => {
  const { req: r } = await parseFlags(
    req(
      s("sys cat"),
      u("cat one <regex order=10>cat:dog</regex><regex order=9>dog:wolf</regex>"),
      a("cat two"),
      u("cat three <regex order=1 miss=1>wolf:fox</regex>"),
    ),
    config(),
  );
  // order 10 (cat->dog) runs before 9 (dog->wolf): numbers, not strings ("10" < "9" as text).
  assertEquals(r.messages.map((m) => m.content), ["sys cat", "fox one", "fox two", "wolf three"]);
});

Deno.test("<regex>: \\: escapes a colon in the pattern", async () => {
  const { req: r } = await parseFlags(req(u("a:b c <regex>a\\:b:X</regex>")), config());
  assertEquals(r.messages[0].content, "X c");
});

Deno.test("<@N>: inserts after message N, from the end when negative; miss skips far ones", async () => {
  const base = [
    s("S"),
    u("U1"),
    a("A1"),
    u("U2 <@0>after first</@0><@-1 role=assistant>at end</@-1><@-2 role=system>before last</@-2><@9>far</@9><@9 miss=false>clamped</@9>"),
  ];
  const { req: r } = await parseFlags(req(...base), config());
  assertEquals(r.messages.map((m) => `${m.role}:${m.content}`), [
    "system:S",
    "user:after first",
    "user:U1",
    "assistant:A1",
    "system:before last",
    "user:U2",
    // Both land after the last message; markers keep their order.
    "assistant:at end",
    "user:clamped",
  ]);
});

Deno.test("<histories>: messages inserted before the first user or assistant message", async () => {
  const { req: r } = await parseFlags(
    req(
      s("S"),
      u('<histories>[{"role":"user","content":"old q"},{"role":"assistant","content":"old a"}]</histories>new q'),
    ),
    config(),
  );
  assertEquals(r.messages.map((m) => `${m.role}:${m.content}`), [
    "system:S",
    "user:old q",
    "assistant:old a",
    "user:new q",
  ]);
  await assertRejects(
    () => parseFlags(req(u("<histories>nope</histories>q")), config()),
    GatewayError,
    "JSON array",
  );
  await assertRejects(
    () => parseFlags(req(u('<histories>[{"role":"robot","content":"x"}]</histories>q')), config()),
    GatewayError,
    "messages",
  );
});

Deno.test("comments and CDATA in messages", async () => {
  const { req: r, flags } = await parseFlags(
    req(u("a <!-- note <pad /> --> b <![CDATA[<pad />]]>")),
    config(),
  );
  assertEquals(r.messages[0].content, "a  b <pad />");
  assertEquals(flags.pad, false);
});

Deno.test("a request of nothing but markers is refused", async () => {
  await assertRejects(
    () => parseFlags(req(u("<pad />")), config()),
    GatewayError,
    "nothing but markers",
  );
});

Deno.test("parse_test: the regex pool stops", () => {
  pool.close();
});
