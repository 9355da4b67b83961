/**
 * The native kernel (native/blux_native.c, built by `npm run build` into
 * dist/native/blux_native.node): the ledger audit's line scanner and
 * entry-hash check over a whole chunk of lines in one call, with the
 * OpenSSL of the running node binary (src/audit/native-scanner.ts uses it).
 *
 * Optional at run time: a copy of the library without the compiled addon
 * (another platform, or no C compiler where it was installed) works the same
 * with node:crypto, only slower; `nativeAddon()` says which. Setting
 * BLUX_REG_NATIVE_ADDON=off hides the addon, so that path can be tested and
 * compared.
 */
import { hash } from 'node:crypto';
import { constants } from 'node:os';

import { COLUMN_NAMES, RUN_INTS_PER_ROW } from '../audit/line-scanner.js';
import { packageFile } from '../io/package-files.js';

/** A name table the addon made (an opaque handle; the addon checks its tag on every call). */
export type NativeNames = { readonly __nativeNames: unique symbol };

/** The addon's functions (native/blux_native.c). Each throws TypeError or RangeError on arguments that do not fit, before writing anything. */
export interface NativeAddon {
  /** Bytes from bytes[0] to the next address that is a multiple of `alignment` (a power of two, 1-4096); io/aligned-buffer.ts. */
  alignmentGap(bytes: Uint8Array, alignment: number): number;
  /** A fresh table for the names one scanner interns. */
  createNames(): NativeNames;
  /** How scanLines hashes: the x86 SHA extensions two lines at a time, or OpenSSL (no extensions, or BLUX_REG_SHA_NI=off). */
  hashImplementation(): 'sha-ni' | 'openssl';
  /**
   * Streaming SHA-256 of two files at a time (native/sha256_stream.h), only
   * where hashImplementation() is 'sha-ni' (else they throw): a stream's state
   * is a Uint8Array of sha256StreamBytes bytes; update absorbs data into one
   * stream, or into two interleaved; digest writes 32 bytes.
   */
  readonly sha256StreamBytes: number;
  sha256StreamInit(state: Uint8Array): void;
  sha256StreamUpdate(stateA: Uint8Array, dataA: Uint8Array, stateB?: Uint8Array, dataB?: Uint8Array): void;
  sha256StreamDigest(state: Uint8Array, digest: Uint8Array): void;
  nameCount(names: NativeNames): number;
  /** The name with id `id` (below nameCount). */
  nameOf(names: NativeNames, id: number): string;
  /**
   * Scans bytes[0, filled) into at most `rows` lines, filling `columns`
   * (COLUMN_NAMES.length x (rows + 1) entries, in that order) and
   * checking each canonical line's entry_hash into the `matched` column, and
   * the runs into `runs` (RUN_INTS_PER_ROW x rows entries, line-scanner.ts);
   * `result` gets [rows, fast rows, bytes consumed, 1 when the last line
   * ended with "\n", runs]. A last line without "\n" is taken only when `atEnd`.
   */
  scanLines(bytes: Uint8Array, filled: number, atEnd: boolean, columns: Int32Array, rows: number, names: NativeNames, runs: Int32Array, result: Int32Array): void;
}

/** Why the addon is not in use, when it is not. */
export interface NativeAddonStatus {
  readonly addon: NativeAddon | null;
  readonly path: string;
  readonly unavailableBecause: string | null;
}

/** dist/native/blux_native.node (io/package-files.ts). */
export function nativeAddonPath(): string {
  return packageFile('dist/native/blux_native.node');
}

let status: NativeAddonStatus | undefined;

/**
 * Loads the addon with every symbol resolved now (RTLD_NOW; Windows resolves
 * at load anyway): its OpenSSL functions come from the node binary, and a
 * node without them must fail here, where the library falls back, not with a
 * "symbol lookup error" that ends the process at the first call.
 */
function load(file: string): NativeAddon {
  const module = { exports: {} as Partial<NativeAddon> };
  if (process.platform === 'win32') process.dlopen(module, file);
  else process.dlopen(module, file, constants.dlopen.RTLD_NOW);
  return selfTested(module.exports);
}

const ADDON_FUNCTIONS = ['alignmentGap', 'createNames', 'hashImplementation', 'nameCount', 'nameOf', 'scanLines', 'sha256StreamDigest', 'sha256StreamInit', 'sha256StreamUpdate'] as const;
/** The smallest canonical entry the scanner takes; its entry_hash is the SHA-256 of `{"prev_hash":null}`. */
const SELF_TEST_MESSAGE = '{"prev_hash":null}';
const MATCHED_COLUMN = COLUMN_NAMES.indexOf('matched');

/**
 * `candidate` as a NativeAddon once it has passed the self-test: two lines
 * claiming the right hash and a wrong one (all zeros) must scan as canonical
 * and verify as 1 and 0, so a kernel that said yes (or no) to everything, or
 * an OpenSSL that hashed wrong, is never used. Throws saying what failed.
 */
export function selfTested(candidate: Partial<NativeAddon>): NativeAddon {
  const missing = ADDON_FUNCTIONS.filter((name) => typeof candidate[name] !== 'function');
  if (missing.length > 0) throw new Error(`it has no ${missing.join(', ')} function`);
  const addon = candidate as NativeAddon;
  const right = hash('sha256', SELF_TEST_MESSAGE, 'hex');
  const lines = [right, '0'.repeat(64)].map((claimed) => `{"entry_hash":"${claimed}","prev_hash":null}\n`).join('');
  const bytes = new TextEncoder().encode(lines);
  const rows = 2;
  const columns = new Int32Array(COLUMN_NAMES.length * (rows + 1));
  const result = new Int32Array(5);
  addon.scanLines(bytes, bytes.length, true, columns, rows, addon.createNames(), new Int32Array(RUN_INTS_PER_ROW * rows), result);
  const matched = columns.subarray(MATCHED_COLUMN * (rows + 1), MATCHED_COLUMN * (rows + 1) + rows);
  if (result[0] !== 2 || result[1] !== 2 || matched[0] !== 1 || matched[1] !== 0) {
    throw new Error(`its self-test failed (rows ${result[0]}, canonical ${result[1]}, verified ${matched.join(',')}; expected 2, 2, 1,0)`);
  }
  if (addon.hashImplementation() === 'sha-ni') selfTestStreams(addon);
  return addon;
}

/**
 * The file-hashing streams, when the CPU lets them run: "abc" and the
 * 448-bit message of FIPS 180-2 appendix B.2 hashed side by side, each in
 * two pieces (a block's padding and a waiting partial block both crossed).
 */
function selfTestStreams(addon: NativeAddon): void {
  const messages = ['abc', 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'].map((text) => new TextEncoder().encode(text));
  const wanted = ['ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'];
  const [a, b] = messages.map(() => new Uint8Array(addon.sha256StreamBytes)) as [Uint8Array, Uint8Array];
  addon.sha256StreamInit(a);
  addon.sha256StreamInit(b);
  addon.sha256StreamUpdate(a, messages[0]!.subarray(0, 1), b, messages[1]!.subarray(0, 30));
  addon.sha256StreamUpdate(a, messages[0]!.subarray(1), b, messages[1]!.subarray(30));
  const digests = [a, b].map((state) => {
    const digest = new Uint8Array(32);
    addon.sha256StreamDigest(state, digest);
    return Buffer.from(digest).toString('hex');
  });
  if (digests[0] !== wanted[0] || digests[1] !== wanted[1]) throw new Error('its self-test of the file-hashing streams failed');
}

/** Loads and self-tests the addon once per thread; never throws. */
export function nativeAddonStatus(): NativeAddonStatus {
  if (status !== undefined) return status;
  const file = nativeAddonPath();
  if (process.env.BLUX_REG_NATIVE_ADDON === 'off') {
    status = { addon: null, path: file, unavailableBecause: 'turned off by BLUX_REG_NATIVE_ADDON=off' };
    return status;
  }
  try {
    status = { addon: load(file), path: file, unavailableBecause: null };
  } catch (e) {
    status = { addon: null, path: file, unavailableBecause: `cannot load ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  return status;
}

/** The addon, or null when this copy of blux-reg runs without it. */
export function nativeAddon(): NativeAddon | null {
  return nativeAddonStatus().addon;
}
