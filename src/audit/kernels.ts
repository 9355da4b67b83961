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
   * when its SHA-256 equals the 64 lowercase hex digits at
   * `claimed[claimedAt[i]]` (the entry_hash value in the line), else 0.
   */
  check(pack: Uint8Array, offsets: Int32Array, count: number, claimed: Uint8Array, claimedAt: Int32Array, matches: Uint8Array): void;
}

/** Hex digit -> value, 0xff for anything else (the scanner already allows only 0-9a-f). */
const HEX_VALUE = new Uint8Array(256).fill(0xff);
for (let d = 0; d < 10; d++) HEX_VALUE[0x30 + d] = d;
for (let d = 0; d < 6; d++) HEX_VALUE[0x61 + d] = 10 + d;

/** The 32-byte digest equals the 64 hex digits at `hex[at]`. */
export function digestEqualsHex(digest: Uint8Array, hex: Uint8Array, at: number): boolean {
  for (let k = 0; k < 32; k++) {
    if (((HEX_VALUE[hex[at + 2 * k]!]! << 4) | HEX_VALUE[hex[at + 2 * k + 1]!]!) !== digest[k]) return false;
  }
  return true;
}

/**
 * node:crypto's one-shot hash per message: OpenSSL with the CPU's SHA
 * extensions, one native call per line, the hex digest compared as a string.
 */
const nativeKernel: EntryHashKernel = {
  name: 'native',
  check(pack, offsets, count, claimed, claimedAt, matches) {
    for (let i = 0; i < count; i++) {
      const digest = hash('sha256', pack.subarray(offsets[i]!, offsets[i + 1]!), 'buffer') as unknown as Buffer;
      matches[i] = digestEqualsHex(digest, claimed, claimedAt[i]!) ? 1 : 0;
    }
  },
};

export function getLedgerKernel(name: string = DEFAULT_LEDGER_KERNEL): EntryHashKernel {
  if (name === 'native') return nativeKernel;
  throw new BluxError('invalid-argument', `unknown ledger audit kernel ${JSON.stringify(name)} (choose ${LEDGER_KERNELS.join(', ')})`);
}
