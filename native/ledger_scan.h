/*
 * The ledger audit's line scanner and entry-hash check in C: the same
 * answers and columns as the WebAssembly scanner (assembly/ledger/scan.ts),
 * whose specification is src/formats/ledger-line-scan.ts, plus the SHA-256
 * of each canonical line without its entry_hash, compared with the hash the
 * line claims, in the same pass (nothing packed, nothing copied).
 *
 * Plain C over caller-owned memory, no N-API here: blux_native.c checks the
 * JavaScript arguments and calls ledger_scan_lines.
 */
#ifndef BLUX_LEDGER_SCAN_H
#define BLUX_LEDGER_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Column order of assembly/ledger/scan.ts (COL_*) and src/audit/wasm-scanner.ts (COLUMN_NAMES). */
enum {
  COL_START, COL_END, COL_KIND, COL_PACK_INDEX, COL_HASH_AT, COL_HASH_MEMBER_AT, COL_HASH_MEMBER_END, COL_PREV_AT,
  COL_PREV_END, COL_ACTION_AT, COL_ACTION_END, COL_ACTOR_AT, COL_ACTOR_END, COL_TS_AT, COL_TS_END, COL_SIG_MEMBER_AT,
  COL_SIG_MEMBER_END, COL_SIG_VALUE_AT, COL_ESCAPES, COL_LINKED, COL_OFFSETS, COL_CLAIMED_AT, COL_ACTION_ID,
  COL_ACTOR_ID, COL_DAY_ID, COL_MATCHED,
  LEDGER_SCAN_COLUMNS
};

/* The kinds of names a line is counted by (the runs' counts below say which). */
enum { NAME_KIND_ACTION, NAME_KIND_ACTOR, NAME_KIND_DAY, NAME_KINDS };

/* The interned-name table's bounds, as scan.ts's MAX_NAMES, NAME_SLOTS and MAX_NAME_BYTES. */
#define LEDGER_MAX_NAMES 4096
#define LEDGER_NAME_SLOTS 8192
#define LEDGER_MAX_NAME_BYTES 128

/*
 * Names interned across the calls of one scanner: the audit counts entries
 * per action, actor and day, and the same few names repeat on millions of
 * lines, so each line gets small ids and the JS side decodes each name once.
 */
typedef struct {
  /* Slot -> id + 1 (0: empty); open addressing, at most half full. */
  int32_t slots[LEDGER_NAME_SLOTS];
  uint32_t hashes[LEDGER_MAX_NAMES];
  int32_t lengths[LEDGER_MAX_NAMES];
  int32_t count;
  uint8_t arena[LEDGER_MAX_NAMES * LEDGER_MAX_NAME_BYTES];
  /* While a run is counted: where each name's triple is (index + 1; 0: not in the run yet). */
  int32_t run_triple[NAME_KINDS][LEDGER_MAX_NAMES];
} LedgerNames;

/*
 * Runs: stretches of a chunk the JS side may count in one step instead of
 * line by line. A run starts and ends on a fast line; every fast line in it
 * verified its entry_hash, has no `sig`, names its action, actor and day by
 * interned id (or lacks them), ends with "\n", and (after the first) links
 * to the fast line before it; only blank lines may sit between. The first
 * line's link is the JS side's to check, as for any line.
 *
 * A run is RUN_FIELDS ints; its counts are triples (NAME_KIND_*, id, count)
 * in the order the run first shows each name. LEDGER_RUN_INTS(rows) is the
 * room a call needs for `rows` lines: runs first, then the triples.
 */
enum { RUN_FIRST_ROW, RUN_LAST_ROW, RUN_ENTRIES, RUN_FIRST_TS_ROW, RUN_LAST_TS_ROW, RUN_COUNTS_START, RUN_COUNTS_END, RUN_FIELDS };
#define NAME_COUNT_FIELDS 3
#define LEDGER_RUN_INTS(rows) ((size_t)(rows) * (RUN_FIELDS + NAME_KINDS * NAME_COUNT_FIELDS))

typedef struct {
  int32_t rows;
  int32_t fast_rows;
  /* Bytes the rows cover (the rest starts the next chunk). */
  int32_t consumed;
  /* 0 when the last row has no "\n" (the end of the range). */
  int32_t last_terminated;
  int32_t runs;
} LedgerScanResult;

/*
 * Splits bytes[0, filled) into lines (at most `max_rows`) and fills the
 * columns for each: `columns` holds LEDGER_SCAN_COLUMNS arrays of
 * max_rows + 1 entries. A line without "\n" is taken only when `at_end`.
 * For each fast line, COL_MATCHED (by fast index) is 1 when the SHA-256 of
 * the line without its entry_hash member equals the hash it claims.
 * Then finds the runs (see above) into `runs`, LEDGER_RUN_INTS(max_rows)
 * ints. Reads only bytes[0, filled). Returns 0, or -1 when OpenSSL failed.
 * `filled` must be below 2^31.
 */
int ledger_scan_lines(const uint8_t *bytes, size_t filled, int at_end, int32_t *columns, int32_t max_rows,
                      LedgerNames *names, int32_t *runs, LedgerScanResult *result);

/* 1 when ledger_scan_lines hashes with the x86 SHA extensions (two lines at a time), 0 when with OpenSSL. */
int ledger_scan_uses_sha_ni(void);

#endif
