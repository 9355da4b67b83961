// The four-lane SIMD SHA-256 kernel (assembly/sha256x4 through src/transparency/sha256x4.ts) against
// the NIST CAVP vectors (tests/vectors/nist-sha256, see its SOURCE.md) and node:crypto on random
// inputs: every length across the padding edges (55/56 bytes: the length field still fits the last
// block or not; 64: a whole block), group sizes that leave lanes empty, with and without a prefix byte.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { sha256x4 } from '../src/transparency/sha256x4.js';
import { thrown } from './helpers/errors.js';
import { mulberry32 } from './helpers/random.js';

const NIST_DIR = path.join(import.meta.dirname, 'vectors', 'nist-sha256');

/** Len (bits) / Msg / MD triples of a CAVP message file (LF or CRLF); Len = 0 carries `Msg = 00`. */
function nistVectors(fileName: string): Array<{ message: Buffer; digest: string }> {
  const text = readFileSync(path.join(NIST_DIR, fileName), 'utf8');
  const pattern = /^Len = (\d+)\r?\nMsg = ([0-9a-f]+)\r?\nMD = ([0-9a-f]{64})\r?$/gm;
  return [...text.matchAll(pattern)].map(([, bits, msg, md]) => ({ message: Buffer.from(msg!, 'hex').subarray(0, Number(bits) / 8), digest: md! }));
}

const reference = (message: Uint8Array, prefix?: number): string => {
  const h = createHash('sha256');
  if (prefix !== undefined) h.update(Uint8Array.of(prefix));
  return h.update(message).digest('hex');
};

const digestsOf = (out: Uint8Array, count: number): string[] =>
  Array.from({ length: count }, (_, i) => Buffer.from(out.subarray(32 * i, 32 * i + 32)).toString('hex'));

function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

describe('sha256x4', () => {
  const short = nistVectors('SHA256ShortMsg.rsp');
  const long = nistVectors('SHA256LongMsg.rsp');

  it('parses all NIST vectors (65 short, 64 long)', () => {
    expect(short.length).toBe(65);
    expect(long.length).toBe(64);
  });

  it('NIST ShortMsg and LongMsg: each message alone and five times in one call (the second group has one lane used)', () => {
    for (const { message, digest } of [...short, ...long]) {
      expect(digestsOf(sha256x4(message, message.length, 1), 1)).toEqual([digest]);
      const five = Buffer.concat(Array.from({ length: 5 }, () => message));
      expect(digestsOf(sha256x4(five, message.length, 5), 5)).toEqual(Array.from({ length: 5 }, () => digest));
    }
  });

  it('NIST Monte Carlo: 100 checkpoints of 1,000 chained 96-byte messages', () => {
    const text = readFileSync(path.join(NIST_DIR, 'SHA256Monte.rsp'), 'utf8');
    const checkpoints = [...text.matchAll(/^MD = ([0-9a-f]{64})\r?$/gm)].map((m) => m[1]!);
    expect(checkpoints.length).toBe(100);
    let seed = Buffer.from(/^Seed = ([0-9a-f]{64})\r?$/m.exec(text)![1]!, 'hex');
    for (const expected of checkpoints) {
      const md = [seed, seed, seed];
      for (let i = 3; i < 1003; i++) md.push(Buffer.from(sha256x4(Buffer.concat(md.slice(-3)), 96, 1)));
      seed = md[md.length - 1]!;
      expect(seed.toString('hex')).toBe(expected);
    }
  });

  it('random messages of every length 0..200, 1..9 per call, no prefix or a prefix byte: the digests node:crypto gives', () => {
    const random = mulberry32(64);
    for (let length = 0; length <= 200; length++) {
      for (const prefix of [undefined, 0x00, 0x01, Math.floor(random() * 256)]) {
        const count = 1 + Math.floor(random() * 9);
        const messages = Array.from({ length: count }, () => randomBytes(random, length));
        const packed = Buffer.concat(messages);
        const got = digestsOf(sha256x4(packed, length, count, prefix === undefined ? {} : { prefix }), count);
        expect(got, `length ${length}, prefix ${prefix}, count ${count}`).toEqual(messages.map((m) => reference(m, prefix)));
      }
    }
  });

  it('the padding edges with the prefix counted: 54/55/56, 63/64/65 and 118/119/120 bytes hashed', () => {
    const random = mulberry32(55);
    for (const hashed of [54, 55, 56, 63, 64, 65, 118, 119, 120]) {
      for (const withPrefix of [false, true]) {
        const length = hashed - (withPrefix ? 1 : 0);
        const messages = Array.from({ length: 4 }, () => randomBytes(random, length));
        const opts = withPrefix ? { prefix: 0x01 } : {};
        expect(digestsOf(sha256x4(Buffer.concat(messages), length, 4, opts), 4)).toEqual(messages.map((m) => reference(m, withPrefix ? 0x01 : undefined)));
      }
    }
  });

  it('a tree level: 10,001 node pairs (0x01 || left || right) in one call, then calls of other lengths reuse the kernel', () => {
    const random = mulberry32(6962);
    const pairs = randomBytes(random, 10_001 * 64);
    const got = digestsOf(sha256x4(pairs, 64, 10_001, { prefix: 0x01 }), 10_001);
    for (let p = 0; p < 10_001; p++) expect(got[p]).toBe(reference(pairs.subarray(64 * p, 64 * p + 64), 0x01));
    // A longer length after a shorter one and back (the kernel's lane buffers are resized, not left stale).
    for (const length of [300, 64, 5000, 1]) {
      const messages = Array.from({ length: 6 }, () => randomBytes(random, length));
      expect(digestsOf(sha256x4(Buffer.concat(messages), length, 6), 6)).toEqual(messages.map((m) => reference(m)));
    }
  });

  it('writes into a given output at an offset and leaves the bytes around it; ignores bytes past count * length', () => {
    const out = new Uint8Array(1 + 3 * 32 + 1).fill(0xee);
    const messages = Buffer.from('abcdefghiXYZ');
    const result = sha256x4(messages, 3, 3, { out, outOffset: 1 });
    expect(result).toBe(out);
    expect(out[0]).toBe(0xee);
    expect(out[out.length - 1]).toBe(0xee);
    expect(digestsOf(out.subarray(1), 3)).toEqual(['abc', 'def', 'ghi'].map((s) => reference(Buffer.from(s))));
    expect(sha256x4(messages, 3, 0).length).toBe(0);
  });

  it('rejects inputs that do not fit or are too big for one call, a prefix that is not a byte, and an output too small or a bad offset, with invalid-argument', () => {
    const expectInvalid = (f: () => unknown) => expect(thrown(f).code).toBe('invalid-argument');
    expectInvalid(() => sha256x4(new Uint8Array(10), 4, 3));
    expectInvalid(() => sha256x4(new Uint8Array(10), -1, 1));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 1.5));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 1, { prefix: 256 }));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 1, { prefix: -2 }));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 2, { out: new Uint8Array(63) }));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 2, { out: new Uint8Array(64), outOffset: 1 }));
    // -1 is the wasm call's own "no prefix": not a value a caller may pass.
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 1, { prefix: -1 }));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 1, { out: new Uint8Array(64), outOffset: -1 }));
    expectInvalid(() => sha256x4(new Uint8Array(10), 2, 1, { out: new Uint8Array(64), outOffset: 0.5 }));
    // More than one call may address (refused before any memory is touched).
    expect(thrown(() => sha256x4(new Uint8Array(10), 64, 2 ** 26)).message).toMatch(/too many for one call/);
  });
});
