/**
 * Feeding parsers bytes in every chunking: the two-piece split at each position and byte by byte.
 *
 * @module
 */

const enc = new TextEncoder();

/** A body that delivers `pieces` one per read. */
export function bodyOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < pieces.length) c.enqueue(pieces[i++]);
      else c.close();
    },
  });
}

/** Every way to cut `text`'s bytes into two pieces, plus one piece per byte. */
export function splits(text: string): Uint8Array[][] {
  const bytes = enc.encode(text);
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.slice(0, i), bytes.slice(i)]);
  out.push(Array.from(bytes, (b) => new Uint8Array([b])));
  return out;
}

/** Everything an async iterable yields. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}
