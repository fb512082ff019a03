/**
 * The held-back tail of streamed text: how much of what came so far could be the start of a
 * marker that the next chunk completes.
 *
 * @module
 */

/**
 * How many characters at the end of `s` (not before `from`) could be the start of one of
 * `needles` (a string that would end inside the tail, whole, is not a start). Looks at no more
 * than the longest needle's length per call and allocates nothing.
 */
export function partialMatchAtEnd(
  s: string,
  needles: string | readonly string[],
  from = 0,
): number {
  const list = typeof needles === "string" ? [needles] : needles;
  let longest = 0;
  for (const n of list) if (n.length > longest) longest = n.length;
  for (let k = Math.min(longest - 1, s.length - from); k > 0; k--) {
    const start = s.length - k;
    for (const n of list) if (n.length > k && startsAt(s, start, n, k)) return k;
  }
  return 0;
}

/** True when `s` from `start` holds the first `k` characters of `n`. */
function startsAt(s: string, start: number, n: string, k: number): boolean {
  for (let i = 0; i < k; i++) if (s.charCodeAt(start + i) !== n.charCodeAt(i)) return false;
  return true;
}
