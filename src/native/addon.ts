/**
 * The native kernel (native/blux_native.c, built by `npm run build` into
 * dist/native/blux_native.node): SHA-256 of a chunk of short messages in
 * one call, with the OpenSSL of the running node binary.
 *
 * Optional at run time: a copy of the library without the compiled addon
 * (another platform, or no C compiler where it was installed) works the same
 * with node:crypto, only slower; `nativeAddon()` says which. Setting
 * BLUX_REG_NATIVE_ADDON=off hides the addon, so that path can be tested and
 * compared.
 */
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  /**
   * For i < count, message i is data[offsets[i], offsets[i + 1]); sets
   * matches[i] to 1 when its SHA-256 equals claimed[32 i, 32 i + 32), else 0.
   * Throws TypeError or RangeError on arguments that do not fit.
   */
  sha256Check(data: Uint8Array, offsets: Int32Array, count: number, claimed: Uint8Array, matches: Uint8Array): void;
}

/** Why the addon is not in use, when it is not. */
export interface NativeAddonStatus {
  readonly addon: NativeAddon | null;
  readonly path: string;
  readonly unavailableBecause: string | null;
}

/** dist/native/blux_native.node, whether this module runs compiled (dist/native/) or from its source (tests). */
export function nativeAddonPath(): string {
  const here = new URL(import.meta.url);
  return fileURLToPath(here.pathname.endsWith('.ts') ? new URL('../../dist/native/blux_native.node', here) : new URL('./blux_native.node', here));
}

let status: NativeAddonStatus | undefined;

/** SHA-256("abc"), FIPS 180-2 appendix B.1: the self-test every loaded addon must pass before it is used. */
const ABC_DIGEST = Uint8Array.from(Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex'));

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

/** `candidate` as a NativeAddon once it has passed the self-test; throws saying what failed. */
export function selfTested(candidate: Partial<NativeAddon>): NativeAddon {
  if (typeof candidate.sha256Check !== 'function') throw new Error('it has no sha256Check function');
  // "abc" twice, claimed once right and once all zeros: a kernel that said yes to everything would fail.
  const claimed = new Uint8Array(64);
  claimed.set(ABC_DIGEST);
  const matches = new Uint8Array(2);
  candidate.sha256Check(new TextEncoder().encode('abcabc'), Int32Array.of(0, 3, 6), 2, claimed, matches);
  if (matches[0] !== 1 || matches[1] !== 0) throw new Error(`its self-test on "abc" failed (${matches.join(',')} instead of 1,0)`);
  return candidate as NativeAddon;
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
