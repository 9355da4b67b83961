/**
 * Read buffers that start on a 64-byte boundary.
 *
 * Why: the kernel's copy from the page cache (rep movsb) runs at a third
 * to two thirds of its speed when the destination's address is 1-31 bytes
 * past the file position's offset within its page (measured on this machine
 * kind, 200 MB through one 1 MiB buffer: 65-80 ms at 1-15 bytes, 29-37 ms at
 * 16-31, 21-27 ms at 0 or 32-4095; bench/RESULTS.md). glibc's malloc, so
 * Node's Buffer.allocUnsafeSlow, starts a large block 16 bytes past a page
 * boundary, and a file hashed front to back through one buffer is read from
 * positions that are multiples of the buffer's size: every read is the slow
 * case. A buffer starting on a 64-byte boundary is never.
 *
 * JavaScript cannot see an address, so the native addon says how far the
 * next boundary is (alignmentGap). Without the addon a buffer is used as
 * allocated: the same bytes, only the copy is slower.
 */
import { nativeAddon, type NativeAddon } from '../native/addon.js';

/** The boundary read buffers start on: a cache line, so the copy's slow band (1-31 bytes) is never hit from a page-aligned position. */
export const READ_ALIGNMENT = 64;

/**
 * A buffer of `size` bytes (contents not set) that starts on a READ_ALIGNMENT
 * boundary when the addon can tell where that is. It is a view into a block
 * up to READ_ALIGNMENT - 1 bytes larger, never from Buffer's shared pool.
 * `addon`: the one the caller already holds, else this thread's.
 */
export function alignedBuffer(size: number, addon: Pick<NativeAddon, 'alignmentGap'> | null = nativeAddon()): Buffer {
  if (addon === null) return Buffer.allocUnsafeSlow(size);
  const block = Buffer.allocUnsafeSlow(size + READ_ALIGNMENT - 1);
  const gap = addon.alignmentGap(block, READ_ALIGNMENT);
  return block.subarray(gap, gap + size);
}
