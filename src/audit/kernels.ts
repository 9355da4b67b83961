/**
 * Entry-hash kernels: given the canonical bytes of many entries without
 * their `entry_hash` (packed one after another) and the hash each line
 * claims, say which match. One call per chunk of lines, so a backend that
 * crosses a boundary (WebAssembly) pays per chunk, not per 400-byte line.
 */
import { hash } from 'node:crypto';

import { BluxError } from '../errors.js';

export type LedgerKernelName = 'native';
export const LEDGER_KERNELS: readonly LedgerKernelName[] = ['native'];
export const DEFAULT_LEDGER_KERNEL: LedgerKernelName = 'native';

export interface EntryHashKernel {
  readonly name: LedgerKernelName;
  /**
   * Message i is `pack[offsets[i], offsets[i + 1])`; sets `matches[i]` to 1
   * when its SHA-256 (lowercase hex) equals `claimedHex[i]`, else 0.
   */
  check(pack: Uint8Array, offsets: Int32Array, count: number, claimedHex: readonly string[], matches: Uint8Array): void;
}

/**
 * node:crypto's one-shot hash per message: OpenSSL with the CPU's SHA
 * extensions, one native call per line, the hex digest compared as a string.
 */
const nativeKernel: EntryHashKernel = {
  name: 'native',
  check(pack, offsets, count, claimedHex, matches) {
    for (let i = 0; i < count; i++) {
      matches[i] = hash('sha256', pack.subarray(offsets[i]!, offsets[i + 1]!)) === claimedHex[i] ? 1 : 0;
    }
  },
};

export function getLedgerKernel(name: string = DEFAULT_LEDGER_KERNEL): EntryHashKernel {
  if (name === 'native') return nativeKernel;
  throw new BluxError('invalid-argument', `unknown ledger audit kernel ${JSON.stringify(name)} (choose ${LEDGER_KERNELS.join(', ')})`);
}
