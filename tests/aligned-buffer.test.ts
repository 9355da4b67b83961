// Read buffers on a 64-byte boundary (src/io/aligned-buffer.ts): the addon's
// alignmentGap against addresses the test can reason about (views of one block
// at known offsets, a WebAssembly memory, which starts on a page), every bad call
// refused; alignedBuffer with the addon, with a stand-in that reports a known gap,
// and without one; and verify-batch's read buffers (engine/worker.ts) aligned.
import { describe, expect, it } from 'vitest';

import { readBufferOfSize } from '../src/engine/worker.js';
import { alignedBuffer, READ_ALIGNMENT } from '../src/io/aligned-buffer.js';
import { nativeAddon, nativeAddonStatus, type NativeAddon } from '../src/native/addon.js';

/** The WebAssembly JS API as used here (lib ES2022 has no WebAssembly types; see src/engine/backends/wasm.ts). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
};

function addon(): NativeAddon {
  const loaded = nativeAddon();
  if (loaded === null) throw new Error(`the native addon did not load: ${nativeAddonStatus().unavailableBecause}`);
  return loaded;
}

describe('native addon: alignmentGap', () => {
  it('counts the bytes to the next multiple of the alignment: one block seen at every offset', () => {
    const block = Buffer.allocUnsafeSlow(8192);
    for (const alignment of [1, 2, 8, 32, 64, 4096]) {
      const first = addon().alignmentGap(block, alignment);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThan(alignment);
      for (let offset = 0; offset < 130; offset++) {
        expect(addon().alignmentGap(block.subarray(offset), alignment), `${alignment} at +${offset}`).toBe((((first - offset) % alignment) + alignment) % alignment);
      }
    }
  });

  it('is 0 for a WebAssembly memory, whose bytes start on a page, and 1 byte into it is 4095 from the next page', () => {
    const memory = new Uint8Array(new WebAssembly.Memory({ initial: 1 }).buffer);
    expect(addon().alignmentGap(memory, 4096)).toBe(0);
    expect(addon().alignmentGap(memory.subarray(1), 4096)).toBe(4095);
    expect(addon().alignmentGap(memory.subarray(100), 64)).toBe(28);
  });

  it('refuses a bad call with a TypeError or RangeError', () => {
    const gap = addon().alignmentGap as (...a: unknown[]) => number;
    const bytes = new Uint8Array(16);
    expect(() => gap(bytes)).toThrow(TypeError);
    expect(() => gap(bytes)).toThrow(/takes 2 arguments/);
    expect(() => gap([1, 2], 64)).toThrow(/bytes must be a Uint8Array over an ArrayBuffer/);
    expect(() => gap(new Uint8Array(new SharedArrayBuffer(16)), 64)).toThrow(/bytes must be a Uint8Array over an ArrayBuffer/);
    expect(() => gap(new Int32Array(4), 64)).toThrow(TypeError);
    for (const alignment of [0, 3, 48, 8192, -64, 1.5, Number.NaN, '64', null]) {
      expect(() => gap(bytes, alignment), String(alignment)).toThrow(RangeError);
      expect(() => gap(bytes, alignment), String(alignment)).toThrow(/alignment must be a power of two from 1 to 4096/);
    }
  });
});

describe('alignedBuffer', () => {
  it('with the addon: the size asked for, starting on a 64-byte boundary, not in Buffer\'s shared pool', () => {
    expect(READ_ALIGNMENT).toBe(64);
    for (const size of [1, 100, 4096, 65_536, 1 << 20, 3 * (1 << 20) + 5]) {
      const buffer = alignedBuffer(size);
      expect(buffer.length).toBe(size);
      expect(addon().alignmentGap(buffer, READ_ALIGNMENT), String(size)).toBe(0);
      expect(buffer.buffer.byteLength).toBeLessThan(size + READ_ALIGNMENT);
      expect(buffer.buffer.byteLength).not.toBe(Buffer.poolSize);
    }
  });

  it('starts where the addon says the boundary is, and without an addon is a plain block', () => {
    for (const reported of [0, 1, 17, 63]) {
      const buffer = alignedBuffer(1000, { alignmentGap: () => reported });
      expect(buffer.byteOffset).toBe(reported);
      expect(buffer.length).toBe(1000);
      expect(buffer.buffer.byteLength).toBe(1000 + READ_ALIGNMENT - 1);
    }
    const plain = alignedBuffer(1000, null);
    expect(plain.length).toBe(1000);
    expect(plain.byteOffset).toBe(0);
    expect(plain.buffer.byteLength).toBe(1000);
  });

  it('verify-batch\'s read buffers (one per lane) start on the boundary and are reused until the size changes', () => {
    const a = readBufferOfSize(1 << 20, 0);
    const b = readBufferOfSize(1 << 20, 1);
    expect(a).not.toBe(b);
    for (const buffer of [a, b]) expect(addon().alignmentGap(buffer, READ_ALIGNMENT)).toBe(0);
    expect(readBufferOfSize(1 << 20, 0)).toBe(a);
    const other = readBufferOfSize(256 * 1024, 0);
    expect(other).not.toBe(a);
    expect(other.length).toBe(256 * 1024);
    expect(addon().alignmentGap(other, READ_ALIGNMENT)).toBe(0);
  });
});
