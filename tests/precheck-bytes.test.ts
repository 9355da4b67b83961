// The shared pre-check compares encodings as bytes (no BigInt per signature): it must
// say exactly what the RFC 8032 definitions say in integers, at every edge and on
// random encodings with and without the sign bit.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { bytesToNumberLE, ED25519_L, ED25519_P, isCanonicalPointEncoding, isCanonicalScalar } from '../src/engine/precheck.js';

function bytesOf(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** RFC 8032 5.1.7 step 1, in integers. */
const scalarByDefinition = (s: Uint8Array): boolean => bytesToNumberLE(s) < ED25519_L;

/** RFC 8032 5.1.3 steps 1 and 4, in integers. */
function pointByDefinition(encoded: Uint8Array): boolean {
  const y = bytesToNumberLE(encoded) & ((1n << 255n) - 1n);
  const sign = (encoded[31]! & 0x80) !== 0;
  if (y >= ED25519_P) return false;
  return !((y === 1n || y === ED25519_P - 1n) && sign);
}

const SIGN_BIT = 1n << 255n;
const edges = [0n, 1n, 2n, ED25519_L - 1n, ED25519_L, ED25519_L + 1n, 2n * ED25519_L, ED25519_P - 2n, ED25519_P - 1n,
  ED25519_P, ED25519_P + 1n, SIGN_BIT - 1n, 2n ** 252n, 2n ** 253n - 1n];

describe('the byte-wise pre-check equals the integer definitions', () => {
  it('at every edge, with and without the sign bit', () => {
    for (const n of edges.flatMap((e) => [e, e | SIGN_BIT])) {
      const bytes = bytesOf(n);
      expect(isCanonicalScalar(bytes), `S = ${n}`).toBe(scalarByDefinition(bytes));
      expect(isCanonicalPointEncoding(bytes), `encoding ${n}`).toBe(pointByDefinition(bytes));
    }
  });

  it('on 20,000 random encodings, half of them near the bounds', () => {
    for (let i = 0; i < 20_000; i++) {
      const bytes = new Uint8Array(randomBytes(32));
      if (i % 2 === 1) {
        // Keep the top bytes of L or p, so that the comparison is decided low down.
        const bound = bytesOf(i % 4 === 1 ? ED25519_L : ED25519_P);
        const keep = 1 + (i % 31);
        for (let j = 31; j > 31 - keep; j--) bytes[j] = bound[j]!;
      }
      expect(isCanonicalScalar(bytes)).toBe(scalarByDefinition(bytes));
      expect(isCanonicalPointEncoding(bytes)).toBe(pointByDefinition(bytes));
    }
  });

  it('refuses encodings of the wrong length', () => {
    expect(isCanonicalScalar(new Uint8Array(31))).toBe(false);
    expect(isCanonicalPointEncoding(new Uint8Array(33))).toBe(false);
  });
});
