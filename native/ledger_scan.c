/*
 * The ledger line scanner in C (see ledger_scan.h). It follows
 * assembly/ledger/scan.ts function by function; that file and its
 * specification, src/formats/ledger-line-scan.ts, explain the rules
 * (what "exactly canonical" means for a line Python's json.dumps wrote with
 * sort_keys and ensure_ascii). tests/ledger-audit-kernel.test.ts holds all
 * three to the same answers and columns.
 *
 * Every read stays inside [bytes, bytes + filled): the line being scanned
 * ends at its "\n" (or at `filled`), and each helper checks `line_end`
 * before it reads; the 16-byte SIMD loads run only while 16 bytes remain.
 */
#include "ledger_scan.h"
#include "sha256_ni.h"
#include "sha256_openssl.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif
#if defined(_MSC_VER)
#include <intrin.h>
#endif

/* Index of the lowest set bit of a non-zero word (GCC/Clang builtins; MSVC's bit scans). */
static inline unsigned trailing_zeros32(unsigned word) {
#if defined(_MSC_VER)
  unsigned long index;
  _BitScanForward(&index, word);
  return (unsigned)index;
#else
  return (unsigned)__builtin_ctz(word);
#endif
}

static inline size_t trailing_zeros64(uint64_t word) {
#if defined(_MSC_VER)
  unsigned long index;
  _BitScanForward64(&index, word);
  return (size_t)index;
#else
  return (size_t)__builtin_ctzll(word);
#endif
}

#if defined(_MSC_VER)
#define ATOMIC_LOAD(x) ((int)_InterlockedOr((volatile long *)&(x), 0))
#define ATOMIC_STORE(x, v) ((void)_InterlockedExchange((volatile long *)&(x), (long)(v)))
#else
#define ATOMIC_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ATOMIC_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif

#define QUOTE 0x22
#define BACKSLASH 0x5c
#define COMMA 0x2c
#define COLON 0x3a
#define OPEN_BRACE 0x7b
#define CLOSE_BRACE 0x7d
#define OPEN_BRACKET 0x5b
#define CLOSE_BRACKET 0x5d
#define MINUS 0x2d
#define DIGIT_0 0x30
#define DIGIT_9 0x39
#define NEWLINE 0x0a
/* ensure_ascii: only U+0020..U+007E appear unescaped. */
#define FIRST_PRINTABLE 0x20
#define LAST_PRINTABLE 0x7e
/* As the JS scanner: deeper values go to the slow path. */
#define MAX_SCAN_DEPTH 64
/* `"` + 64 lowercase hex digits + `"`. */
#define HASH_VALUE_BYTES 66
#define HASH_HEX_DIGITS 64
#define DAY_LENGTH 10

/* Line kinds, as range-check.ts's LineKind. */
#define KIND_BLANK 0
#define KIND_FAST 1
#define KIND_SLOW 2

/* Escape bits, as range-check.ts's ESCAPED_*. */
#define ESCAPED_PREV 1
#define ESCAPED_ACTION 2
#define ESCAPED_ACTOR 4
#define ESCAPED_TS 8
#define ESCAPED_SIG 16

/* The top-level members the audit needs. */
enum { SPAN_ENTRY_HASH, SPAN_PREV_HASH, SPAN_SIG, SPAN_ACTION, SPAN_ACTOR, SPAN_TS, SPANS };

/* Where each needed member of the line being scanned is (offsets from the chunk's start; -1 when absent). */
typedef struct {
  int32_t member_start[SPANS];
  int32_t member_end[SPANS];
  int32_t value_start[SPANS];
  /* The value's first byte (0 when absent). */
  uint8_t value_kind[SPANS];
  uint8_t value_escaped[SPANS];
} Spans;

/*
 * Longest line whose quotes are found by bitmask (see mark_plain_line):
 * a ledger line is ~400 bytes; longer lines take the byte-by-byte path.
 */
#define MASKED_LINE_BYTES 16384

typedef struct {
  const uint8_t *base;
  const uint8_t *line_start;
  const uint8_t *line_end;
  int last_string_escaped;
  /* The line has only printable ASCII and no backslash: every string ends at the next quote (quote_bits). */
  int plain_line;
  /* Bit i of word i / 64: byte i of the line is a quote (valid when plain_line). */
  uint64_t quote_bits[MASKED_LINE_BYTES / 64];
  Spans spans;
} Scan;

/* A byte a canonical string holds as itself: printable ASCII except `"` and `\`. */
static inline int is_plain_string_byte(uint8_t c) {
  return c >= FIRST_PRINTABLE && c <= LAST_PRINTABLE && c != QUOTE && c != BACKSLASH;
}

/* The first byte at or after `p` (before `end`) that is not a plain string byte, or `end`. */
static const uint8_t *skip_plain(const uint8_t *p, const uint8_t *end) {
#if defined(__SSE2__)
  /* Signed compares: bytes 0x80 and up are negative, so they fail "above 0x1f" as they should. */
  const __m128i below_printable = _mm_set1_epi8(FIRST_PRINTABLE - 1);
  const __m128i above_printable = _mm_set1_epi8(LAST_PRINTABLE + 1);
  const __m128i quote = _mm_set1_epi8(QUOTE);
  const __m128i backslash = _mm_set1_epi8(BACKSLASH);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    const __m128i printable = _mm_and_si128(_mm_cmpgt_epi8(v, below_printable), _mm_cmplt_epi8(v, above_printable));
    const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    const unsigned plain = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(special, printable));
    if (plain != 0xffff) return p + trailing_zeros32(~plain);
    p += 16;
  }
#endif
  while (p < end && is_plain_string_byte(*p)) p++;
  return p;
}

/*
 * Finds whether the line is plain (printable ASCII, no backslash), and if so
 * where its quotes are, 16 bytes at a time: in a plain line every string is
 * its quotes and the plain bytes between them, so scan_string only needs the
 * next quote. Same answers as the byte-by-byte path, which any other line takes.
 */
static void mark_plain_line(Scan *scan, const uint8_t *start, const uint8_t *end) {
  const size_t length = (size_t)(end - start);
  scan->plain_line = 0;
  if (length > MASKED_LINE_BYTES) return;
  memset(scan->quote_bits, 0, ((length + 63) / 64) * sizeof(uint64_t));
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i below_printable = _mm_set1_epi8(FIRST_PRINTABLE - 1);
  const __m128i above_printable = _mm_set1_epi8(LAST_PRINTABLE + 1);
  const __m128i quote = _mm_set1_epi8(QUOTE);
  const __m128i backslash = _mm_set1_epi8(BACKSLASH);
  uint64_t word = 0;
  for (; i + 16 <= length; i += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(start + i));
    const __m128i printable = _mm_and_si128(_mm_cmpgt_epi8(v, below_printable), _mm_cmplt_epi8(v, above_printable));
    if ((unsigned)_mm_movemask_epi8(_mm_andnot_si128(_mm_cmpeq_epi8(v, backslash), printable)) != 0xffff) return;
    word |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) << (i % 64);
    if (i % 64 == 48) {
      scan->quote_bits[i / 64] = word;
      word = 0;
    }
  }
  if (i % 64 != 0) scan->quote_bits[i / 64] = word;
#endif
  for (; i < length; i++) {
    const uint8_t c = start[i];
    if (c < FIRST_PRINTABLE || c > LAST_PRINTABLE || c == BACKSLASH) return;
    if (c == QUOTE) scan->quote_bits[i / 64] |= (uint64_t)1 << (i % 64);
  }
  scan->plain_line = 1;
}

/* In a plain line: the byte past the first quote at or after `p`, or NULL when there is none. */
static inline const uint8_t *next_quote(const Scan *scan, const uint8_t *p) {
  const size_t length = (size_t)(scan->line_end - scan->line_start);
  size_t i = (size_t)(p - scan->line_start);
  if (i >= length) return NULL;
  size_t word = i / 64;
  uint64_t bits = scan->quote_bits[word] & (~(uint64_t)0 << (i % 64));
  const size_t words = (length + 63) / 64;
  while (bits == 0) {
    if (++word >= words) return NULL;
    bits = scan->quote_bits[word];
  }
  return scan->line_start + word * 64 + trailing_zeros64(bits) + 1;
}

/* Python writes `\uXXXX` only for control characters without a short escape and for U+007F and above; surrogates go to the slow path. */
static int is_canonical_unicode_escape(int32_t unit) {
  if (unit < 0) return 0;
  if (unit < FIRST_PRINTABLE) return !(unit == 0x08 || unit == 0x09 || unit == 0x0a || unit == 0x0c || unit == 0x0d);
  if (unit <= LAST_PRINTABLE) return 0;
  return unit < 0xd800 || unit > 0xdfff;
}

static inline int is_short_escape_letter(uint8_t c) {
  return c == QUOTE || c == BACKSLASH || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't';
}

/* The code unit of 4 lowercase hex digits at `p`, or -1. */
static int32_t lowercase_hex4(const Scan *scan, const uint8_t *p) {
  if (scan->line_end - p < 4) return -1;
  int32_t unit = 0;
  for (int i = 0; i < 4; i++) {
    const uint8_t c = p[i];
    int32_t digit;
    if (c >= DIGIT_0 && c <= DIGIT_9) digit = c - DIGIT_0;
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

/* A string exactly as ensure_ascii writes it, opening quote at `at`; returns the byte past it or NULL. */
static const uint8_t *scan_string(Scan *scan, const uint8_t *at) {
  if (scan->plain_line) {
    scan->last_string_escaped = 0;
    return next_quote(scan, at + 1);
  }
  const uint8_t *end = scan->line_end;
  int escaped = 0;
  const uint8_t *p = at + 1;
  while (p < end) {
    p = skip_plain(p, end);
    if (p >= end) return NULL;
    const uint8_t c = *p;
    if (c == QUOTE) {
      scan->last_string_escaped = escaped;
      return p + 1;
    }
    if (c != BACKSLASH || end - p < 2) return NULL;
    escaped = 1;
    const uint8_t letter = p[1];
    if (letter == 'u') {
      if (!is_canonical_unicode_escape(lowercase_hex4(scan, p + 2))) return NULL;
      p += 6;
    } else if (is_short_escape_letter(letter)) {
      p += 2;
    } else {
      return NULL;
    }
  }
  return NULL;
}

static inline const uint8_t *scan_literal(const Scan *scan, const uint8_t *at, const char *word, size_t length) {
  if ((size_t)(scan->line_end - at) < length || memcmp(at, word, length) != 0) return NULL;
  return at + length;
}

/* Integers as Python's int prints them: no leading zero, no `-0`, no fraction or exponent. */
static const uint8_t *scan_integer(const Scan *scan, const uint8_t *at) {
  const uint8_t *end = scan->line_end;
  const uint8_t *p = at;
  if (*p == MINUS) p++;
  if (p >= end) return NULL;
  const uint8_t first = *p;
  if (first < DIGIT_0 || first > DIGIT_9) return NULL;
  if (first == DIGIT_0) {
    if (p != at) return NULL;
    p++;
  } else {
    while (p < end && *p >= DIGIT_0 && *p <= DIGIT_9) p++;
  }
  /* At the line's end the caller fails the value anyway (a value never ends a line). */
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return NULL;
  return p;
}

static const uint8_t *scan_object(Scan *scan, const uint8_t *at, int depth, int top);
static const uint8_t *scan_array(Scan *scan, const uint8_t *at, int depth);

static const uint8_t *scan_value(Scan *scan, const uint8_t *at, int depth) {
  if (at >= scan->line_end) return NULL;
  const uint8_t c = *at;
  if (c == QUOTE) return scan_string(scan, at);
  if (c == OPEN_BRACE) return scan_object(scan, at, depth + 1, 0);
  if (c == OPEN_BRACKET) return scan_array(scan, at, depth + 1);
  if (c == 't') return scan_literal(scan, at, "true", 4);
  if (c == 'f') return scan_literal(scan, at, "false", 5);
  if (c == 'n') return scan_literal(scan, at, "null", 4);
  if (c == MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return scan_integer(scan, at);
  return NULL;
}

static const uint8_t *scan_array(Scan *scan, const uint8_t *at, int depth) {
  if (depth > MAX_SCAN_DEPTH) return NULL;
  const uint8_t *p = at + 1;
  if (p < scan->line_end && *p == CLOSE_BRACKET) return p + 1;
  for (;;) {
    p = scan_value(scan, p, depth);
    if (p == NULL || p >= scan->line_end) return NULL;
    if (*p == CLOSE_BRACKET) return p + 1;
    if (*p != COMMA) return NULL;
    p++;
  }
}

/* Byte order of two keys (memcmp, then length), as the JS scanner's compareBytes. */
static int compare_keys(const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length) {
  /* A loop, not memcmp: keys are a few bytes and a library call per key cost more than the compare. */
  const size_t length = a_length < b_length ? a_length : b_length;
  for (size_t k = 0; k < length; k++) {
    if (a[k] != b[k]) return (int)a[k] - (int)b[k];
  }
  return a_length < b_length ? -1 : a_length > b_length ? 1 : 0;
}

/* The span for a top-level key (its bytes without quotes), or -1: the length picks the one candidate. */
static int span_for(const uint8_t *key, size_t length) {
  switch (length) {
    case 2: return memcmp(key, "ts", 2) == 0 ? SPAN_TS : -1;
    case 3: return memcmp(key, "sig", 3) == 0 ? SPAN_SIG : -1;
    case 5: return memcmp(key, "actor", 5) == 0 ? SPAN_ACTOR : -1;
    case 6: return memcmp(key, "action", 6) == 0 ? SPAN_ACTION : -1;
    case 9: return memcmp(key, "prev_hash", 9) == 0 ? SPAN_PREV_HASH : -1;
    case 10: return memcmp(key, "entry_hash", 10) == 0 ? SPAN_ENTRY_HASH : -1;
    default: return -1;
  }
}

static void record(Scan *scan, const uint8_t *key_from, const uint8_t *key_to, const uint8_t *value_at, const uint8_t *value_end) {
  const int span = span_for(key_from, (size_t)(key_to - key_from));
  if (span < 0) return;
  Spans *s = &scan->spans;
  const uint8_t kind = *value_at;
  s->member_start[span] = (int32_t)(key_from - 1 - scan->base);
  s->member_end[span] = (int32_t)(value_end - scan->base);
  s->value_start[span] = (int32_t)(value_at - scan->base);
  s->value_kind[span] = kind;
  s->value_escaped[span] = kind == QUOTE && scan->last_string_escaped;
}

/* Keys must be escape-free and strictly increasing (sorted, no duplicates). */
static const uint8_t *scan_object(Scan *scan, const uint8_t *at, int depth, int top) {
  if (depth > MAX_SCAN_DEPTH) return NULL;
  const uint8_t *end = scan->line_end;
  const uint8_t *p = at + 1;
  if (p < end && *p == CLOSE_BRACE) return p + 1;
  const uint8_t *previous_key = NULL;
  size_t previous_key_length = 0;
  for (;;) {
    if (p >= end || *p != QUOTE) return NULL;
    const uint8_t *key_start = p;
    const uint8_t *key_end = scan_string(scan, p);
    if (key_end == NULL || scan->last_string_escaped) return NULL;
    const size_t key_length = (size_t)(key_end - key_start) - 2;
    if (previous_key != NULL && compare_keys(previous_key, previous_key_length, key_start + 1, key_length) >= 0) return NULL;
    if (key_end >= end || *key_end != COLON) return NULL;
    const uint8_t *value_at = key_end + 1;
    const uint8_t *value_end = scan_value(scan, value_at, depth);
    if (value_end == NULL || value_end >= end) return NULL;
    if (top) record(scan, key_start + 1, key_end - 1, value_at, value_end);
    previous_key = key_start + 1;
    previous_key_length = key_length;
    if (*value_end == CLOSE_BRACE) return value_end + 1;
    if (*value_end != COMMA) return NULL;
    p = value_end + 1;
  }
}

/* 64 lowercase hex digits at `p` (the caller checked they are inside the line). */
static int is_lower_hex64(const uint8_t *p) {
#if defined(__SSE2__)
  const __m128i below_zero = _mm_set1_epi8(DIGIT_0 - 1);
  const __m128i above_nine = _mm_set1_epi8(DIGIT_9 + 1);
  const __m128i below_a = _mm_set1_epi8('a' - 1);
  const __m128i above_f = _mm_set1_epi8('f' + 1);
  for (int k = 0; k < HASH_HEX_DIGITS; k += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(p + k));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, below_zero), _mm_cmplt_epi8(v, above_nine));
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(v, below_a), _mm_cmplt_epi8(v, above_f));
    if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xffff) return 0;
  }
  return 1;
#else
  for (int k = 0; k < HASH_HEX_DIGITS; k++) {
    if (!((p[k] >= DIGIT_0 && p[k] <= DIGIT_9) || (p[k] >= 'a' && p[k] <= 'f'))) return 0;
  }
  return 1;
#endif
}

static int has_usable_hashes(const Scan *scan) {
  const Spans *s = &scan->spans;
  if (s->value_kind[SPAN_ENTRY_HASH] != QUOTE || s->value_escaped[SPAN_ENTRY_HASH]) return 0;
  const int32_t at = s->value_start[SPAN_ENTRY_HASH];
  if (s->member_end[SPAN_ENTRY_HASH] - at != HASH_VALUE_BYTES) return 0;
  if (!is_lower_hex64(scan->base + at + 1)) return 0;
  const uint8_t prev_kind = s->value_kind[SPAN_PREV_HASH];
  return prev_kind == QUOTE || prev_kind == 'n';
}

/* The JS scanner's `scan`: true when [start, end) is a canonical object with usable entry_hash and prev_hash. */
static int scan_line(Scan *scan, const uint8_t *start, const uint8_t *end) {
  scan->line_end = end;
  Spans *s = &scan->spans;
  for (int k = 0; k < SPANS; k++) {
    s->member_start[k] = -1;
    s->member_end[k] = -1;
    s->value_start[k] = -1;
    s->value_kind[k] = 0;
    s->value_escaped[k] = 0;
  }
  if (end - start < 2 || *start != OPEN_BRACE) return 0;
  scan->line_start = start;
  mark_plain_line(scan, start, end);
  if (scan_object(scan, start, 0, 1) != end) return 0;
  return has_usable_hashes(scan);
}

/* Every byte is one of the ASCII blanks the sequential reader skips (space, tab, CR, VT, FF); empty counts. */
static int is_ascii_blank(const uint8_t *p, const uint8_t *end) {
  for (; p < end; p++) {
    const uint8_t c = *p;
    if (c != 0x20 && c != 0x09 && c != 0x0d && c != 0x0b && c != 0x0c) return 0;
  }
  return 1;
}

// ---------------------------------------------------------------------------
// Interned names (scan.ts's intern): ids in first-seen order, bounded
// ---------------------------------------------------------------------------

/* A hash of the length and the first and last 8 bytes: a hit is checked byte by byte anyway. */
static uint32_t hash_name(const uint8_t *p, int32_t length) {
  uint64_t first = 0, last = 0;
  if (length >= 8) {
    memcpy(&first, p, 8);
    memcpy(&last, p + length - 8, 8);
  } else {
    for (int32_t i = length - 1; i >= 0; i--) first = (first << 8) | p[i];
  }
  /* Multiplicative mixing (64-bit odd constants), folded to 32 bits. */
  const uint64_t h = (first * 0x9e3779b97f4a7c15ULL) ^ ((last ^ (uint64_t)length) * 0xc2b2ae3d27d4eb4fULL);
  return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The id of the name at [p, p + length), added when new; -1 when too long or the table is full. */
static int32_t intern(LedgerNames *names, const uint8_t *p, int32_t length) {
  if (length > LEDGER_MAX_NAME_BYTES) return -1;
  const uint32_t h = hash_name(p, length);
  uint32_t slot = h & (LEDGER_NAME_SLOTS - 1);
  for (;;) {
    const int32_t entry = names->slots[slot];
    if (entry == 0) break;
    const int32_t id = entry - 1;
    if (names->hashes[id] == h && names->lengths[id] == length && memcmp(names->arena + (size_t)id * LEDGER_MAX_NAME_BYTES, p, (size_t)length) == 0) return id;
    slot = (slot + 1) & (LEDGER_NAME_SLOTS - 1);
  }
  if (names->count >= LEDGER_MAX_NAMES) return -1;
  const int32_t id = names->count++;
  memcpy(names->arena + (size_t)id * LEDGER_MAX_NAME_BYTES, p, (size_t)length);
  names->hashes[id] = h;
  names->lengths[id] = length;
  names->slots[slot] = id + 1;
  return id;
}

/* `YYYY-MM-DD` at `p`: digits and two dashes (as range-check.ts's isDayPrefix). */
static int is_day_prefix(const uint8_t *p) {
  for (int i = 0; i < DAY_LENGTH; i++) {
    const uint8_t c = p[i];
    if (i == 4 || i == 7 ? c != MINUS : c < DIGIT_0 || c > DIGIT_9) return 0;
  }
  return 1;
}

/* The id of a plain (unescaped) string value, quotes included in [at, end); -1 when absent or escaped. */
static int32_t intern_string(LedgerNames *names, const uint8_t *base, const Spans *s, int span) {
  if (s->value_kind[span] != QUOTE || s->value_escaped[span]) return -1;
  const int32_t at = s->value_start[span];
  return intern(names, base + at + 1, s->member_end[span] - at - 2);
}

// ---------------------------------------------------------------------------
// Lines of a chunk
// ---------------------------------------------------------------------------

typedef struct {
  int32_t *columns;
  size_t stride;
} Columns;

static inline void put(const Columns *c, int column, int32_t row, int32_t value) {
  c->columns[(size_t)column * c->stride + (size_t)row] = value;
}

static inline int32_t get(const Columns *c, int column, int32_t row) {
  return c->columns[(size_t)column * c->stride + (size_t)row];
}

static inline int32_t string_start(const Spans *s, int span) {
  return s->value_kind[span] == QUOTE ? s->value_start[span] : -1;
}

static void record_row(const Columns *c, const Spans *s, int32_t row, int32_t fast) {
  put(c, COL_PACK_INDEX, row, fast);
  put(c, COL_HASH_AT, row, s->value_start[SPAN_ENTRY_HASH] + 1);
  put(c, COL_HASH_MEMBER_AT, row, s->member_start[SPAN_ENTRY_HASH]);
  put(c, COL_HASH_MEMBER_END, row, s->member_end[SPAN_ENTRY_HASH]);
  put(c, COL_PREV_AT, row, s->value_kind[SPAN_PREV_HASH] == QUOTE ? s->value_start[SPAN_PREV_HASH] + 1 : -1);
  put(c, COL_PREV_END, row, s->member_end[SPAN_PREV_HASH] - 1);
  put(c, COL_ACTION_AT, row, string_start(s, SPAN_ACTION));
  put(c, COL_ACTION_END, row, s->member_end[SPAN_ACTION]);
  put(c, COL_ACTOR_AT, row, string_start(s, SPAN_ACTOR));
  put(c, COL_ACTOR_END, row, s->member_end[SPAN_ACTOR]);
  put(c, COL_TS_AT, row, string_start(s, SPAN_TS));
  put(c, COL_TS_END, row, s->member_end[SPAN_TS]);
  put(c, COL_SIG_MEMBER_AT, row, s->member_start[SPAN_SIG]);
  put(c, COL_SIG_MEMBER_END, row, s->member_end[SPAN_SIG]);
  put(c, COL_SIG_VALUE_AT, row, string_start(s, SPAN_SIG));
  /* `escaped` is only ever set on string values. */
  put(c, COL_ESCAPES, row,
      (s->value_escaped[SPAN_PREV_HASH] ? ESCAPED_PREV : 0) | (s->value_escaped[SPAN_ACTION] ? ESCAPED_ACTION : 0) |
      (s->value_escaped[SPAN_ACTOR] ? ESCAPED_ACTOR : 0) | (s->value_escaped[SPAN_TS] ? ESCAPED_TS : 0) |
      (s->value_escaped[SPAN_SIG] ? ESCAPED_SIG : 0));
}

static void intern_names(const Columns *c, const Spans *s, const uint8_t *base, LedgerNames *names, int32_t row) {
  put(c, COL_ACTION_ID, row, intern_string(names, base, s, SPAN_ACTION));
  put(c, COL_ACTOR_ID, row, intern_string(names, base, s, SPAN_ACTOR));
  int32_t day = -1;
  if (s->value_kind[SPAN_TS] == QUOTE && !s->value_escaped[SPAN_TS]) {
    const int32_t ts_at = s->value_start[SPAN_TS];
    if (s->member_end[SPAN_TS] - ts_at - 2 >= DAY_LENGTH && is_day_prefix(base + ts_at + 1)) day = intern(names, base + ts_at + 1, DAY_LENGTH);
  }
  put(c, COL_DAY_ID, row, day);
}

/* The fast row's unescaped prev_hash is the 64 hex digits of the earlier fast row's entry_hash. */
static int links_to(const Columns *c, const uint8_t *base, int32_t row, int32_t earlier) {
  const int32_t prev_at = get(c, COL_PREV_AT, row);
  if (prev_at < 0 || (get(c, COL_ESCAPES, row) & ESCAPED_PREV) != 0) return 0;
  if (get(c, COL_PREV_END, row) - prev_at != HASH_HEX_DIGITS) return 0;
  return memcmp(base + prev_at, base + get(c, COL_HASH_AT, earlier), HASH_HEX_DIGITS) == 0;
}

/* The digest equals the 64 lowercase hex digits at `hex`. */
static int digest_equals_hex(const uint8_t digest[SHA256_DIGEST_BYTES], const uint8_t *hex) {
#if defined(__SSE2__)
  /* 16 digest bytes at a time: split into nibbles (high first), then '0' + n, plus 'a' - '0' - 10 where n > 9. */
  const __m128i low_nibble = _mm_set1_epi8(0x0f);
  const __m128i nine = _mm_set1_epi8(9);
  const __m128i zero_digit = _mm_set1_epi8(DIGIT_0);
  const __m128i letter_gap = _mm_set1_epi8('a' - DIGIT_0 - 10);
  for (int k = 0; k < SHA256_DIGEST_BYTES; k += 16) {
    const __m128i d = _mm_loadu_si128((const __m128i *)(digest + k));
    const __m128i high = _mm_and_si128(_mm_srli_epi16(d, 4), low_nibble);
    const __m128i low = _mm_and_si128(d, low_nibble);
    const __m128i first = _mm_unpacklo_epi8(high, low);
    const __m128i second = _mm_unpackhi_epi8(high, low);
    const __m128i first_text = _mm_add_epi8(_mm_add_epi8(first, zero_digit), _mm_and_si128(_mm_cmpgt_epi8(first, nine), letter_gap));
    const __m128i second_text = _mm_add_epi8(_mm_add_epi8(second, zero_digit), _mm_and_si128(_mm_cmpgt_epi8(second, nine), letter_gap));
    const __m128i same = _mm_and_si128(_mm_cmpeq_epi8(first_text, _mm_loadu_si128((const __m128i *)(hex + 2 * k))),
                                       _mm_cmpeq_epi8(second_text, _mm_loadu_si128((const __m128i *)(hex + 2 * k + 16))));
    if (_mm_movemask_epi8(same) != 0xffff) return 0;
  }
  return 1;
#else
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < SHA256_DIGEST_BYTES; i++) {
    if (hex[2 * i] != (uint8_t)digits[digest[i] >> 4] || hex[2 * i + 1] != (uint8_t)digits[digest[i] & 15]) return 0;
  }
  return 1;
#endif
}

/*
 * The bytes a line's entry_hash covers: the line without its entry_hash
 * member and one comma (scan.ts's cutEntryHash: `{..."x":1,"entry_hash":"..",...}`
 * loses `"entry_hash":"..",`, or the comma before it when it is last), as the
 * two pieces around the cut, hashed in place.
 */
static Sha256Message message_of(const uint8_t *start, const uint8_t *end, const uint8_t *cut_start, const uint8_t *cut_end) {
  const uint8_t *from = cut_end;
  size_t before = (size_t)(cut_start - start);
  if (*cut_end == COMMA) from++; /* a member follows: its comma goes */
  else if (cut_start[-1] == COMMA) before--; /* the last member: the comma before it goes */
  Sha256Message message = { start, before, from, (size_t)(end - from) };
  return message;
}

static size_t message_length(const Sha256Message *m) {
  return m->first_length + m->second_length;
}

/* Fast line `row`'s message, from the columns the scan filled. */
static Sha256Message message_of_row(const Columns *c, const uint8_t *bytes, int32_t row) {
  return message_of(bytes + get(c, COL_START, row), bytes + get(c, COL_END, row), bytes + get(c, COL_HASH_MEMBER_AT, row),
                    bytes + get(c, COL_HASH_MEMBER_END, row));
}

/* Sets COL_MATCHED of fast line `row`: its digest against the hex it claims. */
static void record_match(const Columns *c, const uint8_t *bytes, int32_t row, const uint8_t digest[SHA256_DIGEST_BYTES]) {
  put(c, COL_MATCHED, get(c, COL_PACK_INDEX, row), digest_equals_hex(digest, bytes + get(c, COL_HASH_AT, row)));
}

/*
 * The hash check of every fast line of the scan: two at a time with the SHA
 * extensions where the CPU has them (sha256_ni.h), else (and for a message
 * too long for them) one at a time with OpenSSL. Returns -1 when OpenSSL failed.
 */
/* OpenSSL's state, set up at the first message that needs it (with the SHA extensions, most calls never do). */
typedef struct {
  Sha256State state;
  int ready;
} LazySha256;

static int openssl_sha256(LazySha256 *sha, const Sha256Message *m, uint8_t digest[SHA256_DIGEST_BYTES]) {
  if (!sha->ready) {
    if (!sha256_begin(&sha->state)) return 0;
    sha->ready = 1;
  }
  return sha256_of_two(&sha->state, m->first, m->first_length, m->second, m->second_length, digest);
}

static int check_entry_hashes(const Columns *c, const uint8_t *bytes, int32_t rows, int use_sha_ni) {
  LazySha256 sha;
  memset(&sha, 0, sizeof(sha));
  int status = 0;
  int32_t waiting = -1; /* a fast row whose message waits for a partner */
  uint8_t digest[SHA256_DIGEST_BYTES], partner_digest[SHA256_DIGEST_BYTES];
  for (int32_t row = 0; row < rows && status == 0; row++) {
    if (get(c, COL_KIND, row) != KIND_FAST) continue;
    const Sha256Message message = message_of_row(c, bytes, row);
    if (use_sha_ni && message_length(&message) <= SHA256_NI_MAX_MESSAGE_BYTES) {
      if (waiting < 0) {
        waiting = row;
        continue;
      }
      const Sha256Message partner = message_of_row(c, bytes, waiting);
      sha256_ni_pair(&partner, &message, partner_digest, digest);
      record_match(c, bytes, waiting, partner_digest);
      record_match(c, bytes, row, digest);
      waiting = -1;
    } else if (openssl_sha256(&sha, &message, digest)) {
      record_match(c, bytes, row, digest);
    } else {
      status = -1;
    }
  }
  if (status == 0 && waiting >= 0) {
    const Sha256Message last = message_of_row(c, bytes, waiting);
    if (openssl_sha256(&sha, &last, digest)) record_match(c, bytes, waiting, digest);
    else status = -1;
  }
  /* Also after a failed set-up: the EVP free functions take NULL, and sha256_begin assigned both pointers. */
  if (sha.ready || status != 0) sha256_end(&sha.state);
  return status;
}

/*
 * Whether to hash with the SHA extensions: when the CPU has them, unless
 * BLUX_REG_SHA_NI=off (so the OpenSSL path can be tested and compared on
 * any machine). Decided once per process; threads racing to decide the
 * same value is why the load and store are atomic.
 */
static int sha_ni_usable(void) {
  static int known = -1;
  int value = ATOMIC_LOAD(known);
  if (value < 0) {
    const char *setting = getenv("BLUX_REG_SHA_NI");
    value = setting != NULL && strcmp(setting, "off") == 0 ? 0 : sha256_ni_available();
    ATOMIC_STORE(known, value);
  }
  return value;
}

/* A fast line the JS side may count within a run: verified, unsigned, every name by id (see ledger_scan.h). */
static int is_run_line(const Columns *c, int32_t row) {
  if (get(c, COL_KIND, row) != KIND_FAST || get(c, COL_MATCHED, get(c, COL_PACK_INDEX, row)) != 1) return 0;
  if (get(c, COL_SIG_MEMBER_AT, row) != -1) return 0;
  if (get(c, COL_ACTION_ID, row) == -1 && get(c, COL_ACTION_AT, row) != -1) return 0;
  if (get(c, COL_ACTOR_ID, row) == -1 && get(c, COL_ACTOR_AT, row) != -1) return 0;
  return get(c, COL_DAY_ID, row) != -1 || get(c, COL_TS_AT, row) == -1;
}

/* Adds one line's name `id` of `kind` to the run's triples (a new triple the first time the run shows it). */
static void count_in_run(LedgerNames *names, int32_t *triples, int32_t *used, int kind, int32_t id) {
  if (id < 0) return;
  int32_t *slot = &names->run_triple[kind][id];
  if (*slot == 0) {
    int32_t *t = triples + (size_t)*used * NAME_COUNT_FIELDS;
    t[0] = kind;
    t[1] = id;
    t[2] = 0;
    *slot = ++*used;
  }
  triples[(size_t)(*slot - 1) * NAME_COUNT_FIELDS + 2]++;
}

/* The chunk's runs (ledger_scan.h) into `runs`; returns how many. */
static int32_t find_runs(const Columns *c, int32_t rows, int last_terminated, LedgerNames *names, int32_t *runs, int32_t max_rows) {
  int32_t *triples = runs + (size_t)max_rows * RUN_FIELDS;
  int32_t run_count = 0, used = 0;
  /* The last row without "\n" is the JS side's (a torn line). */
  const int32_t usable = last_terminated ? rows : rows - 1;
  int32_t row = 0;
  while (row < usable) {
    if (!is_run_line(c, row)) {
      row++;
      continue;
    }
    int32_t *run = runs + (size_t)run_count * RUN_FIELDS;
    run[RUN_FIRST_ROW] = row;
    run[RUN_FIRST_TS_ROW] = -1;
    run[RUN_LAST_TS_ROW] = -1;
    run[RUN_COUNTS_START] = used;
    int32_t entries = 0, last = row;
    for (int32_t next = row; next < usable; next++) {
      if (get(c, COL_KIND, next) == KIND_BLANK) continue;
      /* Past the first line, a line joins only if it links to the one before. */
      if (next != row && (!is_run_line(c, next) || get(c, COL_LINKED, next) != 1)) break;
      entries++;
      last = next;
      count_in_run(names, triples, &used, NAME_KIND_ACTION, get(c, COL_ACTION_ID, next));
      count_in_run(names, triples, &used, NAME_KIND_ACTOR, get(c, COL_ACTOR_ID, next));
      count_in_run(names, triples, &used, NAME_KIND_DAY, get(c, COL_DAY_ID, next));
      if (get(c, COL_TS_AT, next) != -1) {
        if (run[RUN_FIRST_TS_ROW] == -1) run[RUN_FIRST_TS_ROW] = next;
        run[RUN_LAST_TS_ROW] = next;
      }
    }
    run[RUN_LAST_ROW] = last;
    run[RUN_ENTRIES] = entries;
    run[RUN_COUNTS_END] = used;
    /* Ready for the next run: forget where this run's names were. */
    for (int32_t t = run[RUN_COUNTS_START]; t < used; t++) {
      names->run_triple[triples[(size_t)t * NAME_COUNT_FIELDS]][triples[(size_t)t * NAME_COUNT_FIELDS + 1]] = 0;
    }
    run_count++;
    row = last + 1;
  }
  return run_count;
}

int ledger_scan_uses_sha_ni(void) {
  return sha_ni_usable();
}

int ledger_scan_lines(const uint8_t *bytes, size_t filled, int at_end, int32_t *columns, int32_t max_rows,
                      LedgerNames *names, int32_t *runs, LedgerScanResult *result) {
  const Columns c = { columns, (size_t)max_rows + 1 };
  Scan scan;
  scan.base = bytes;
  scan.last_string_escaped = 0;
  const uint8_t *end = bytes + filled;
  const uint8_t *p = bytes;
  int32_t rows = 0, fast = 0, packed = 0, previous_non_blank = -1;
  result->last_terminated = 1;
  while (rows < max_rows && p < end) {
    const uint8_t *newline = memchr(p, NEWLINE, (size_t)(end - p));
    const uint8_t *line_stop = newline != NULL ? newline : end;
    const uint8_t *next;
    if (newline != NULL) next = newline + 1;
    else if (at_end) {
      next = end;
      result->last_terminated = 0;
    } else break;
    const int32_t row = rows++;
    put(&c, COL_START, row, (int32_t)(p - bytes));
    put(&c, COL_END, row, (int32_t)(line_stop - bytes));
    put(&c, COL_LINKED, row, 0);
    if (is_ascii_blank(p, line_stop)) {
      put(&c, COL_KIND, row, KIND_BLANK);
    } else if (!scan_line(&scan, p, line_stop)) {
      put(&c, COL_KIND, row, KIND_SLOW);
      previous_non_blank = row;
    } else {
      const Spans *s = &scan.spans;
      put(&c, COL_KIND, row, KIND_FAST);
      record_row(&c, s, row, fast);
      intern_names(&c, s, bytes, names, row);
      const int32_t hash_at = s->value_start[SPAN_ENTRY_HASH] + 1;
      put(&c, COL_OFFSETS, fast, packed);
      put(&c, COL_CLAIMED_AT, fast, hash_at);
      const Sha256Message message = message_of(p, line_stop, bytes + s->member_start[SPAN_ENTRY_HASH], bytes + s->member_end[SPAN_ENTRY_HASH]);
      packed += (int32_t)message_length(&message);
      if (previous_non_blank >= 0 && get(&c, COL_KIND, previous_non_blank) == KIND_FAST) {
        put(&c, COL_LINKED, row, links_to(&c, bytes, row, previous_non_blank));
      }
      fast++;
      previous_non_blank = row;
    }
    p = next;
  }
  put(&c, COL_OFFSETS, fast, packed);
  result->rows = rows;
  result->fast_rows = fast;
  result->consumed = (int32_t)(p - bytes);
  if (check_entry_hashes(&c, bytes, rows, sha_ni_usable()) != 0) return -1;
  result->runs = find_runs(&c, rows, result->last_terminated, names, runs, max_rows);
  return 0;
}
