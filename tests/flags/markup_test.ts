/** Finding markers in one text. */
import { assert, assertEquals } from "../assert.ts";
import { extractMarkers, unwrapCdata } from "../../src/flags/markup.ts";

Deno.test("markup: self-closing markers, bare and typed attributes", () => {
  const r = extractMarkers('a <tool enabled id="my tool" tasks=false n=3 f=1.5 s=x /> b <pad/> c');
  assertEquals(r.text, "a  b  c");
  assertEquals(r.markers, [
    {
      name: "tool",
      attrs: { enabled: true, id: "my tool", tasks: false, n: 3, f: 1.5, s: "x" },
      body: undefined,
    },
    { name: "pad", attrs: {}, body: undefined },
  ]);
});

Deno.test("markup: quoted values hold spaces and > ; single quotes too", () => {
  const r = extractMarkers(`<char_sequences user="Human: " assistant='AI > ' />rest`);
  assertEquals(r.markers[0].attrs, { user: "Human: ", assistant: "AI > " });
  assertEquals(r.text, "rest");
});

Deno.test("markup: bodies, nesting of the same tag, @N names", () => {
  const r = extractMarkers(
    "x<regex order=2>a<regex>b</regex>c:d</regex>y<@-1 role=system>hi</@-1>z",
  );
  assertEquals(r.text, "xyz");
  assertEquals(r.markers.map((m) => [m.name, m.body]), [["regex", "a<regex>b</regex>c:d"], [
    "@-1",
    "hi",
  ]]);
  assertEquals(r.markers[1].attrs, { role: "system" });
});

Deno.test("markup: comments go, CDATA is unwrapped and protects its content", () => {
  const r = extractMarkers(
    "keep <!-- drop <pad /> --> <![CDATA[<pad /> stays]]> <matcher find=<![CDATA[<img>]]>>a:b</matcher>",
  );
  assertEquals(r.text, "keep  <pad /> stays ");
  assertEquals(r.markers.map((m) => m.name), ["matcher"]);
  assertEquals(r.markers[0].attrs.find, "<img>");
  assertEquals(unwrapCdata("a<![CDATA[<b>]]>c"), "a<b>c");
});

Deno.test("markup: unknown tags, unclosed bodies and stray brackets are left alone", () => {
  for (
    const s of [
      "<b>bold</b> and <div class='x'>",
      "<regex>never closed",
      "a < b > c",
      "<!-- unterminated",
      "<toolbox />",
      "<padding />",
    ]
  ) {
    const r = extractMarkers(s);
    assertEquals([r.text, r.markers, r.changed], [s, [], false], s);
  }
});

Deno.test("markup: an empty-bodied flag without slash, and with its closing tag", () => {
  assertEquals(extractMarkers("<echo>x").text, "x");
  assertEquals(extractMarkers("<notebook></notebook>y").text, "y");
  assertEquals(extractMarkers("<debug disabled>").markers[0].attrs, { disabled: true });
});

Deno.test("markup: tags that are not markers after all cost linear work in all", () => {
  // Not a timing test: each unclosed tag looks to the end of the text, so without a bound on
  // those looks these texts take minutes.
  const flood = "<regex>".repeat(50_000) + "</regex>";
  const r = extractMarkers("<pad /> " + flood);
  assertEquals(r.markers[0], { name: "pad", attrs: {}, body: undefined });
  assert(r.text.startsWith(" " + "<regex>".repeat(49_999)));
  for (const unit of ['<tool a="', "<@1>x", "<!-- ", "<![CDATA["]) {
    const s = unit.repeat(20_000);
    assertEquals(extractMarkers(s), { text: s, markers: [], changed: false }, unit);
  }
  // A few unclosed tags before a marker do not hide it.
  const some = extractMarkers("<regex>x ".repeat(20) + "<pad /> <!-- a <!-- b --> c");
  assertEquals(some.markers.map((m) => m.name), ["pad"]);
  assertEquals(some.text, "<regex>x ".repeat(20) + "  c");
});
