/**
 * Entry-hash kernels: given the canonical bytes of many entries without
 * their `entry_hash` (packed one after another) and the hash each line
 * claims, say which match. One call per chunk of lines, so a backend that
 * crosses a boundary (WebAssembly) pays per chunk, not per 400-byte line.
 */
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BluxError } from '../errors.js';
import type { WasmLineScanner } from './wasm-scanner.js';

export type LedgerKernelName = 'native' | 'wasm';
export const LEDGER_KERNELS: readonly LedgerKernelName[] = ['native', 'wasm'];
export const DEFAULT_LEDGER_KERNEL: LedgerKernelName = 'native';

export interface EntryHashKernel {
  readonly name: LedgerKernelName;
  /**
   * Message i is `pack[offsets[i], offsets[i + 1])`; sets `matches[i]` to 1
   * when its SHA-256 equals the 64 lowercase hex digits at
   * `claimed[claimedAt[i]]` (the entry_hash value in the line), else 0.
   */
  check(pack: Uint8Array, offsets: Int32Array, count: number, claimed: Uint8Array, claimedAt: Int32Array, matches: Uint8Array): void;
  /** The same for the `count` fast lines of the scanner's last scan (what the audit calls). */
  checkScanned(scanner: WasmLineScanner, count: number, matches: Uint8Array): void;
}

/** Hex digit -> value, 0xff for anything else (the scanner already allows only 0-9a-f). */
const HEX_VALUE = new Uint8Array(256).fill(0xff);
for (let d = 0; d < 10; d++) HEX_VALUE[0x30 + d] = d;
for (let d = 0; d < 6; d++) HEX_VALUE[0x61 + d] = 10 + d;

/** The 32-byte digest, as a latin1 string (one char per byte), equals the 64 hex digits at `hex[at]`. */
export function digestEqualsHex(digest: string, hex: Uint8Array, at: number): boolean {
  for (let k = 0; k < 32; k++) {
    if (((HEX_VALUE[hex[at + 2 * k]!]! << 4) | HEX_VALUE[hex[at + 2 * k + 1]!]!) !== digest.charCodeAt(k)) return false;
  }
  return true;
}

const DIGEST_BYTES = 32;

/** The 32-byte digest, as a latin1 string, equals the 32 bytes at `bytes[at]`. */
function digestEquals(digest: string, bytes: Uint8Array, at: number): boolean {
  for (let k = 0; k < DIGEST_BYTES; k++) if (digest.charCodeAt(k) !== bytes[at + k]) return false;
  return true;
}

/**
 * node:crypto's one-shot hash per message: OpenSSL with the CPU's SHA
 * extensions, one native call per line, the digest compared with the claim
 * byte by byte.
 */
const nativeKernel: EntryHashKernel = {
  name: 'native',
  check(pack, offsets, count, claimed, claimedAt, matches) {
    for (let i = 0; i < count; i++) {
      // A 'binary' (latin1) string is the cheapest digest to allocate (no Buffer, no backing store per line).
      const digest = hash('sha256', pack.subarray(offsets[i]!, offsets[i + 1]!), 'binary');
      matches[i] = digestEqualsHex(digest, claimed, claimedAt[i]!) ? 1 : 0;
    }
  },
  /** The claimed digests come decoded by the scanner: one load per byte compared (the hex decode was ~0.1 us a line). */
  checkScanned(scanner, count, matches) {
    const { offsets } = scanner.columns;
    const { buffer, byteOffset } = scanner.pack;
    const claimed = scanner.claimedDigests;
    for (let i = 0; i < count; i++) {
      const at = offsets[i]!;
      // The Uint8Array constructor makes a view about twice as fast as subarray() (see the Merkle leaf hashing).
      const digest = hash('sha256', new Uint8Array(buffer, byteOffset + at, offsets[i + 1]! - at), 'binary');
      matches[i] = digestEquals(digest, claimed, i * DIGEST_BYTES) ? 1 : 0;
    }
  },
};

// ---------------------------------------------------------------------------
// WebAssembly: assembly/ledger, built to dist/wasm/ledger.wasm
// ---------------------------------------------------------------------------

/** The WebAssembly JS API we use (lib ES2022, no DOM types; @types/node 20 declares none). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

/** The exports of assembly/ledger/index.ts. */
interface LedgerWasmExports {
  memory: { readonly buffer: ArrayBuffer };
  input(size: number): number;
  check_batch(pack: number, offsets: number, count: number, claimed: number, matches: number): void;
}

const HASH_HEX_DIGITS = 64;
const OFFSET_BYTES = 4;

/** dist/wasm/ledger.wasm, whether this module runs compiled (dist/audit/) or from its source (tests). */
export function ledgerWasmPath(): string {
  const here = new URL(import.meta.url);
  return fileURLToPath(here.pathname.endsWith('.ts') ? new URL('../../dist/wasm/ledger.wasm', here) : new URL('../wasm/ledger.wasm', here));
}

let wasmModule: object | undefined;

/** The compiled module, once per thread: the kernel and every line scanner (wasm-scanner.ts) instantiate it. */
export function ledgerWasmModule(): object {
  if (wasmModule === undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(ledgerWasmPath());
    } catch (cause) {
      throw new BluxError('internal', `the wasm ledger kernel needs ${ledgerWasmPath()} (run npm run build)`, { cause });
    }
    wasmModule = new WebAssembly.Module(bytes);
  }
  return wasmModule;
}

/** A fresh instance of the module (its own memory). */
export function instantiateLedgerWasm(): object {
  return new WebAssembly.Instance(ledgerWasmModule(), { env: {} }).exports;
}

let wasmExports: LedgerWasmExports | undefined;

function ledgerWasm(): LedgerWasmExports {
  wasmExports ??= instantiateLedgerWasm() as LedgerWasmExports;
  return wasmExports;
}

/**
 * One call per chunk: the packed messages, their offsets and the claimed hex
 * digests are copied into the module's memory, hashed there with its own
 * SHA-256 (scalar, FIPS 180-4), and the match flags copied back.
 */
const wasmKernel: EntryHashKernel = {
  name: 'wasm',
  check(pack, offsets, count, claimed, claimedAt, matches) {
    if (count === 0) return;
    const wasm = ledgerWasm();
    const packBytes = offsets[count]!;
    const offsetsAt = (packBytes + 3) & ~3;
    const claimedAtWasm = offsetsAt + (count + 1) * OFFSET_BYTES;
    const matchesAt = claimedAtWasm + count * HASH_HEX_DIGITS;
    const base = wasm.input(matchesAt + count);
    // After input(): the memory may have grown, so views are taken now.
    const memory = new Uint8Array(wasm.memory.buffer);
    memory.set(pack.subarray(0, packBytes), base);
    new Int32Array(wasm.memory.buffer, base + offsetsAt, count + 1).set(offsets.subarray(0, count + 1));
    for (let i = 0; i < count; i++) {
      const at = claimedAt[i]!;
      memory.set(claimed.subarray(at, at + HASH_HEX_DIGITS), base + claimedAtWasm + i * HASH_HEX_DIGITS);
    }
    wasm.check_batch(base, base + offsetsAt, count, base + claimedAtWasm, base + matchesAt);
    matches.set(memory.subarray(base + matchesAt, base + matchesAt + count));
  },
  /** Hashed where the scanner packed the messages, in the scanner's own instance: nothing copied in. */
  checkScanned(scanner, count, matches) {
    if (count === 0) return;
    scanner.checkInPlace(count);
    matches.set(scanner.columns.matched.subarray(0, count));
  },
};

export function getLedgerKernel(name: string = DEFAULT_LEDGER_KERNEL): EntryHashKernel {
  if (name === 'native') return nativeKernel;
  if (name === 'wasm') return wasmKernel;
  throw new BluxError('invalid-argument', `unknown ledger audit kernel ${JSON.stringify(name)} (choose ${LEDGER_KERNELS.join(', ')})`);
}
