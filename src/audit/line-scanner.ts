/**
 * What the ledger audit's range check (range-check.ts) needs of a line
 * scanner: one call splits a chunk into lines, decides for each whether it
 * is exactly canonical (the rules of src/formats/ledger-line-scan.ts, which
 * stays the reference), records for the canonical ones the members the
 * audit needs, and checks their entry_hash (the SHA-256 of the line without
 * it). What comes back is a table of columns, typed-array views, so nothing
 * is decoded or allocated per line.
 *
 * Two implementations give the same columns (tests/ledger-audit-kernel.test.ts):
 * the WebAssembly scanner (wasm-scanner.ts, hashing with node:crypto or in
 * WebAssembly) and the native addon's (native-scanner.ts).
 */
import type { Buffer } from 'node:buffer';

export const enum LineKind { Blank = 0, Fast = 1, Slow = 2 }

/** Column order of assembly/ledger/scan.ts and native/ledger_scan.h (COL_*). */
export const COLUMN_NAMES = [
  'start', 'end', 'kind', 'packIndex', 'hashAt', 'hashMemberAt', 'hashMemberEnd', 'prevAt', 'prevEnd',
  'actionAt', 'actionEnd', 'actorAt', 'actorEnd', 'tsAt', 'tsEnd', 'sigMemberAt', 'sigMemberEnd', 'sigValueAt',
  'escapes', 'linked', 'offsets', 'claimedAt', 'actionId', 'actorId', 'dayId', 'matched',
] as const;

type ColumnName = (typeof COLUMN_NAMES)[number];

/**
 * The lines of one scan, by row (and, for `offsets`, `claimedAt` and
 * `matched`, by fast index: message i, the line without its entry_hash, is
 * `offsets[i + 1] - offsets[i]` bytes). Offsets are into `bytes`. For a
 * fast line an `*At` of -1 means the member is absent or not a string;
 * `prevAt`/`prevEnd` exclude the quotes, the other string columns include
 * them.
 */
export type LineColumns = Record<ColumnName, Int32Array>;

/** Lines per scan call: ~2,500 lines of a 1 MiB chunk fit; shorter lines take more calls. */
export const SCAN_ROWS = 4096;
/** Distinct names the scanner interns (scan.ts MAX_NAMES): ids are below this. */
export const MAX_INTERNED_NAMES = 4096;

/**
 * Runs (native/ledger_scan.h): stretches of a chunk whose fast lines all
 * verified, carry no `sig`, name their action, actor and day by interned id
 * and, after the first, link to the line before; only blank lines sit
 * between. The range check counts a run in one step instead of line by line
 * (the first line's link is still its to check). Each run is RUN_FIELDS
 * ints at RUN_FIELDS * index of the scanner's `runs`; its name counts are
 * triples (NameKind, id, count) at RUN_COUNTS_BASE + 3 * [countsStart, countsEnd).
 */
export const enum RunField { FirstRow = 0, LastRow = 1, Entries = 2, FirstTsRow = 3, LastTsRow = 4, CountsStart = 5, CountsEnd = 6 }
export const RUN_FIELDS = 7;
export const enum NameKind { Action = 0, Actor = 1, Day = 2 }
/** Ints of the runs table per row a scan may take: RUN_FIELDS, and 3 name-count triples. */
export const RUN_INTS_PER_ROW = RUN_FIELDS + 3 * 3;
/** Where the name-count triples start in the runs table. */
export const RUN_COUNTS_BASE = RUN_FIELDS * SCAN_ROWS;

export interface ScannedLines {
  /** Rows scanned (lines, blank ones included). */
  rows: number;
  /** Fast rows (canonical lines: their fast indexes are 0 .. fastRows - 1). */
  fastRows: number;
  /** Bytes of the chunk the rows cover (the rest starts the next chunk). */
  consumed: number;
  /** False when the last row has no "\n" (the end of the range). */
  lastTerminated: boolean;
  /** Runs found (in the scanner's `runs`); always 0 for a scanner that finds none (the WebAssembly one). */
  runs: number;
}

export interface LineScanner {
  /** The chunk buffer (read into it directly): valid until the next `reserve`. */
  readonly bytes: Buffer;
  /** Bytes of the chunk buffer. */
  readonly capacity: number;
  /** Memory this scanner holds (its chunk, columns and tables). */
  readonly memoryBytes: number;
  readonly columns: LineColumns;
  /** The last scan's runs (see RunField), when this scanner finds them. */
  readonly runs: Int32Array;
  /** Makes room for a chunk of `size` bytes; returns where to put it. */
  reserve(size: number): Buffer;
  /**
   * Scans the first `filled` bytes of the reserved chunk (a last line without
   * "\n" counts only when `atEnd`) and checks each fast line's entry_hash:
   * `columns.matched[i]` is 1 when fast line i's hash verified, else 0.
   */
  scan(filled: number, atEnd: boolean): ScannedLines;
  /** The name with interned id `id` (an id from the actionId, actorId or dayId columns). */
  name(id: number): string;
}
