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
import { createRequire } from 'node:module';
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

/** Loads the addon once per thread; never throws. */
export function nativeAddonStatus(): NativeAddonStatus {
  if (status !== undefined) return status;
  const file = nativeAddonPath();
  if (process.env.BLUX_REG_NATIVE_ADDON === 'off') {
    status = { addon: null, path: file, unavailableBecause: 'turned off by BLUX_REG_NATIVE_ADDON=off' };
    return status;
  }
  try {
    const loaded = createRequire(import.meta.url)(file) as Partial<NativeAddon>;
    if (typeof loaded.sha256Check !== 'function') throw new Error('it has no sha256Check function');
    status = { addon: loaded as NativeAddon, path: file, unavailableBecause: null };
  } catch (e) {
    status = { addon: null, path: file, unavailableBecause: `cannot load ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  return status;
}

/** The addon, or null when this copy of blux-reg runs without it. */
export function nativeAddon(): NativeAddon | null {
  return nativeAddonStatus().addon;
}
