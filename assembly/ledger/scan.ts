/**
 * The ledger audit's structural scanner in WebAssembly: one call splits a
 * chunk of ledger bytes into lines and, for each line, answers "exactly
 * canonical" or "not sure", exactly as src/formats/ledger-line-scan.ts does
 * (that file is the specification; tests/ledger-audit-kernel.test.ts holds
 * the two to the same answers and spans). For a canonical line it records
 * where the top-level members the audit needs are and copies the line
 * without its `"entry_hash":"..."` member into the pack, so the JS side only
 * calls SHA-256 per line. Plain string bytes are skipped 16 at a time (SIMD):
 * most of a ledger line is hex digits inside strings.
 *
 * Memory: one region laid out by `scan_region` (chunk bytes, pack, columns,
 * claimed digests);
 * the JS side fills the chunk, calls `scan_lines`, and reads the columns.
 */

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const COMMA: u32 = 0x2c;
const COLON: u32 = 0x3a;
const OPEN_BRACE: u32 = 0x7b;
const CLOSE_BRACE: u32 = 0x7d;
const OPEN_BRACKET: u32 = 0x5b;
const CLOSE_BRACKET: u32 = 0x5d;
const MINUS: u32 = 0x2d;
const DIGIT_0: u32 = 0x30;
const DIGIT_9: u32 = 0x39;
const NEWLINE: u32 = 0x0a;
/** ensure_ascii: only U+0020..U+007E appear unescaped. */
const FIRST_PRINTABLE: u32 = 0x20;
const LAST_PRINTABLE: u32 = 0x7e;
/** As the JS scanner: deeper values go to the slow path. */
const MAX_SCAN_DEPTH: i32 = 64;
/** `"` + 64 lowercase hex digits + `"`. */
const HASH_VALUE_BYTES: i32 = 66;
const HASH_HEX_DIGITS: i32 = 64;

/** Line kinds, as range-check.ts's LineKind. */
const KIND_BLANK: i32 = 0;
const KIND_FAST: i32 = 1;
const KIND_SLOW: i32 = 2;

/** Escape bits, as range-check.ts's ESCAPED_*. */
const ESCAPED_PREV: i32 = 1;
const ESCAPED_ACTION: i32 = 2;
const ESCAPED_ACTOR: i32 = 4;
const ESCAPED_TS: i32 = 8;
const ESCAPED_SIG: i32 = 16;

// ---------------------------------------------------------------------------
// Columns: one i32 array of `maxRows` (+1) entries each, in this order (the
// JS side, src/audit/wasm-scanner.ts, names them by the same indexes)
// ---------------------------------------------------------------------------

const COL_START = 0;
const COL_END = 1;
const COL_KIND = 2;
/** Fast lines: index into the batch of messages (OFFSETS, CLAIMED_AT). */
const COL_PACK_INDEX = 3;
const COL_HASH_AT = 4;
const COL_HASH_MEMBER_AT = 5;
const COL_HASH_MEMBER_END = 6;
/** prev_hash without quotes; -1 when null. */
const COL_PREV_AT = 7;
const COL_PREV_END = 8;
/** String values with their quotes; -1 when absent or not a string. */
const COL_ACTION_AT = 9;
const COL_ACTION_END = 10;
const COL_ACTOR_AT = 11;
const COL_ACTOR_END = 12;
const COL_TS_AT = 13;
const COL_TS_END = 14;
const COL_SIG_MEMBER_AT = 15;
const COL_SIG_MEMBER_END = 16;
const COL_SIG_VALUE_AT = 17;
const COL_ESCAPES = 18;
/** 1 when the line's prev_hash is, byte for byte, the entry_hash of the previous non-blank line, both fast. */
const COL_LINKED = 19;
/** By fast index: message i is pack[OFFSETS[i], OFFSETS[i + 1]). */
const COL_OFFSETS = 20;
/** By fast index: offset of the 64 hex digits the line claims. */
const COL_CLAIMED_AT = 21;
/**
 * Interned names (see `intern`) of a fast line's action, actor and day (the
 * `YYYY-MM-DD` that starts ts): -1 when absent, escaped, not a day, too long
 * or the table is full; the JS side then takes the string.
 */
const COL_ACTION_ID = 22;
const COL_ACTOR_ID = 23;
const COL_DAY_ID = 24;
/** By fast index: 1 when the SHA-256 of the message equals the claimed hex (filled by index.ts's scan_check, the wasm kernel). */
const COL_MATCHED = 25;
const COLUMNS = 26;

/** Room between the regions (every SIMD load stays inside a line, so this is only a margin). */
const PAD: usize = 16;

let bytesBase: usize = 0;
let packBase: usize = 0;
let columnsBase: usize = 0;
let claimedBase: usize = 0;
const DIGEST_BYTES: usize = 32;
let regionBytes: usize = 0;
let regionRows: i32 = 0;
let regionCapacity: usize = 0;
let regionAt: usize = 0;

/** The heap block holding the region (regionAt is its start rounded up to 16 bytes). */
let regionBlock: usize = 0;

/**
 * Lays out a region for chunks of up to `bytes` bytes and `rows` lines per
 * call and returns the chunk's address. Reuses the region when it is big
 * enough. The stub allocator never frees, but the region is the heap's last
 * block (the module's tables are allocated when it starts), so growing it
 * with realloc extends it in place instead of leaving the old block behind.
 * The caller (src/audit/wasm-scanner.ts) already doubles what it asks for,
 * and refills the region after it grows: its contents need not survive.
 */
export function scan_region(bytes: usize, rows: i32): usize {
  const paddedBytes = (bytes + PAD + 15) & ~<usize>15;
  const columnBytes = <usize>COLUMNS * <usize>(rows + 1) * 4;
  const need: usize = paddedBytes * 2 + columnBytes + <usize>(rows + 1) * DIGEST_BYTES;
  if (need > regionCapacity) {
    regionCapacity = need;
    regionBlock = regionBlock == 0 ? heap.alloc(need + 16) : heap.realloc(regionBlock, need + 16);
    regionAt = (regionBlock + 15) & ~<usize>15;
  }
  regionBytes = bytes;
  regionRows = rows;
  bytesBase = regionAt;
  packBase = regionAt + paddedBytes;
  columnsBase = regionAt + paddedBytes * 2;
  claimedBase = columnsBase + columnBytes;
  return bytesBase;
}

/** By fast index: the 32 bytes of the digest each line claims (its entry_hash hex, decoded), for the JS kernel to compare. */
export function scan_claimed(): usize {
  return claimedBase;
}

export function scan_pack(): usize {
  return packBase;
}

export function scan_columns(): usize {
  return columnsBase;
}

@inline function column(index: i32, row: i32): usize {
  return columnsBase + ((<usize>index * <usize>(regionRows + 1) + <usize>row) << 2);
}

/** Message `fast` of the last scan: its address in the pack and its length. */
export function messageAt(fast: i32): usize {
  return packBase + <usize>get(COL_OFFSETS, fast);
}

export function messageLength(fast: i32): usize {
  return <usize>(get(COL_OFFSETS, fast + 1) - get(COL_OFFSETS, fast));
}

/** Where the 64 hex digits that message `fast`'s line claims are. */
export function claimedHexAt(fast: i32): usize {
  return bytesBase + <usize>get(COL_CLAIMED_AT, fast);
}

export function setMatched(fast: i32, matched: bool): void {
  put(COL_MATCHED, fast, matched ? 1 : 0);
}

@inline function put(index: i32, row: i32, value: i32): void {
  store<i32>(column(index, row), value);
}

@inline function get(index: i32, row: i32): i32 {
  return load<i32>(column(index, row));
}

// ---------------------------------------------------------------------------
// Member spans of the line being scanned (the JS scanner's MemberSpan)
// ---------------------------------------------------------------------------

const SPAN_ENTRY_HASH = 0;
const SPAN_PREV_HASH = 1;
const SPAN_SIG = 2;
const SPAN_ACTION = 3;
const SPAN_ACTOR = 4;
const SPAN_TS = 5;
const SPANS = 6;

const memberStart = new StaticArray<i32>(SPANS);
const memberEnd = new StaticArray<i32>(SPANS);
const valueStart = new StaticArray<i32>(SPANS);
const valueKind = new StaticArray<u32>(SPANS);
const valueEscaped = new StaticArray<bool>(SPANS);

let lineEnd: usize = 0;
let lastStringEscaped = false;

function resetSpans(): void {
  for (let s = 0; s < SPANS; s++) {
    unchecked(memberStart[s] = -1);
    unchecked(memberEnd[s] = -1);
    unchecked(valueStart[s] = -1);
    unchecked(valueKind[s] = 0);
    unchecked(valueEscaped[s] = false);
  }
}

@inline function byteAt(p: usize): u32 {
  return <u32>load<u8>(p);
}

/** A byte a canonical string holds as itself: printable ASCII except `"` and `\`. */
@inline function isPlainStringByte(c: u32): bool {
  return c >= FIRST_PRINTABLE && c <= LAST_PRINTABLE && c != QUOTE && c != BACKSLASH;
}

/** Offset of the first byte at or after `p` (before `end`) that is not a plain string byte, or `end`. */
function skipPlain(p: usize, end: usize): usize {
  const low = i8x16.splat(<i8>FIRST_PRINTABLE);
  const high = i8x16.splat(<i8>LAST_PRINTABLE);
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  while (p + 16 <= end) {
    const v = v128.load(p);
    const special = v128.or(v128.or(i8x16.lt_u(v, low), i8x16.gt_u(v, high)), v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)));
    const mask = i8x16.bitmask(special);
    if (mask != 0) return p + <usize>ctz<i32>(mask);
    p += 16;
  }
  while (p < end && isPlainStringByte(byteAt(p))) p++;
  return p;
}

/** Python writes `\uXXXX` only for control characters without a short escape and for U+007F and above; surrogates go to the slow path. */
function isCanonicalUnicodeEscape(unit: i32): bool {
  if (unit < 0) return false;
  if (unit < <i32>FIRST_PRINTABLE) return !(unit == 0x08 || unit == 0x09 || unit == 0x0a || unit == 0x0c || unit == 0x0d);
  if (unit <= <i32>LAST_PRINTABLE) return false;
  return unit < 0xd800 || unit > 0xdfff;
}

@inline function isShortEscapeLetter(c: u32): bool {
  return c == QUOTE || c == BACKSLASH || c == 0x62 || c == 0x66 || c == 0x6e || c == 0x72 || c == 0x74;
}

/** The code unit of 4 lowercase hex digits at `p`, or -1. */
function lowercaseHex4(p: usize): i32 {
  if (p + 4 > lineEnd) return -1;
  let unit: i32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = byteAt(p + i);
    let digit: i32;
    if (c >= DIGIT_0 && c <= DIGIT_9) digit = <i32>(c - DIGIT_0);
    else if (c >= 0x61 && c <= 0x66) digit = <i32>(c - 0x61 + 10);
    else return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

/** A string exactly as ensure_ascii writes it; returns the offset past it or 0 (0 is never a valid end: a line starts with `{`). */
function scanString(at: usize): usize {
  const end = lineEnd;
  let escaped = false;
  let p = at + 1;
  while (p < end) {
    p = skipPlain(p, end);
    if (p >= end) return 0;
    const c = byteAt(p);
    if (c == QUOTE) {
      lastStringEscaped = escaped;
      return p + 1;
    }
    if (c != BACKSLASH || p + 1 >= end) return 0;
    escaped = true;
    const letter = byteAt(p + 1);
    if (letter == 0x75) {
      if (!isCanonicalUnicodeEscape(lowercaseHex4(p + 2))) return 0;
      p += 6;
    } else if (isShortEscapeLetter(letter)) {
      p += 2;
    } else {
      return 0;
    }
  }
  return 0;
}

function scanLiteral(at: usize, a: u32, b: u32, c: u32, d: u32, e: u32, length: usize): usize {
  if (at + length > lineEnd) return 0;
  if (byteAt(at) != a || byteAt(at + 1) != b || byteAt(at + 2) != c || byteAt(at + 3) != d) return 0;
  if (length == 5 && byteAt(at + 4) != e) return 0;
  return at + length;
}

/** Integers as Python's int prints them: no leading zero, no `-0`, no fraction or exponent. */
function scanInteger(at: usize): usize {
  const end = lineEnd;
  let p = at;
  if (byteAt(p) == MINUS) p++;
  if (p >= end) return 0;
  const first = byteAt(p);
  if (first < DIGIT_0 || first > DIGIT_9) return 0;
  if (first == DIGIT_0) {
    if (p != at) return 0;
    p++;
  } else {
    while (p < end && byteAt(p) >= DIGIT_0 && byteAt(p) <= DIGIT_9) p++;
  }
  // At the line's end the caller fails the value anyway (a value never ends a line).
  if (p < end) {
    const next = byteAt(p);
    if (next == 0x2e || next == 0x65 || next == 0x45) return 0;
  }
  return p;
}

function scanValue(at: usize, depth: i32): usize {
  if (at >= lineEnd) return 0;
  const c = byteAt(at);
  if (c == QUOTE) return scanString(at);
  if (c == OPEN_BRACE) return scanObject(at, depth + 1, false);
  if (c == OPEN_BRACKET) return scanArray(at, depth + 1);
  if (c == 0x74) return scanLiteral(at, 0x74, 0x72, 0x75, 0x65, 0, 4); // true
  if (c == 0x66) return scanLiteral(at, 0x66, 0x61, 0x6c, 0x73, 0x65, 5); // false
  if (c == 0x6e) return scanLiteral(at, 0x6e, 0x75, 0x6c, 0x6c, 0, 4); // null
  if (c == MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return scanInteger(at);
  return 0;
}

function scanArray(at: usize, depth: i32): usize {
  if (depth > MAX_SCAN_DEPTH) return 0;
  let p = at + 1;
  if (p < lineEnd && byteAt(p) == CLOSE_BRACKET) return p + 1;
  for (;;) {
    p = scanValue(p, depth);
    if (p == 0 || p >= lineEnd) return 0;
    const c = byteAt(p);
    if (c == CLOSE_BRACKET) return p + 1;
    if (c != COMMA) return 0;
    p++;
  }
  return 0; // unreachable: the loop only returns
}

/** Byte order of two keys (memcmp, then length), as the JS scanner's compareBytes. */
function compareKeys(a: usize, aLength: usize, b: usize, bLength: usize): i32 {
  const length = min(aLength, bLength);
  for (let k: usize = 0; k < length; k++) {
    const d = <i32>byteAt(a + k) - <i32>byteAt(b + k);
    if (d != 0) return d;
  }
  return <i32>aLength - <i32>bLength;
}

/** Keys must be escape-free and strictly increasing (sorted, no duplicates). */
function scanObject(at: usize, depth: i32, top: bool): usize {
  if (depth > MAX_SCAN_DEPTH) return 0;
  let p = at + 1;
  if (p < lineEnd && byteAt(p) == CLOSE_BRACE) return p + 1;
  let previousKeyStart: usize = 0;
  let previousKeyEnd: usize = 0;
  let first = true;
  for (;;) {
    if (p >= lineEnd || byteAt(p) != QUOTE) return 0;
    const keyStart = p;
    const keyEnd = scanString(p);
    if (keyEnd == 0 || lastStringEscaped) return 0;
    if (!first && compareKeys(previousKeyStart + 1, previousKeyEnd - previousKeyStart - 2, keyStart + 1, keyEnd - keyStart - 2) >= 0) return 0;
    if (keyEnd >= lineEnd || byteAt(keyEnd) != COLON) return 0;
    const valueAt = keyEnd + 1;
    const valueEnd = scanValue(valueAt, depth);
    if (valueEnd == 0 || valueEnd >= lineEnd) return 0;
    if (top) record(keyStart + 1, keyEnd - 1, valueAt, valueEnd);
    previousKeyStart = keyStart;
    previousKeyEnd = keyEnd;
    first = false;
    const c = byteAt(valueEnd);
    if (c == CLOSE_BRACE) return valueEnd + 1;
    if (c != COMMA) return 0;
    p = valueEnd + 1;
  }
  return 0; // unreachable: the loop only returns
}

@inline function keyIs4(at: usize, word: u32): bool {
  return load<u32>(at) == word;
}

/** The span for a top-level key, or -1: the length picks the one candidate. */
function spanFor(keyFrom: usize, keyTo: usize): i32 {
  const length = keyTo - keyFrom;
  // Little-endian words of the key names (what load<u32>/load<u16> read).
  if (length == 2) return load<u16>(keyFrom) == 0x7374 ? SPAN_TS : -1; // "ts"
  if (length == 3) return load<u16>(keyFrom) == 0x6973 && byteAt(keyFrom + 2) == 0x67 ? SPAN_SIG : -1; // "sig"
  if (length == 5) return keyIs4(keyFrom, 0x6f746361) && byteAt(keyFrom + 4) == 0x72 ? SPAN_ACTOR : -1; // "acto" "r"
  if (length == 6) return keyIs4(keyFrom, 0x69746361) && load<u16>(keyFrom + 4) == 0x6e6f ? SPAN_ACTION : -1; // "acti" "on"
  if (length == 9) return load<u64>(keyFrom) == 0x7361685f76657270 && byteAt(keyFrom + 8) == 0x68 ? SPAN_PREV_HASH : -1; // "prev_has" "h"
  if (length == 10) return load<u64>(keyFrom) == 0x61685f7972746e65 && load<u16>(keyFrom + 8) == 0x6873 ? SPAN_ENTRY_HASH : -1; // "entry_ha" "sh"
  return -1;
}

function record(keyFrom: usize, keyTo: usize, valueAt: usize, valueEnd: usize): void {
  const span = spanFor(keyFrom, keyTo);
  if (span < 0) return;
  const kind = byteAt(valueAt);
  unchecked(memberStart[span] = <i32>(keyFrom - 1 - bytesBase));
  unchecked(memberEnd[span] = <i32>(valueEnd - bytesBase));
  unchecked(valueStart[span] = <i32>(valueAt - bytesBase));
  unchecked(valueKind[span] = kind);
  unchecked(valueEscaped[span] = kind == QUOTE && lastStringEscaped);
}

/** 64 lowercase hex digits at `p` (SIMD: `0-9` or `a-f` in every lane). */
function isLowerHex64(p: usize): bool {
  const zero = i8x16.splat(<i8>DIGIT_0);
  const nine = i8x16.splat(<i8>DIGIT_9);
  const a = i8x16.splat(0x61);
  const f = i8x16.splat(0x66);
  for (let k: usize = 0; k < <usize>HASH_HEX_DIGITS; k += 16) {
    const v = v128.load(p + k);
    const digit = v128.and(i8x16.ge_u(v, zero), i8x16.le_u(v, nine));
    const letter = v128.and(i8x16.ge_u(v, a), i8x16.le_u(v, f));
    if (!i8x16.all_true(v128.or(digit, letter))) return false;
  }
  return true;
}

function hasUsableHashes(): bool {
  const kind = unchecked(valueKind[SPAN_ENTRY_HASH]);
  if (kind != QUOTE || unchecked(valueEscaped[SPAN_ENTRY_HASH])) return false;
  const at = unchecked(valueStart[SPAN_ENTRY_HASH]);
  if (unchecked(memberEnd[SPAN_ENTRY_HASH]) - at != HASH_VALUE_BYTES) return false;
  if (!isLowerHex64(bytesBase + <usize>at + 1)) return false;
  const prevKind = unchecked(valueKind[SPAN_PREV_HASH]);
  return prevKind == QUOTE || prevKind == 0x6e;
}

/** The JS scanner's `scan`: true when [start, end) is a canonical object with usable entry_hash and prev_hash. */
function scanLine(start: usize, end: usize): bool {
  lineEnd = end;
  resetSpans();
  if (end - start < 2 || byteAt(start) != OPEN_BRACE) return false;
  if (scanObject(start, 0, true) != end) return false;
  return hasUsableHashes();
}

/** Every byte is one of the ASCII blanks the sequential reader skips (space, tab, CR, VT, FF); empty counts. */
function isAsciiBlank(start: usize, end: usize): bool {
  for (let p = start; p < end; p++) {
    const c = byteAt(p);
    if (c != 0x20 && c != 0x09 && c != 0x0d && c != 0x0b && c != 0x0c) return false;
  }
  return true;
}

/** Offset of the next "\n" in [p, end), or `end`. */
function findNewline(p: usize, end: usize): usize {
  const newline = i8x16.splat(<i8>NEWLINE);
  while (p + 16 <= end) {
    const mask = i8x16.bitmask(i8x16.eq(v128.load(p), newline));
    if (mask != 0) return p + <usize>ctz<i32>(mask);
    p += 16;
  }
  while (p < end && byteAt(p) != NEWLINE) p++;
  return p;
}

/** Offset of a string member's opening quote, -1 when absent or not a string. */
@inline function stringStart(span: i32): i32 {
  return unchecked(valueKind[span]) == QUOTE ? unchecked(valueStart[span]) : -1;
}

/**
 * Copies the line without its entry_hash member and one comma (the JS
 * copyWithoutMembers with one cut): `{..."x":1,"entry_hash":"..",...}`
 * loses `"entry_hash":"..",`, or the comma before it when it is last.
 * Returns the length written at `out`.
 */
function cutEntryHash(start: usize, end: usize, cutStart: usize, cutEnd: usize, out: usize): usize {
  let from = cutEnd;
  let before = cutStart - start;
  if (byteAt(cutEnd) == COMMA) from++; // a member follows: its comma goes
  else if (byteAt(cutStart - 1) == COMMA) before--; // the last member: the comma before it goes
  memory.copy(out, start, before);
  memory.copy(out + before, from, end - from);
  return before + (end - from);
}

let consumed: i32 = 0;
let lastTerminated: i32 = 1;
let fastRows: i32 = 0;

/** Fast rows of the last call (messages in the pack). */
export function scan_fast_rows(): i32 {
  return fastRows;
}

/** Offset just past the last line `scan_lines` took (where the next call or read starts). */
export function scan_consumed(): i32 {
  return consumed;
}

/** 0 when the last row of the last call had no "\n" (the end of the range). */
export function scan_last_terminated(): i32 {
  return lastTerminated;
}

/**
 * The layout constants the JS side (src/audit/wasm-scanner.ts) keeps a copy
 * of, packed as columns | names << 8 | name bytes << 24: it checks them once
 * per instance, so the two cannot drift apart silently (ids past its tables
 * would drop counts without an error).
 */
export function scan_layout(): u32 {
  return <u32>COLUMNS | (<u32>MAX_NAMES << 8) | (<u32>MAX_NAME_BYTES << 24);
}

/**
 * Splits chunk bytes [0, filled) into lines (at most the region's rows) and
 * fills the columns for each. A line without "\n" is taken only when
 * `atEnd` (the range ends there). Returns the row count; `scan_consumed`
 * tells where the lines taken end.
 */
export function scan_lines(filled: i32, atEnd: i32): i32 {
  const end = bytesBase + <usize>filled;
  let p = bytesBase;
  let rows: i32 = 0;
  let fast: i32 = 0;
  let packed: usize = 0;
  let previousNonBlank: i32 = -1;
  lastTerminated = 1;
  while (rows < regionRows && p < end) {
    const lineStop = findNewline(p, end);
    let next: usize = end;
    if (lineStop < end) next = lineStop + 1;
    else if (atEnd != 0) {
      lastTerminated = 0;
    } else break;
    const row = rows++;
    const start = <i32>(p - bytesBase);
    put(COL_START, row, start);
    put(COL_END, row, <i32>(lineStop - bytesBase));
    put(COL_LINKED, row, 0);
    if (isAsciiBlank(p, lineStop)) {
      put(COL_KIND, row, KIND_BLANK);
    } else if (!scanLine(p, lineStop)) {
      put(COL_KIND, row, KIND_SLOW);
      previousNonBlank = row;
    } else {
      put(COL_KIND, row, KIND_FAST);
      recordRow(row, fast);
      internNames(row);
      const hashMemberAt = unchecked(memberStart[SPAN_ENTRY_HASH]);
      const hashMemberEnd = unchecked(memberEnd[SPAN_ENTRY_HASH]);
      put(COL_OFFSETS, fast, <i32>packed);
      put(COL_CLAIMED_AT, fast, unchecked(valueStart[SPAN_ENTRY_HASH]) + 1);
      decodeHex64(bytesBase + <usize>unchecked(valueStart[SPAN_ENTRY_HASH]) + 1, claimedBase + <usize>fast * DIGEST_BYTES);
      packed += cutEntryHash(p, lineStop, bytesBase + <usize>hashMemberAt, bytesBase + <usize>hashMemberEnd, packBase + packed);
      if (previousNonBlank >= 0 && get(COL_KIND, previousNonBlank) == KIND_FAST) put(COL_LINKED, row, linksTo(row, previousNonBlank) ? 1 : 0);
      fast++;
      previousNonBlank = row;
    }
    p = next;
  }
  put(COL_OFFSETS, fast, <i32>packed);
  fastRows = fast;
  consumed = <i32>(p - bytesBase);
  return rows;
}

function recordRow(row: i32, fast: i32): void {
  put(COL_PACK_INDEX, row, fast);
  put(COL_HASH_AT, row, unchecked(valueStart[SPAN_ENTRY_HASH]) + 1);
  put(COL_HASH_MEMBER_AT, row, unchecked(memberStart[SPAN_ENTRY_HASH]));
  put(COL_HASH_MEMBER_END, row, unchecked(memberEnd[SPAN_ENTRY_HASH]));
  put(COL_PREV_AT, row, unchecked(valueKind[SPAN_PREV_HASH]) == QUOTE ? unchecked(valueStart[SPAN_PREV_HASH]) + 1 : -1);
  put(COL_PREV_END, row, unchecked(memberEnd[SPAN_PREV_HASH]) - 1);
  put(COL_ACTION_AT, row, stringStart(SPAN_ACTION));
  put(COL_ACTION_END, row, unchecked(memberEnd[SPAN_ACTION]));
  put(COL_ACTOR_AT, row, stringStart(SPAN_ACTOR));
  put(COL_ACTOR_END, row, unchecked(memberEnd[SPAN_ACTOR]));
  put(COL_TS_AT, row, stringStart(SPAN_TS));
  put(COL_TS_END, row, unchecked(memberEnd[SPAN_TS]));
  put(COL_SIG_MEMBER_AT, row, unchecked(memberStart[SPAN_SIG]));
  put(COL_SIG_MEMBER_END, row, unchecked(memberEnd[SPAN_SIG]));
  put(COL_SIG_VALUE_AT, row, stringStart(SPAN_SIG));
  // `escaped` is only ever set on string values.
  put(COL_ESCAPES, row,
    (unchecked(valueEscaped[SPAN_PREV_HASH]) ? ESCAPED_PREV : 0) | (unchecked(valueEscaped[SPAN_ACTION]) ? ESCAPED_ACTION : 0) |
    (unchecked(valueEscaped[SPAN_ACTOR]) ? ESCAPED_ACTOR : 0) | (unchecked(valueEscaped[SPAN_TS]) ? ESCAPED_TS : 0) |
    (unchecked(valueEscaped[SPAN_SIG]) ? ESCAPED_SIG : 0));
}

// ---------------------------------------------------------------------------
// Interned names: the audit counts entries per action, actor and day, and
// the same few names repeat on millions of lines, so each line gets small
// ids here and the JS side counts in arrays, decoding each name once. The
// table is bounded (a ledger with more distinct names costs a string per
// line for the rest, never memory).
// ---------------------------------------------------------------------------

const MAX_NAMES: i32 = 4096;
/** Open addressing at most half full. */
const NAME_SLOTS: u32 = 8192;
/** Longer names are not interned (every actor is 64 hex digits; actions are words). */
const MAX_NAME_BYTES: i32 = 128;
const DAY_LENGTH: i32 = 10;

/** Slot -> id + 1 (0: empty). */
const nameSlots = new StaticArray<i32>(<i32>NAME_SLOTS);
const nameHashes = new StaticArray<u32>(MAX_NAMES);
const nameLengths = new StaticArray<i32>(MAX_NAMES);
/** Name `id` is at `nameArena + id * MAX_NAME_BYTES`. */
const nameArena = new StaticArray<u8>(MAX_NAMES * MAX_NAME_BYTES);
let nameCount: i32 = 0;

export function name_count(): i32 {
  return nameCount;
}

export function name_arena(): usize {
  return changetype<usize>(nameArena);
}

export function name_length(id: i32): i32 {
  return unchecked(nameLengths[id]);
}

/** Up to 8 bytes at `p` as a little-endian number (the bytes after them not read). */
function loadShort(p: usize, length: i32): u64 {
  let word: u64 = 0;
  for (let i = length - 1; i >= 0; i--) word = (word << 8) | <u64>load<u8>(p + <usize>i);
  return word;
}

/** A hash of the length and the first and last 8 bytes: a hit is checked byte by byte anyway. */
function hashName(p: usize, length: i32): u32 {
  let first: u64;
  let last: u64;
  if (length >= 8) {
    first = load<u64>(p);
    last = load<u64>(p + <usize>length - 8);
  } else {
    first = loadShort(p, length);
    last = 0;
  }
  // Multiplicative mixing (64-bit odd constants), folded to 32 bits.
  const h = (first * 0x9e3779b97f4a7c15) ^ ((last ^ <u64>length) * 0xc2b2ae3d27d4eb4f);
  return <u32>(h >>> 32) ^ <u32>h;
}

function sameName(id: i32, p: usize, length: i32): bool {
  const stored = changetype<usize>(nameArena) + <usize>(id * MAX_NAME_BYTES);
  let k: i32 = 0;
  for (; k + 8 <= length; k += 8) if (load<u64>(stored + <usize>k) != load<u64>(p + <usize>k)) return false;
  for (; k < length; k++) if (load<u8>(stored + <usize>k) != load<u8>(p + <usize>k)) return false;
  return true;
}

/** The id of the name at [p, p + length), added when new; -1 when too long or the table is full. */
function intern(p: usize, length: i32): i32 {
  if (length > MAX_NAME_BYTES) return -1;
  const h = hashName(p, length);
  let slot = h & (NAME_SLOTS - 1);
  for (;;) {
    const entry = unchecked(nameSlots[slot]);
    if (entry == 0) break;
    const id = entry - 1;
    if (unchecked(nameHashes[id]) == h && unchecked(nameLengths[id]) == length && sameName(id, p, length)) return id;
    slot = (slot + 1) & (NAME_SLOTS - 1);
  }
  if (nameCount == MAX_NAMES) return -1;
  const id = nameCount++;
  memory.copy(changetype<usize>(nameArena) + <usize>(id * MAX_NAME_BYTES), p, <usize>length);
  unchecked(nameHashes[id] = h);
  unchecked(nameLengths[id] = length);
  unchecked(nameSlots[slot] = id + 1);
  return id;
}

/** The id of a fast line's plain (unescaped) string value, quotes at [at, end); -1 when absent or escaped. */
function internString(at: i32, end: i32, escapedBit: i32, escapes: i32): i32 {
  if (at < 0 || (escapes & escapedBit) != 0) return -1;
  return intern(bytesBase + <usize>at + 1, end - at - 2);
}

/** `YYYY-MM-DD` at `p`: digits and two dashes (as range-check.ts's isDayPrefix). */
function isDayPrefix(p: usize): bool {
  for (let i = 0; i < DAY_LENGTH; i++) {
    const c = byteAt(p + <usize>i);
    if (i == 4 || i == 7 ? c != MINUS : c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

function internNames(row: i32): void {
  const escapes = get(COL_ESCAPES, row);
  put(COL_ACTION_ID, row, internString(get(COL_ACTION_AT, row), get(COL_ACTION_END, row), ESCAPED_ACTION, escapes));
  put(COL_ACTOR_ID, row, internString(get(COL_ACTOR_AT, row), get(COL_ACTOR_END, row), ESCAPED_ACTOR, escapes));
  const tsAt = get(COL_TS_AT, row);
  let day = -1;
  if (tsAt >= 0 && (escapes & ESCAPED_TS) == 0 && get(COL_TS_END, row) - tsAt - 2 >= DAY_LENGTH && isDayPrefix(bytesBase + <usize>tsAt + 1)) {
    day = intern(bytesBase + <usize>tsAt + 1, DAY_LENGTH);
  }
  put(COL_DAY_ID, row, day);
}

/**
 * The 64 lowercase hex digits at `hex` (checked by the scanner) as 32 bytes
 * at `out`, 32 digits per step: each digit's value, then pairs of digits
 * (a 16-bit lane: high digit in its low byte) folded into one byte.
 */
function decodeHex64(hex: usize, out: usize): void {
  const zero = i8x16.splat(<i8>DIGIT_0);
  const nine = i8x16.splat(<i8>DIGIT_9);
  // 'a' - '0' - 10: what a letter's value needs subtracted beyond '0'.
  const letterGap = i8x16.splat(0x27);
  const lowByte = i16x8.splat(0xff);
  for (let k: usize = 0; k < 2; k++) {
    const a = v128.load(hex + (k << 5));
    const b = v128.load(hex + (k << 5) + 16);
    const va = i8x16.sub(i8x16.sub(a, zero), v128.and(i8x16.gt_u(a, nine), letterGap));
    const vb = i8x16.sub(i8x16.sub(b, zero), v128.and(i8x16.gt_u(b, nine), letterGap));
    const pa = v128.or(i16x8.shl(v128.and(va, lowByte), 4), i16x8.shr_u(va, 8));
    const pb = v128.or(i16x8.shl(v128.and(vb, lowByte), 4), i16x8.shr_u(vb, 8));
    v128.store(out + (k << 4), i8x16.narrow_i16x8_u(pa, pb));
  }
}

/** The fast row's unescaped prev_hash is the 64 hex digits of the earlier fast row's entry_hash. */
function linksTo(row: i32, earlier: i32): bool {
  const prevAt = get(COL_PREV_AT, row);
  if (prevAt < 0 || (get(COL_ESCAPES, row) & ESCAPED_PREV) != 0) return false;
  if (get(COL_PREV_END, row) - prevAt != HASH_HEX_DIGITS) return false;
  const a = bytesBase + <usize>prevAt;
  const b = bytesBase + <usize>get(COL_HASH_AT, earlier);
  for (let k: usize = 0; k < <usize>HASH_HEX_DIGITS; k += 16) {
    if (!i8x16.all_true(i8x16.eq(v128.load(a + k), v128.load(b + k)))) return false;
  }
  return true;
}
