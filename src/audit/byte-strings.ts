/**
 * Strings for byte ranges that repeat (actors, actions, days), without a new
 * string per line: a small cache keyed by a hash of the bytes, checked byte
 * by byte on a hit. Bounded: once full, misses are decoded and not kept, so
 * a ledger with millions of distinct actors costs a decode per line, never
 * memory. ASCII only (the scanner's canonical strings without escapes).
 */
const MAX_CACHED = 4096;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Bytes hashed from each end of a longer string (names that differ only in the middle share a slot: correct, just uncached). */
const KEY_SAMPLE = 8;

export class ByteStringCache {
  readonly #byHash = new Map<number, string>();

  get(bytes: Uint8Array, start: number, end: number): string {
    // Key on the length and at most the first and last KEY_SAMPLE bytes: the
    // hit is checked byte by byte anyway, and hashing all 64 hex digits of an
    // actor per line cost as much as that check.
    let h = FNV_OFFSET ^ (end - start);
    const headEnd = Math.min(end, start + KEY_SAMPLE);
    for (let i = start; i < headEnd; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
    for (let i = Math.max(headEnd, end - KEY_SAMPLE); i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
    const cached = this.#byHash.get(h);
    if (cached !== undefined && equalsAscii(bytes, start, end, cached)) return cached;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
    if (cached === undefined && this.#byHash.size < MAX_CACHED) this.#byHash.set(h, text);
    return text;
  }
}

/** `bytes[start, end)` spells `text` (ASCII). */
export function equalsAscii(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}
