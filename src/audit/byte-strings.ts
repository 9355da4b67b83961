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

export class ByteStringCache {
  readonly #byHash = new Map<number, string>();

  get(bytes: Uint8Array, start: number, end: number): string {
    let h = FNV_OFFSET ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
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
