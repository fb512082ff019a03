/**
 * The soak's probe: another client of the gateway, in its own process so that the load
 * generator's work never delays it. Every 100 ms it sends a tiny request (`GET /health`) and
 * times the answer; after `seconds` it prints one JSON line: how many it sent, the worst, the
 * median and the 99th percentile in milliseconds, and how many took over 100 ms.
 *
 * `deno run --allow-net=127.0.0.1 bench/soak_probe.ts <origin> <seconds>`
 *
 * @module
 */

const [origin, secondsText] = Deno.args;
const end = Date.now() + Number(secondsText) * 1000;
const times: number[] = [];
const started = Date.now();
/** The five longest waits, with the second of the run each began in. */
let worst: { ms: number; at: number }[] = [];
let failures = 0;
while (Date.now() < end) {
  const t0 = performance.now();
  try {
    const res = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    if (!res.ok) failures++;
  } catch {
    failures++;
  }
  const took = performance.now() - t0;
  times.push(took);
  worst = [...worst, { ms: took, at: (Date.now() - took - started) / 1000 }]
    .sort((a, b) => b.ms - a.ms).slice(0, 5);
  await new Promise((r) => setTimeout(r, Math.max(0, 100 - took)));
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
console.log(JSON.stringify({
  count: times.length,
  failures,
  max: times.at(-1) ?? 0,
  p50: at(0.5),
  p99: at(0.99),
  over100: times.filter((t) => t > 100).length,
  worst: worst.map((w) => ({ ms: Math.round(w.ms), at: Math.round(w.at) })),
}));
