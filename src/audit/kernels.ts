/**
 * Entry-hash kernels: after the line scanner (wasm-scanner.ts) packed the
 * canonical bytes of a chunk's entries without their `entry_hash` and
 * decoded the digest each line claims, say which match. One call per chunk
 * of lines where the kernel allows it, so a backend that crosses a boundary
 * (native code, WebAssembly) pays per chunk, not per 400-byte line.
 *
 * - `native`: the addon (src/native/addon.ts): OpenSSL's SHA-256 over the
 *   whole chunk in one call. The default where the addon is built.
 * - `node`: node:crypto's one-shot hash, one call per line: the same OpenSSL
 *   SHA-256, plus ~0.25 us of call overhead a line. The default without the addon.
 * - `wasm`: SHA-256 in WebAssembly inside the scanner's own instance.
 *
 * All three give the same answers (tests/ledger-audit-kernel.test.ts).
 */
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BluxError } from '../errors.js';
import { nativeAddon, nativeAddonStatus } from '../native/addon.js';
import type { WasmLineScanner } from './wasm-scanner.js';

export type LedgerKernelName = 'native' | 'node' | 'wasm';
export const LEDGER_KERNELS: readonly LedgerKernelName[] = ['native', 'node', 'wasm'];

/** The kernels this copy of blux-reg can run (`native` only where its addon is built): what the bench measures. */
export function availableLedgerKernels(): LedgerKernelName[] {
  return LEDGER_KERNELS.filter((name) => name !== 'native' || nativeAddon() !== null);
}

/** The fastest kernel measured here (bench/ledger-audit.mjs): native with the addon, node:crypto without. */
export function defaultLedgerKernel(): LedgerKernelName {
  return nativeAddon() !== null ? 'native' : 'node';
}

export interface EntryHashKernel {
  readonly name: LedgerKernelName;
  /**
   * For the first `count` fast lines of the scanner's last scan: sets
   * `matches[i]` to 1 when the SHA-256 of message i (the line without
   * entry_hash) equals the digest the line claims, else 0.
   */
  checkScanned(scanner: WasmLineScanner, count: number, matches: Uint8Array): void;
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
const nodeCryptoKernel: EntryHashKernel = {
  name: 'node',
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

/**
 * The native addon: every message of the chunk hashed and compared in one
 * call, where the scanner packed them (the views are of the scanner's
 * WebAssembly memory; nothing is copied).
 */
const nativeKernel: EntryHashKernel = {
  name: 'native',
  checkScanned(scanner, count, matches) {
    if (count === 0) return;
    const addon = nativeAddon();
    // getLedgerKernel hands this kernel out only with the addon loaded.
    if (addon === null) throw new BluxError('internal', 'the native ledger kernel lost its addon');
    addon.sha256Check(scanner.pack, scanner.columns.offsets, count, scanner.claimedDigests, matches);
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

/** dist/wasm/ledger.wasm, whether this module runs compiled (dist/audit/) or from its source (tests). */
export function ledgerWasmPath(): string {
  const here = new URL(import.meta.url);
  return fileURLToPath(here.pathname.endsWith('.ts') ? new URL('../../dist/wasm/ledger.wasm', here) : new URL('../wasm/ledger.wasm', here));
}

let wasmModule: object | undefined;

/** The compiled module, once per thread: every line scanner (wasm-scanner.ts) instantiates it. */
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

/**
 * SHA-256 in WebAssembly (assembly/ledger/index.ts, scalar FIPS 180-4), in
 * the scanner's own instance: the messages are hashed where the scanner
 * packed them and compared with the hex each line claims; one call per chunk.
 */
const wasmKernel: EntryHashKernel = {
  name: 'wasm',
  /** Hashed where the scanner packed the messages, in the scanner's own instance: nothing copied in. */
  checkScanned(scanner, count, matches) {
    if (count === 0) return;
    scanner.checkInPlace(count);
    matches.set(scanner.columns.matched.subarray(0, count));
  },
};

export function getLedgerKernel(name: string = defaultLedgerKernel()): EntryHashKernel {
  if (name === 'native') {
    const { addon, unavailableBecause } = nativeAddonStatus();
    if (addon === null) throw new BluxError('invalid-argument', `the native ledger kernel is not available: ${unavailableBecause} (choose node or wasm, or run npm run build)`);
    return nativeKernel;
  }
  if (name === 'node') return nodeCryptoKernel;
  if (name === 'wasm') return wasmKernel;
  throw new BluxError('invalid-argument', `unknown ledger audit kernel ${JSON.stringify(name)} (choose ${LEDGER_KERNELS.join(', ')})`);
}
