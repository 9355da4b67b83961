/**
 * The JS side of the WebAssembly line scanner (assembly/ledger/scan.ts):
 * one call splits a chunk into lines, decides for each whether it is exactly
 * canonical (the rules of src/formats/ledger-line-scan.ts, which stays the
 * reference), and for the canonical ones records the members the audit needs
 * and packs the bytes to hash (the line without entry_hash). What comes back
 * is a table of columns, typed-array views over the module's memory, so
 * nothing is decoded or allocated per line.
 *
 * One instance (own memory) per scanner: a range check awaits signature
 * verdicts between scanning a chunk and counting it, and another range
 * check on the same thread may scan meanwhile.
 */
import { Buffer } from 'node:buffer';

import { instantiateLedgerWasm } from './kernels.js';
import { BluxError } from '../errors.js';

/** The scanner's exports of assembly/ledger/index.ts. */
export interface ScanExports {
  memory: { readonly buffer: ArrayBuffer };
  scan_region(bytes: number, rows: number): number;
  scan_pack(): number;
  scan_columns(): number;
  scan_claimed(): number;
  scan_lines(filled: number, atEnd: number): number;
  scan_consumed(): number;
  scan_fast_rows(): number;
  scan_check(count: number): void;
  name_count(): number;
  name_arena(): number;
  name_length(id: number): number;
  scan_last_terminated(): number;
  scan_layout(): number;
}

export const enum LineKind { Blank = 0, Fast = 1, Slow = 2 }

/** Column order of scan.ts (COL_*). */
const COLUMN_NAMES = [
  'start', 'end', 'kind', 'packIndex', 'hashAt', 'hashMemberAt', 'hashMemberEnd', 'prevAt', 'prevEnd',
  'actionAt', 'actionEnd', 'actorAt', 'actorEnd', 'tsAt', 'tsEnd', 'sigMemberAt', 'sigMemberEnd', 'sigValueAt',
  'escapes', 'linked', 'offsets', 'claimedAt', 'actionId', 'actorId', 'dayId', 'matched',
] as const;

type ColumnName = (typeof COLUMN_NAMES)[number];

/**
 * The lines of one scan, by row (and, for `offsets` and `claimedAt`, by fast
 * index). Offsets are into `bytes`. For a fast line an `*At` of -1 means the
 * member is absent or not a string; `prevAt`/`prevEnd` exclude the quotes,
 * the other string columns include them.
 */
export type LineColumns = Record<ColumnName, Int32Array>;

/** Lines per scan call: ~2,500 lines of a 1 MiB chunk fit; shorter lines take more calls. */
export const SCAN_ROWS = 4096;
/** Distinct names the scanner interns (scan.ts MAX_NAMES): ids are below this. */
export const MAX_INTERNED_NAMES = 4096;
const DIGEST_BYTES = 32;
/** scan.ts MAX_NAME_BYTES: the arena's stride. */
const NAME_STRIDE = 128;

export interface ScannedLines {
  /** Rows scanned (lines, blank ones included). */
  rows: number;
  /** Fast rows: messages in `pack`. */
  fastRows: number;
  /** Bytes of the chunk the rows cover (the rest starts the next chunk). */
  consumed: number;
  /** False when the last row has no "\n" (the end of the range). */
  lastTerminated: boolean;
}

/** scan.ts's scan_layout(): its COLUMNS, MAX_NAMES and MAX_NAME_BYTES packed, as this module expects them. */
const EXPECTED_LAYOUT = (COLUMN_NAMES.length | (MAX_INTERNED_NAMES << 8) | (NAME_STRIDE << 24)) >>> 0;

export function checkedScanner(wasm: ScanExports): ScanExports {
  const layout = wasm.scan_layout() >>> 0;
  if (layout !== EXPECTED_LAYOUT) {
    throw new BluxError('internal', `the ledger scanner's layout ${layout.toString(16)} is not the one this build expects (${EXPECTED_LAYOUT.toString(16)}): rebuild (npm run build)`);
  }
  return wasm;
}

export class WasmLineScanner {
  readonly #wasm = checkedScanner(instantiateLedgerWasm() as ScanExports);
  #capacity = -1;
  #memory: ArrayBuffer | null = null;
  #bytes: Buffer = Buffer.alloc(0);
  #pack = new Uint8Array(0);
  #claimed = new Uint8Array(0);
  #columns = {} as LineColumns;
  /** Interned names by id, decoded once each (ids live as long as the instance). */
  readonly #names: string[] = [];

  /** The chunk buffer, in the module's memory (read into it directly): valid until the next `reserve`. */
  get bytes(): Buffer {
    return this.#bytes;
  }

  /** Bytes of the chunk buffer. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Size of the module's whole memory (it never shrinks): what this scanner holds. */
  get memoryBytes(): number {
    return this.#wasm.memory.buffer.byteLength;
  }

  /** The packed messages to hash (lines without entry_hash). */
  get pack(): Uint8Array {
    return this.#pack;
  }

  /** By fast index: the 32-byte digest each line claims (its entry_hash, decoded) at 32 i. */
  get claimedDigests(): Uint8Array {
    return this.#claimed;
  }

  get columns(): LineColumns {
    return this.#columns;
  }

  /** Makes room for a chunk of `size` bytes; returns where to put it. */
  reserve(size: number): Buffer {
    if (size > this.#capacity) {
      this.#capacity = size;
      this.#wasm.scan_region(size, SCAN_ROWS);
      this.#memory = null;
    }
    this.#refreshViews();
    return this.#bytes;
  }

  /** Scans the first `filled` bytes of the reserved chunk; a last line without "\n" counts only when `atEnd`. */
  scan(filled: number, atEnd: boolean): ScannedLines {
    const wasm = this.#wasm;
    const rows = wasm.scan_lines(filled, atEnd ? 1 : 0);
    return { rows, fastRows: wasm.scan_fast_rows(), consumed: wasm.scan_consumed(), lastTerminated: wasm.scan_last_terminated() === 1 };
  }

  /**
   * The wasm kernel in place: SHA-256 of the first `count` packed messages in
   * this module, each compared with the hex its line claims, into the
   * `matched` column (1 or 0).
   */
  checkInPlace(count: number): void {
    this.#wasm.scan_check(count);
  }

  /** The name with interned id `id` (an id from the actionId, actorId or dayId columns). */
  name(id: number): string {
    const names = this.#names;
    if (id >= names.length) {
      const wasm = this.#wasm;
      const memory = Buffer.from(wasm.memory.buffer);
      const arena = wasm.name_arena();
      for (let next = names.length, count = wasm.name_count(); next < count; next++) {
        const at = arena + next * NAME_STRIDE;
        names.push(memory.toString('latin1', at, at + wasm.name_length(next)));
      }
    }
    return names[id]!;
  }

  /** Views over the module's memory: taken again after it grew (growth detaches the old buffer). */
  #refreshViews(): void {
    const buffer = this.#wasm.memory.buffer;
    if (buffer === this.#memory) return;
    this.#memory = buffer;
    const wasm = this.#wasm;
    const bytesAt = wasm.scan_region(this.#capacity, SCAN_ROWS);
    this.#bytes = Buffer.from(buffer, bytesAt, this.#capacity);
    this.#pack = new Uint8Array(buffer, wasm.scan_pack(), this.#capacity);
    this.#claimed = new Uint8Array(buffer, wasm.scan_claimed(), (SCAN_ROWS + 1) * DIGEST_BYTES);
    const columnsAt = wasm.scan_columns();
    const stride = (SCAN_ROWS + 1) * Int32Array.BYTES_PER_ELEMENT;
    const columns = {} as LineColumns;
    COLUMN_NAMES.forEach((name, i) => (columns[name] = new Int32Array(buffer, columnsAt + i * stride, SCAN_ROWS + 1)));
    this.#columns = columns;
  }
}
