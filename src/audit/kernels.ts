/**
 * Ledger audit kernels: the line scanner and the entry-hash check a range
 * check (range-check.ts) runs over each chunk of lines. All give the same
 * columns and verdicts (tests/ledger-audit-kernel.test.ts); they differ in
 * where the work runs and how often it crosses from JavaScript:
 *
 * - `native`: the addon (native/ledger_scan.c): splitting, scanning and
 *   OpenSSL's SHA-256 of a whole chunk in one call. The default where the
 *   addon is built.
 * - `node`: the WebAssembly scanner, then node:crypto's one-shot hash per
 *   line (the same OpenSSL SHA-256, plus ~0.25 us of call overhead a line).
 *   The default without the addon.
 * - `wasm`: the WebAssembly scanner and SHA-256 in the same WebAssembly
 *   instance, one call each per chunk.
 */
import { BluxError } from '../errors.js';
import { nativeAddon, nativeAddonStatus, type NativeAddon } from '../native/addon.js';
import type { LineScanner } from './line-scanner.js';
import { NativeLineScanner } from './native-scanner.js';
import { WasmLineScanner } from './wasm-scanner.js';

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

export interface LedgerKernel {
  readonly name: LedgerKernelName;
  /** A scanner of this kernel (each holds its own chunk memory and name table). */
  createScanner(): LineScanner;
}

function nativeKernel(addon: NativeAddon): LedgerKernel {
  return { name: 'native', createScanner: () => new NativeLineScanner(addon) };
}

const nodeKernel: LedgerKernel = { name: 'node', createScanner: () => new WasmLineScanner('node') };
const wasmKernel: LedgerKernel = { name: 'wasm', createScanner: () => new WasmLineScanner('wasm') };

export function getLedgerKernel(name: string = defaultLedgerKernel()): LedgerKernel {
  if (name === 'native') {
    const { addon, unavailableBecause } = nativeAddonStatus();
    if (addon === null) throw new BluxError('invalid-argument', `the native ledger kernel is not available: ${unavailableBecause} (choose node or wasm, or run npm run build)`);
    return nativeKernel(addon);
  }
  if (name === 'node') return nodeKernel;
  if (name === 'wasm') return wasmKernel;
  throw new BluxError('invalid-argument', `unknown ledger audit kernel ${JSON.stringify(name)} (choose ${LEDGER_KERNELS.join(', ')})`);
}
