/**
 * Run by `transport_test.ts` in a process of its own: one request per transport to the origin in
 * `Deno.args[0]` without `server.ca-file`, printing each status as JSON. A process of its own,
 * because trust is process-wide (`SSL_CERT_FILE`, the lazily built root store) and the parallel
 * test modules share one process.
 */
import { configSchema } from "../../src/config/schema.ts";
import { HttpClients, Upstream } from "../../src/net/http.ts";
import { GatewayError } from "../../src/openai/errors.ts";

const statuses: Record<string, number> = {};
for (const transport of ["chrome", "fetch"] as const) {
  const config = configSchema.parse({ server: { "no-proxy": [] } });
  const http = new Upstream({
    provider: "claude",
    config,
    signal: new AbortController().signal,
    clients: new HttpClients(),
    transport,
  });
  try {
    await (await http.fetch(`${Deno.args[0]}/`)).body?.cancel();
    statuses[transport] = 200;
  } catch (err) {
    statuses[transport] = err instanceof GatewayError ? err.status : 0;
  }
}
console.log(JSON.stringify(statuses));
