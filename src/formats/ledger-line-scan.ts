/**
 * The ledger audit's fast path: a structural scanner over the raw bytes of
 * one ledger line that decides whether the line is *already* canonical JSON
 * (the Python scheme: `json.dumps(obj, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=True)`) and, if so, where the top-level members the audit
 * needs are.
 *
 * Why: when the line is canonical, the canonical bytes of the entry without
 * `entry_hash` are the line with the `"entry_hash":"..."` member (and one
 * comma) cut out, so the entry hash is one SHA-256 over bytes already in the
 * read buffer: no JSON object, no re-serialization.
 *
 * The audit runs the same rules compiled to WebAssembly over whole chunks
 * (assembly/ledger/scan.ts, 3-4x less CPU per line side by side); this file is their
 * specification, and tests/ledger-audit-kernel.test.ts holds the two to the
 * same answers, offsets and bytes on every line.
 *
 * Sure or unsure, never wrong: `scan` returns true only when the line is
 * byte-for-byte what the canonical writer would print for it. Anything the
 * scanner does not fully understand (floats, `-0`, escapes in keys,
 * surrogates, deep nesting, whitespace, non-ASCII bytes) makes it answer
 * false, and the caller re-checks the line on the slow path (parse,
 * canonicalize, hash), which is the reference. Depth and strings are tracked,
 * so a nested or quoted "entry_hash" is never taken for the top-level one.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** ensure_ascii: only U+0020..U+007E appear unescaped. */
const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;
/** Deeper values are legal but rare: the slow path takes them, and the scanner's recursion stays shallow. */
const MAX_SCAN_DEPTH = 64;
/** `"` + 64 lowercase hex digits + `"`. */
const HASH_VALUE_BYTES = 66;

/**
 * Bytes a canonical string holds as themselves: printable ASCII except `"`
 * and `\`. A table lookup is one load and one test in the scanner's hottest
 * loop, where the four range comparisons it replaces cost ~2x (profiled).
 */
const PLAIN_STRING_BYTE = new Uint8Array(256);
for (let c = FIRST_PRINTABLE; c <= LAST_PRINTABLE; c++) PLAIN_STRING_BYTE[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;

/** Lowercase hex digits, as Python's hexdigest writes them. */
const LOWER_HEX_BYTE = new Uint8Array(256);
for (const c of '0123456789abcdef') LOWER_HEX_BYTE[c.charCodeAt(0)] = 1;

/** Escapes Python writes in their short form: `\"` `\\` `\b` `\f` `\n` `\r` `\t`. */
const SHORT_ESCAPE_LETTERS = new Set([QUOTE, BACKSLASH, 0x62, 0x66, 0x6e, 0x72, 0x74]);
/** Code units with a short escape: `\u0008` etc. would not be canonical. */
const SHORT_ESCAPED_UNITS = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x22, 0x5c]);

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const KEY_ENTRY_HASH = ascii('entry_hash');
const KEY_PREV_HASH = ascii('prev_hash');
const KEY_SIG = ascii('sig');
const KEY_ACTION = ascii('action');
const KEY_ACTOR = ascii('actor');
const KEY_TS = ascii('ts');

/** Where a top-level member is; `-1` offsets when the key is absent. */
export class MemberSpan {
  /** Offset of the key's opening quote. */
  memberStart = -1;
  /** Offset just past the value. */
  memberEnd = -1;
  /** Offset of the value's first byte (`"` for a string). */
  valueStart = -1;
  /** First byte of the value: `"`, `n`, `{`, ... (0 when absent). */
  valueKind = 0;
  /** The string value holds escapes: decode it with JSON.parse, not as plain ASCII. */
  escaped = false;

  reset(): void {
    this.memberStart = this.memberEnd = this.valueStart = -1;
    this.valueKind = 0;
    this.escaped = false;
  }

  get present(): boolean {
    return this.memberStart !== -1;
  }

  get isString(): boolean {
    return this.valueKind === QUOTE;
  }

  get isNull(): boolean {
    return this.valueKind === 0x6e;
  }
}

/**
 * One scanner per thread, reused for every line (no allocation per line).
 * After `scan` returned true, the spans describe the line just scanned.
 */
export class CanonicalLineScanner {
  readonly entryHash = new MemberSpan();
  readonly prevHash = new MemberSpan();
  readonly sig = new MemberSpan();
  readonly action = new MemberSpan();
  readonly actor = new MemberSpan();
  readonly ts = new MemberSpan();

  #bytes: Uint8Array = new Uint8Array(0);
  #end = 0;
  #lastStringEscaped = false;

  /**
   * True when `bytes[start, end)` is a canonical JSON object with a top-level
   * `entry_hash` of 64 lowercase hex digits and a `prev_hash` that is null or
   * a string. False means "not sure": take the slow path.
   */
  scan(bytes: Uint8Array, start: number, end: number): boolean {
    this.#bytes = bytes;
    this.#end = end;
    this.entryHash.reset();
    this.prevHash.reset();
    this.sig.reset();
    this.action.reset();
    this.actor.reset();
    this.ts.reset();
    if (end - start < 2 || bytes[start] !== OPEN_BRACE) return false;
    if (this.#object(start, 0, true) !== end) return false;
    return this.#hasUsableHashes();
  }

  #hasUsableHashes(): boolean {
    const hash = this.entryHash;
    if (!hash.isString || hash.escaped || hash.memberEnd - hash.valueStart !== HASH_VALUE_BYTES) return false;
    const bytes = this.#bytes;
    const end = hash.memberEnd - 1;
    for (let i = hash.valueStart + 1; i < end; i++) if (LOWER_HEX_BYTE[bytes[i]!] !== 1) return false;
    return this.prevHash.isString || this.prevHash.isNull;
  }

  /** Returns the offset past the value starting at `at`, or -1. */
  #value(at: number, depth: number): number {
    if (at >= this.#end) return -1;
    const c = this.#bytes[at]!;
    if (c === QUOTE) return this.#string(at);
    if (c === OPEN_BRACE) return this.#object(at, depth + 1, false);
    if (c === OPEN_BRACKET) return this.#array(at, depth + 1);
    if (c === 0x74) return this.#literal(at, 'true');
    if (c === 0x66) return this.#literal(at, 'false');
    if (c === 0x6e) return this.#literal(at, 'null');
    if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return this.#integer(at);
    return -1;
  }

  #literal(at: number, word: string): number {
    if (at + word.length > this.#end) return -1;
    for (let i = 0; i < word.length; i++) if (this.#bytes[at + i] !== word.charCodeAt(i)) return -1;
    return at + word.length;
  }

  /**
   * Integers only, as Python's int prints them: no leading zero, no `-0`.
   * A fraction or exponent means a float, whose repr is the slow path's job.
   */
  #integer(at: number): number {
    const bytes = this.#bytes;
    let i = at;
    if (bytes[i] === MINUS) i++;
    const first = bytes[i];
    if (first === undefined || i >= this.#end || first < DIGIT_0 || first > DIGIT_9) return -1;
    if (first === DIGIT_0) {
      if (i !== at) return -1; // -0 prints as 0
      i++;
    } else {
      while (i < this.#end && bytes[i]! >= DIGIT_0 && bytes[i]! <= DIGIT_9) i++;
    }
    const next = bytes[i];
    if (next === 0x2e || next === 0x65 || next === 0x45) return -1;
    return i;
  }

  /** A string exactly as ensure_ascii writes it. Sets #lastStringEscaped. */
  #string(at: number): number {
    const bytes = this.#bytes;
    const end = this.#end;
    let escaped = false;
    let i = at + 1;
    while (i < end) {
      // The common case first: a run of plain bytes.
      while (i < end && PLAIN_STRING_BYTE[bytes[i]!] === 1) i++;
      if (i >= end) return -1;
      const c = bytes[i]!;
      if (c === QUOTE) {
        this.#lastStringEscaped = escaped;
        return i + 1;
      }
      if (c !== BACKSLASH || i + 1 >= end) return -1;
      escaped = true;
      const letter = bytes[i + 1]!;
      if (letter === 0x75) {
        if (!isCanonicalUnicodeEscape(this.#lowercaseHex4(i + 2))) return -1;
        i += 6;
      } else if (SHORT_ESCAPE_LETTERS.has(letter)) {
        i += 2;
      } else {
        return -1; // `\/` and friends: legal JSON, never written by Python
      }
    }
    return -1;
  }

  /** The code unit of 4 lowercase hex digits at `at`, or -1 (uppercase is not what Python writes). */
  #lowercaseHex4(at: number): number {
    if (at + 4 > this.#end) return -1;
    let unit = 0;
    for (let i = at; i < at + 4; i++) {
      const c = this.#bytes[i]!;
      let digit: number;
      if (c >= DIGIT_0 && c <= DIGIT_9) digit = c - DIGIT_0;
      else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
      else return -1;
      unit = unit * 16 + digit;
    }
    return unit;
  }

  #array(at: number, depth: number): number {
    if (depth > MAX_SCAN_DEPTH) return -1;
    let i = at + 1;
    if (this.#bytes[i] === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.#value(i, depth);
      if (i === -1 || i >= this.#end) return -1;
      const c = this.#bytes[i];
      if (c === CLOSE_BRACKET) return i + 1;
      if (c !== COMMA) return -1;
      i++;
    }
  }

  /** Keys must be escape-free and strictly increasing (sorted, no duplicates). */
  #object(at: number, depth: number, top: boolean): number {
    if (depth > MAX_SCAN_DEPTH) return -1;
    const bytes = this.#bytes;
    let i = at + 1;
    if (bytes[i] === CLOSE_BRACE) return i + 1;
    let previousKeyStart = -1;
    let previousKeyEnd = -1;
    for (;;) {
      if (bytes[i] !== QUOTE) return -1;
      const keyStart = i;
      const keyEnd = this.#string(i);
      if (keyEnd === -1 || this.#lastStringEscaped) return -1;
      if (previousKeyStart !== -1 && compareBytes(bytes, previousKeyStart + 1, previousKeyEnd - 1, bytes, keyStart + 1, keyEnd - 1) >= 0) {
        return -1;
      }
      if (bytes[keyEnd] !== COLON) return -1;
      const valueStart = keyEnd + 1;
      const valueEnd = this.#value(valueStart, depth);
      if (valueEnd === -1 || valueEnd >= this.#end) return -1;
      if (top) this.#record(keyStart + 1, keyEnd - 1, valueStart, valueEnd);
      previousKeyStart = keyStart;
      previousKeyEnd = keyEnd;
      const c = bytes[valueEnd];
      if (c === CLOSE_BRACE) return valueEnd + 1;
      if (c !== COMMA) return -1;
      i = valueEnd + 1;
    }
  }

  #record(keyFrom: number, keyTo: number, valueStart: number, valueEnd: number): void {
    const span = this.#spanFor(keyFrom, keyTo);
    if (span === undefined) return;
    span.memberStart = keyFrom - 1;
    span.memberEnd = valueEnd;
    span.valueStart = valueStart;
    span.valueKind = this.#bytes[valueStart]!;
    span.escaped = span.valueKind === QUOTE && this.#lastStringEscaped;
  }

  #spanFor(keyFrom: number, keyTo: number): MemberSpan | undefined {
    // The length picks the one candidate; no closure per key (it ran for every member of every line).
    let key: Uint8Array;
    let span: MemberSpan;
    switch (keyTo - keyFrom) {
      case 2: key = KEY_TS; span = this.ts; break;
      case 3: key = KEY_SIG; span = this.sig; break;
      case 5: key = KEY_ACTOR; span = this.actor; break;
      case 6: key = KEY_ACTION; span = this.action; break;
      case 9: key = KEY_PREV_HASH; span = this.prevHash; break;
      case 10: key = KEY_ENTRY_HASH; span = this.entryHash; break;
      default: return undefined;
    }
    return sameBytes(this.#bytes, keyFrom, key) ? span : undefined;
  }
}

/**
 * Python writes `\uXXXX` only for control characters without a short escape
 * and for U+007F and above. Surrogate escapes are left to the slow path.
 */
function isCanonicalUnicodeEscape(unit: number): boolean {
  if (unit < 0) return false;
  if (unit < FIRST_PRINTABLE) return !SHORT_ESCAPED_UNITS.has(unit);
  if (unit <= LAST_PRINTABLE) return false;
  return unit < 0xd800 || unit > 0xdfff;
}

/** `bytes` at `from` spells `key` (the caller checked the length). */
function sameBytes(bytes: Uint8Array, from: number, key: Uint8Array): boolean {
  for (let k = 0; k < key.length; k++) if (bytes[from + k] !== key[k]) return false;
  return true;
}

function compareBytes(a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number = bFrom + (aTo - aFrom)): number {
  const length = Math.min(aTo - aFrom, bTo - bFrom);
  for (let k = 0; k < length; k++) {
    const d = a[aFrom + k]! - b[bFrom + k]!;
    if (d !== 0) return d;
  }
  return (aTo - aFrom) - (bTo - bFrom);
}

/**
 * Copies `bytes[start, end)` into `out` at `outAt` with the given members cut
 * out, dropping the comma each cut leaves dangling, so the result is the
 * canonical JSON of the object without those members. `cuts` must be in line
 * order and present. Returns the length written. No allocation per call
 * beyond what `Buffer#copy` needs (it runs once per ledger line; a plain
 * byte loop measured 2.6x slower on 360-byte lines).
 */
export function copyWithoutMembers(bytes: Uint8Array, start: number, end: number, cuts: readonly MemberCut[], out: Uint8Array, outAt = 0): number {
  let written = outAt;
  let from = start;
  for (const cut of cuts) {
    written = appendSegment(bytes, from, cut.memberStart, out, outAt, written);
    from = cut.memberEnd;
  }
  return appendSegment(bytes, from, end, out, outAt, written) - outAt;
}

/** Appends `bytes[from, to)` at `out[written]`, mending the commas around a cut; returns the new end. */
function appendSegment(bytes: Uint8Array, from: number, to: number, out: Uint8Array, outAt: number, written: number): number {
  let s = from;
  const last = written > outAt ? out[written - 1] : undefined;
  // A cut leaves ",," or "{," behind: the segment's leading comma goes.
  if (s < to && bytes[s] === COMMA && (last === COMMA || last === OPEN_BRACE)) s++;
  // ... or ",}" : the comma already written goes.
  let at = written;
  if (s < to && bytes[s] === CLOSE_BRACE && last === COMMA) at--;
  if (Buffer.isBuffer(bytes)) bytes.copy(out, at, s, to);
  else out.set(bytes.subarray(s, to), at);
  return at + (to - s);
}

/** A member's extent, as copyWithoutMembers needs it (a MemberSpan, or a copy of its two offsets). */
export interface MemberCut {
  memberStart: number;
  memberEnd: number;
}
