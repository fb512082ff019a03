/**
 * Run without `--allow-ffi` by `transport_test.ts`: one chrome request, printing the error it
 * fails with as JSON.
 */
import { configSchema } from "../../src/config/schema.ts";
import { HttpClients, Upstream } from "../../src/net/http.ts";
import { GatewayError } from "../../src/openai/errors.ts";

const http = new Upstream({
  provider: "claude",
  config: configSchema.parse({}),
  signal: new AbortController().signal,
  clients: new HttpClients(),
});
try {
  await http.fetch("https://localhost:9/");
  console.log(JSON.stringify({ status: 0 }));
} catch (err) {
  const e = err as GatewayError;
  console.log(JSON.stringify({ status: e.status, code: e.code, message: e.message }));
}
