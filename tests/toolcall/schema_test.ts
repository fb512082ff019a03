/** Argument checks against JSON Schemas, with safe coercion. */
import { assertEquals } from "../assert.ts";
import { checkArguments } from "../../src/toolcall/schema.ts";
import { Toolset } from "../../src/toolcall/calls.ts";
import { fn } from "./harness.ts";

const schema = {
  type: "object",
  properties: {
    city: { type: "string" },
    days: { type: "integer" },
    ratio: { type: "number" },
    exact: { type: "boolean" },
    unit: { type: "string", enum: ["c", "f"] },
    tags: { type: "array", items: { type: "string" } },
    where: {
      type: "object",
      properties: { lat: { type: "number" }, lon: { type: "number" } },
      required: ["lat", "lon"],
    },
    kind: { $ref: "#/$defs/kind" },
    either: { anyOf: [{ type: "integer" }, { type: "string", enum: ["all"] }] },
    maybe: { type: ["string", "null"] },
    legacy: { type: "string", nullable: true },
  },
  required: ["city"],
  additionalProperties: false,
  $defs: { kind: { type: "string", enum: ["rain", "snow"] } },
};

Deno.test("schema: valid arguments pass unchanged", () => {
  const args = {
    city: "Paris",
    days: 3,
    ratio: 0.5,
    exact: true,
    unit: "c",
    tags: ["a"],
    where: { lat: 1, lon: 2 },
    kind: "rain",
    either: "all",
    maybe: null,
    legacy: null,
  };
  assertEquals(checkArguments(schema, args), { value: args, issues: [] });
});

Deno.test("schema: safe coercions", () => {
  const r = checkArguments(schema, {
    City: "Paris",
    days: "3",
    ratio: "0.25",
    exact: "FALSE",
    unit: "F",
    tags: "solo",
    where: '{"lat": "1.5", "lon": 2}',
    kind: "Snow",
    either: "7",
    maybe: 5,
  });
  assertEquals(r.issues, []);
  assertEquals(r.value, {
    city: "Paris",
    days: 3,
    ratio: 0.25,
    exact: false,
    unit: "f",
    tags: ["solo"],
    where: { lat: 1.5, lon: 2 },
    kind: "snow",
    either: 7,
    maybe: "5",
  });
});

Deno.test("schema: what cannot be fixed is reported with its path", () => {
  const r = checkArguments(schema, {
    days: 2.5,
    unit: "kelvin",
    tags: [1, { x: 1 }],
    where: { lat: 1 },
    extra: true,
    kind: "hail",
  });
  assertEquals(
    r.issues.map((i) => i.path).sort(),
    [
      "city",
      "extra",
      "kind",
      "tags[1]",
      "unit",
      "where.lon",
      "days",
    ].sort(),
  );
});

Deno.test("schema: arguments must be an object; no schema accepts any object", () => {
  assertEquals(checkArguments(schema, "Paris").issues.length, 1);
  assertEquals(checkArguments(schema, [1]).issues.length, 1);
  assertEquals(checkArguments(undefined, { any: 1 }), { value: { any: 1 }, issues: [] });
});

Deno.test("schema: an optional null is dropped, a required null is an issue", () => {
  assertEquals(checkArguments(schema, { city: "x", unit: null }).value, { city: "x" });
  assertEquals(checkArguments(schema, { city: null }).issues.map((i) => i.path), ["city"]);
});

Deno.test("Toolset: names resolve exactly or uniquely; calls are checked", () => {
  const ts = new Toolset([fn("get_weather", schema), fn("get-time"), fn("GetTime2")]);
  assertEquals(ts.resolve("get_weather"), "get_weather");
  assertEquals(ts.resolve("GET_WEATHER"), "get_weather");
  assertEquals(ts.resolve("functions.get_weather"), "get_weather");
  assertEquals(ts.resolve("get_time"), "get-time");
  assertEquals(ts.resolve("weather"), undefined);
  assertEquals(ts.check({ name: "getWeather", args: { city: "Oslo", days: "2" } }), {
    call: { name: "get_weather", arguments: '{"city":"Oslo","days":2}' },
  });
  const bad = ts.check({ name: "nope", args: {} });
  assertEquals(
    "error" in bad && bad.error.startsWith('"nope" is not one of the available tools'),
    true,
  );
  const missing = ts.check({ name: "get_weather", args: {} });
  assertEquals(missing, { error: 'get_weather: argument "city" is required' });
});
