/**
 * The WebAssembly line scanner (assembly/ledger/scan.ts) behind the
 * LineScanner interface (line-scanner.ts): one call splits a chunk into
 * lines and, for the canonical ones, records the members the audit needs
 * and packs the bytes to hash (the line without entry_hash); then each
 * packed message is hashed, either with node:crypto (one call per line) or
 * in the module itself (one call per chunk), and compared with the hash its
 * line claims. The columns are typed-array views over the module's memory.
 *
 * One instance (own memory) per scanner: a range check awaits signature
 * verdicts between scanning a chunk and counting it, and another range
 * check on the same thread may scan meanwhile.
 */
import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';

import { BluxError } from '../errors.js';
import { COLUMN_NAMES, MAX_INTERNED_NAMES, SCAN_ROWS, type LineColumns, type LineScanner, type ScannedLines } from './line-scanner.js';
import { readBuiltFile } from '../io/package-files.js';

// ---------------------------------------------------------------------------
// WebAssembly: assembly/ledger, built to dist/wasm/ledger.wasm
// ---------------------------------------------------------------------------

/** The WebAssembly JS API we use (lib ES2022, no DOM types; @types/node 20 declares none). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

let wasmModule: object | undefined;

/** The compiled module, once per thread: every WebAssembly line scanner instantiates it. */
function ledgerWasmModule(): object {
  if (wasmModule === undefined) {
    wasmModule = new WebAssembly.Module(readBuiltFile('dist/wasm/ledger.wasm', 'the wasm ledger kernel'));
  }
  return wasmModule;
}

/** A fresh instance of the module (its own memory). */
function instantiateLedgerWasm(): object {
  return new WebAssembly.Instance(ledgerWasmModule(), { env: {} }).exports;
}

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

/** scan.ts MAX_NAME_BYTES: the arena's stride. */
const NAME_STRIDE = 128;
const DIGEST_BYTES = 32;

/** scan.ts's scan_layout(): its COLUMNS, MAX_NAMES and MAX_NAME_BYTES packed, as this module expects them. */
const EXPECTED_LAYOUT = (COLUMN_NAMES.length | (MAX_INTERNED_NAMES << 8) | (NAME_STRIDE << 24)) >>> 0;

export function checkedScanner(wasm: ScanExports): ScanExports {
  const layout = wasm.scan_layout() >>> 0;
  if (layout !== EXPECTED_LAYOUT) {
    throw new BluxError('internal', `the ledger scanner's layout ${layout.toString(16)} is not the one this build expects (${EXPECTED_LAYOUT.toString(16)}): rebuild (npm run build)`);
  }
  return wasm;
}

/** How the WebAssembly scanner's packed messages are hashed: node:crypto per line, or SHA-256 in the module per chunk. */
export type WasmScannerHash = 'node' | 'wasm';

/** The 32-byte digest, as a latin1 string, equals the 32 bytes at `bytes[at]`. */
function digestEquals(digest: string, bytes: Uint8Array, at: number): boolean {
  for (let k = 0; k < DIGEST_BYTES; k++) if (digest.charCodeAt(k) !== bytes[at + k]) return false;
  return true;
}

export class WasmLineScanner implements LineScanner {
  readonly #wasm = checkedScanner(instantiateLedgerWasm() as ScanExports);
  readonly #hash: WasmScannerHash;
  #capacity = -1;
  #memory: ArrayBuffer | null = null;
  #bytes: Buffer = Buffer.alloc(0);
  #pack = new Uint8Array(0);
  #claimed = new Uint8Array(0);
  #columns = {} as LineColumns;
  /** Interned names by id, decoded once each (ids live as long as the instance). */
  readonly #names: string[] = [];

  constructor(hashWith: WasmScannerHash = 'wasm') {
    this.#hash = hashWith;
  }

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

  /** None: the range check counts this scanner's lines one by one. */
  readonly runs = new Int32Array(0);

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

  /** Scans the first `filled` bytes of the reserved chunk, then checks the fast lines' entry_hash (LineScanner.scan). */
  scan(filled: number, atEnd: boolean): ScannedLines {
    const wasm = this.#wasm;
    const rows = wasm.scan_lines(filled, atEnd ? 1 : 0);
    const fastRows = wasm.scan_fast_rows();
    if (fastRows > 0) {
      if (this.#hash === 'wasm') wasm.scan_check(fastRows);
      else this.#checkWithNodeCrypto(fastRows);
    }
    return { rows, fastRows, consumed: wasm.scan_consumed(), lastTerminated: wasm.scan_last_terminated() === 1, runs: 0 };
  }

  /**
   * node:crypto's one-shot hash per packed message: OpenSSL with the CPU's
   * SHA extensions, one native call per line, the digest compared byte by
   * byte with the claim the scanner decoded (one load per byte compared: the
   * hex decode was ~0.1 us a line).
   */
  #checkWithNodeCrypto(count: number): void {
    const { offsets, matched } = this.#columns;
    const { buffer, byteOffset } = this.#pack;
    const claimed = this.#claimed;
    for (let i = 0; i < count; i++) {
      const at = offsets[i]!;
      // The Uint8Array constructor makes a view about twice as fast as subarray() (see the Merkle leaf hashing).
      const digest = hash('sha256', new Uint8Array(buffer, byteOffset + at, offsets[i + 1]! - at), 'binary');
      matched[i] = digestEquals(digest, claimed, i * DIGEST_BYTES) ? 1 : 0;
    }
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
