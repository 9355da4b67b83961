/**
 * The native addon's line scanner (native/ledger_scan.c) behind the
 * LineScanner interface (line-scanner.ts): one call per chunk splits it into
 * lines, scans them, hashes each canonical line without its entry_hash
 * against the hash it claims, and finds the runs the range check may count
 * in one step (line-scanner.ts), all in C. The chunk and
 * the columns are plain JavaScript memory the addon writes into; the names
 * it interns live in the addon (a table per scanner, freed with it).
 */
import { Buffer } from 'node:buffer';

import { BluxError } from '../errors.js';
import type { NativeAddon, NativeNames } from '../native/addon.js';
import { COLUMN_NAMES, RUN_INTS_PER_ROW, SCAN_ROWS, type LineColumns, type LineScanner, type ScannedLines } from './line-scanner.js';

export class NativeLineScanner implements LineScanner {
  readonly #addon: NativeAddon;
  readonly #names: NativeNames;
  /** Interned names by id, decoded once each (ids live as long as the scanner). */
  readonly #decoded: string[] = [];
  /** Every column, one after another (the layout ledger_scan.h reads). */
  readonly #table = new Int32Array(COLUMN_NAMES.length * (SCAN_ROWS + 1));
  readonly #columns: LineColumns;
  /** The last scan's runs and their name counts (line-scanner.ts's RunField). */
  readonly runs = new Int32Array(RUN_INTS_PER_ROW * SCAN_ROWS);
  /** [rows, fast rows, bytes consumed, last line terminated, runs] of the last scan. */
  readonly #result = new Int32Array(5);
  #bytes: Buffer = Buffer.alloc(0);

  constructor(addon: NativeAddon) {
    this.#addon = addon;
    this.#names = addon.createNames();
    const columns = {} as LineColumns;
    const stride = SCAN_ROWS + 1;
    COLUMN_NAMES.forEach((name, i) => (columns[name] = this.#table.subarray(i * stride, (i + 1) * stride)));
    this.#columns = columns;
  }

  get bytes(): Buffer {
    return this.#bytes;
  }

  get capacity(): number {
    return this.#bytes.length;
  }

  /** The chunk and the columns; the addon's name table (~0.6 MB) is not counted. */
  get memoryBytes(): number {
    return this.#bytes.length + this.#table.byteLength + this.runs.byteLength;
  }

  get columns(): LineColumns {
    return this.#columns;
  }

  /** A chunk buffer of at least `size` bytes: a new one (contents not kept) when the current one is smaller. */
  reserve(size: number): Buffer {
    // Not from Buffer's shared pool: the addon refuses a chunk that shares memory with anything it writes.
    if (size > this.#bytes.length) this.#bytes = Buffer.allocUnsafeSlow(size);
    return this.#bytes;
  }

  scan(filled: number, atEnd: boolean): ScannedLines {
    const result = this.#result;
    this.#addon.scanLines(this.#bytes, filled, atEnd, this.#table, SCAN_ROWS, this.#names, this.runs, result);
    return { rows: result[0]!, fastRows: result[1]!, consumed: result[2]!, lastTerminated: result[3] === 1, runs: result[4]! };
  }

  name(id: number): string {
    const decoded = this.#decoded;
    if (id >= decoded.length) {
      const count = this.#addon.nameCount(this.#names);
      if (id >= count) throw new BluxError('internal', `the native ledger scanner has no name with id ${id}`);
      for (let next = decoded.length; next < count; next++) decoded.push(this.#addon.nameOf(this.#names, next));
    }
    return decoded[id]!;
  }
}
