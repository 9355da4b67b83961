/**
 * The wasm backend's Ed25519 (assembly/ed25519, src/engine/backends/wasm.ts).
 *
 * - The internals (field, scalars, point decoding) through the debug build,
 *   which exports them, against BigInt and @noble/ed25519.
 * - Verdicts of the backend, single and batched, against a small reference
 *   of the "strict, cofactored" rule (issue 4) written here with BigInt and
 *   noble's Point, not against the other backends (which are being aligned
 *   to the rule separately).
 *
 * Needs `npm run build` first (dist/wasm/*.wasm), as `npm test` does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';

import { getBackend, verifyEd25519Parallel, closeEnginePool, type Ed25519VerifyItem } from '../src/engine/index.js';
import { ED25519_L as L, ED25519_P as P } from '../src/engine/precheck.js';
import { createWasmBackend, validItemsOf } from '../src/engine/backends/wasm.js';
import { mulberry32 } from './helpers/random.js';

ed.hashes.sha512 = sha512;

const REPO = new URL('../', import.meta.url);
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
const leToBig = (bytes: Uint8Array): bigint => {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
};
const bigToLe = (value: bigint, length = 32): Uint8Array => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
};
const randomBig = (bytes: number): bigint => leToBig(randomBytes(bytes));
function powMod(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}
const isSquare = (a: bigint): boolean => a === 0n || powMod(a, (P - 1n) / 2n, P) === 1n;

// ---------------------------------------------------------------------------
// The debug build: internals
// ---------------------------------------------------------------------------

interface DebugExports {
  memory: { buffer: ArrayBuffer };
  arena_reset(): void;
  arena_alloc(bytes: number): number;
  fe_mul(h: number, f: number, g: number): void;
  fe_sq(h: number, f: number): void;
  fe_add(h: number, f: number, g: number): void;
  fe_sub(h: number, f: number, g: number): void;
  fe_invert(h: number, f: number): void;
  fe_sqrt_ratio(x: number, u: number, v: number): number;
  fe_frombytes(h: number, s: number): void;
  fe_tobytes(s: number, h: number): void;
  ge_decode(x: number, y: number, s: number): number;
  ge_is_small_order(x: number, y: number): number;
  ge_from_affine(p: number, x: number, y: number): void;
  ge_encode(s: number, p: number): void;
  sc_reduce512(out: number, x: number): void;
  sc_mul(out: number, a: number, b: number): void;
  sc_add(out: number, a: number, b: number): void;
  sc_neg(out: number, a: number): void;
  sc_is_canonical(a: number): number;
}

/** The WebAssembly JS API as used here (lib ES2022 has no WebAssembly types; see src/engine/backends/wasm.ts). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

const debugPath = fileURLToPath(new URL('dist/wasm/ed25519.debug.wasm', REPO));
const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(debugPath)), {}).exports as unknown as DebugExports;
wasm.arena_reset();
const FE = 80;
const fe = (): number => wasm.arena_alloc(FE);
const buf = (bytes: number): number => wasm.arena_alloc(bytes);
const mem = (): Uint8Array => new Uint8Array(wasm.memory.buffer);
const writeBytes = (ptr: number, bytes: Uint8Array): void => mem().set(bytes, ptr);
const readBytes = (ptr: number, length: number): Uint8Array => mem().slice(ptr, ptr + length);

const S32 = buf(64);
/** Loads value (< 2^255) into the field element at ptr. */
function feSet(ptr: number, value: bigint): void {
  writeBytes(S32, bigToLe(value));
  wasm.fe_frombytes(ptr, S32);
}
/** The canonical value of the field element at ptr, through fe_tobytes. */
function feGet(ptr: number): bigint {
  wasm.fe_tobytes(S32, ptr);
  return leToBig(readBytes(S32, 32));
}
/** Raw signed limbs, to check the carried bounds. */
function limbs(ptr: number): bigint[] {
  const view = new DataView(wasm.memory.buffer);
  return Array.from({ length: 10 }, (_, i) => view.getBigInt64(ptr + 8 * i, true));
}

const EDGE_VALUES = [0n, 1n, 2n, 18n, 19n, P - 2n, P - 1n, P, P + 1n, 2n ** 255n - 1n, 2n ** 254n, 2n ** 128n - 1n];
const randomValues = (count: number): bigint[] => Array.from({ length: count }, () => randomBig(32) >> 1n);

describe('field arithmetic mod p = 2^255 - 19 (debug build vs BigInt)', () => {
  const a = fe(), b = fe(), c = fe(), d = fe(), h = fe();

  it('frombytes/tobytes reduce edge values (p - 1, p, 2^255 - 1, ...) to [0, p)', () => {
    for (const v of EDGE_VALUES) {
      feSet(a, v);
      expect(feGet(a), `value ${v}`).toBe(mod(v, P));
    }
  });

  it('2p and other sums of several elements encode canonically', () => {
    feSet(a, P - 1n);
    wasm.fe_add(h, a, a); // 2p - 2
    expect(feGet(h)).toBe(P - 2n);
    feSet(a, P); // loads as p (non-canonical limbs)
    wasm.fe_add(h, a, a); // 2p
    expect(feGet(h)).toBe(0n);
    feSet(b, 0n);
    wasm.fe_sub(h, b, a); // -p
    expect(feGet(h)).toBe(0n);
    feSet(a, 1n);
    wasm.fe_sub(h, b, a); // -1
    expect(feGet(h)).toBe(P - 1n);
  });

  it('mul and sq agree with BigInt on random and edge values, with carried outputs', () => {
    const values = [...EDGE_VALUES, ...randomValues(300)];
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const y = values[(i * 7 + 3) % values.length]!;
      feSet(a, x);
      feSet(b, y);
      wasm.fe_mul(h, a, b);
      expect(feGet(h)).toBe(mod(x * y, P));
      for (const [k, limb] of limbs(h).entries()) {
        const bound = k % 2 === 0 ? 2n ** 25n : 2n ** 24n + 2n ** 16n;
        expect(limb <= bound && limb >= -bound, `limb ${k} = ${limb}`).toBe(true);
      }
      wasm.fe_sq(h, a);
      expect(feGet(h)).toBe(mod(x * x, P));
    }
  });

  it('mul and sq accept sums of four carried elements (the budget point.ts relies on)', () => {
    for (let i = 0; i < 200; i++) {
      // Worst case: values near p whose products are carried to extreme limbs.
      const xs = [randomBig(32) >> 1n, P - 1n - randomBig(4), randomBig(32) >> 1n, P - 1n];
      const ys = randomValues(4);
      feSet(a, 1n);
      feSet(c, xs[0]!); wasm.fe_mul(c, c, a);
      feSet(d, xs[1]!); wasm.fe_mul(d, d, a);
      wasm.fe_add(h, c, d);
      feSet(d, xs[2]!); wasm.fe_mul(d, d, a); wasm.fe_sub(h, h, d);
      feSet(d, xs[3]!); wasm.fe_mul(d, d, a); wasm.fe_add(h, h, d); // x0 + x1 - x2 + x3
      const x = mod(xs[0]! + xs[1]! - xs[2]! + xs[3]!, P);
      feSet(c, ys[0]!); wasm.fe_mul(c, c, a);
      feSet(d, ys[1]!); wasm.fe_mul(d, d, a);
      wasm.fe_sub(b, c, d);
      feSet(d, ys[2]!); wasm.fe_mul(d, d, a); wasm.fe_sub(b, b, d);
      feSet(d, ys[3]!); wasm.fe_mul(d, d, a); wasm.fe_sub(b, b, d); // y0 - y1 - y2 - y3
      const y = mod(ys[0]! - ys[1]! - ys[2]! - ys[3]!, P);
      wasm.fe_mul(c, h, b);
      expect(feGet(c)).toBe(mod(x * y, P));
      wasm.fe_sq(c, h);
      expect(feGet(c)).toBe(mod(x * x, P));
    }
  });

  it('invert gives 1/x (and 0 for 0)', () => {
    for (const x of [...EDGE_VALUES, ...randomValues(50)]) {
      feSet(a, x);
      wasm.fe_invert(h, a);
      expect(feGet(h)).toBe(mod(x, P) === 0n ? 0n : powMod(x, P - 2n, P));
    }
  });

  it('sqrt_ratio finds sqrt(u/v) exactly when u/v is a square', () => {
    let squares = 0;
    for (const [u, v] of [[0n, 1n], [1n, 1n], [P - 1n, 1n], [4n, 1n], ...randomValues(60).map((u, i) => [u, randomValues(1)[0]! + BigInt(i + 1)] as const)]) {
      feSet(a, u!);
      feSet(b, v!);
      const found = wasm.fe_sqrt_ratio(h, a, b) !== 0;
      const ratio = mod(u! * powMod(v!, P - 2n, P), P);
      expect(found, `u ${u} v ${v}`).toBe(isSquare(ratio));
      if (found) {
        squares++;
        const x = feGet(h);
        expect(mod(x * x * v!, P)).toBe(mod(u!, P));
      }
    }
    expect(squares).toBeGreaterThan(10);
  });
});

describe('scalars mod L (debug build vs BigInt)', () => {
  const x = buf(64), y = buf(32), out = buf(32);

  it('reduces 512-bit values, e.g. SHA-512 digests, mod L', () => {
    const cases = [0n, 1n, L - 1n, L, L + 1n, 2n * L, 2n ** 512n - 1n, 2n ** 256n, L * L, ...Array.from({ length: 300 }, () => randomBig(64))];
    for (const v of cases) {
      writeBytes(x, bigToLe(v, 64));
      wasm.sc_reduce512(out, x);
      expect(leToBig(readBytes(out, 32)), `value ${v}`).toBe(mod(v, L));
    }
  });

  it('mul, add, neg mod L; canonical means < L', () => {
    const values = [0n, 1n, L - 1n, 2n ** 128n - 1n, ...Array.from({ length: 200 }, () => mod(randomBig(32), L))];
    for (let i = 0; i < values.length; i++) {
      const s = values[i]!;
      const t = values[(i * 5 + 1) % values.length]!;
      writeBytes(x, bigToLe(s));
      writeBytes(y, bigToLe(t));
      wasm.sc_mul(out, x, y);
      expect(leToBig(readBytes(out, 32))).toBe(mod(s * t, L));
      wasm.sc_add(out, x, y);
      expect(leToBig(readBytes(out, 32))).toBe(mod(s + t, L));
      wasm.sc_neg(out, x);
      expect(leToBig(readBytes(out, 32))).toBe(mod(-s, L));
    }
    for (const [v, canonical] of [[L - 1n, true], [L, false], [L + 1n, false], [2n ** 256n - 1n, false], [0n, true]] as const) {
      writeBytes(x, bigToLe(v));
      expect(wasm.sc_is_canonical(x) !== 0).toBe(canonical);
    }
  });
});

// ---------------------------------------------------------------------------
// Points
// ---------------------------------------------------------------------------

/** A point of order 8: [L] of random points until one has a component of order 8. */
function torsionGenerator(): ed.Point {
  for (;;) {
    const point = randomCurvePoint();
    const t = point.multiplyUnsafe(L - 1n).add(point); // [L] P: the torsion component
    if (!t.multiplyUnsafe(4n).is0()) return t;
  }
}
/** A uniformly random curve point (any order), from a random y that decodes. */
function randomCurvePoint(): ed.Point {
  for (;;) {
    try {
      return ed.Point.fromBytes(randomBytes(32), false);
    } catch {
      // not on the curve, or not canonical: try another
    }
  }
}
const T8 = torsionGenerator();
/** The 8 points of order 1, 2, 4 and 8. */
const TORSION = Array.from({ length: 8 }, (_, i) => (i === 0 ? ed.Point.ZERO : T8.multiplyUnsafe(BigInt(i))));

describe('point decoding (debug build vs noble)', () => {
  const x = fe(), y = fe(), pt = buf(320), s = buf(32), enc = buf(32);
  const decode = (bytes: Uint8Array): boolean => {
    writeBytes(s, bytes);
    return wasm.ge_decode(x, y, s) !== 0;
  };

  it('decodes random points and encodes them back to the same bytes', () => {
    for (let i = 0; i < 100; i++) {
      const point = i % 2 === 0 ? ed.Point.BASE.multiply(mod(randomBig(32), L - 1n) + 1n) : randomCurvePoint();
      const bytes = point.toBytes();
      expect(decode(bytes)).toBe(true);
      expect(feGet(x)).toBe(point.toAffine().x);
      expect(feGet(y)).toBe(point.toAffine().y);
      wasm.ge_from_affine(pt, x, y);
      wasm.ge_encode(enc, pt);
      expect(Buffer.from(readBytes(enc, 32)).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
    }
  });

  it('rejects y >= p, x = 0 with the sign bit, and y with no x', () => {
    const withSign = (v: bigint): Uint8Array => bigToLe(v | (1n << 255n));
    for (const v of [P, P + 1n, P + 18n, 2n ** 255n - 1n]) {
      expect(decode(bigToLe(v)), `y = ${v}`).toBe(false);
      expect(decode(withSign(v)), `y = ${v} with sign`).toBe(false);
    }
    // x = 0: y = 1 (identity) and y = p - 1 (order 2); fine without the sign bit.
    expect(decode(bigToLe(1n))).toBe(true);
    expect(decode(bigToLe(P - 1n))).toBe(true);
    expect(decode(withSign(1n))).toBe(false);
    expect(decode(withSign(P - 1n))).toBe(false);
    // y values whose x^2 = (y^2 - 1) / (d y^2 + 1) is not a square.
    let nonSquares = 0;
    for (let i = 0; i < 200; i++) {
      const yv = mod(randomBig(32), P);
      let valid = true;
      try {
        ed.Point.fromBytes(bigToLe(yv), false);
      } catch {
        valid = false;
      }
      expect(decode(bigToLe(yv)), `y = ${yv}`).toBe(valid);
      if (!valid) nonSquares++;
    }
    expect(nonSquares).toBeGreaterThan(50);
  });

  it('finds the 8 torsion points of small order, and only those', () => {
    for (const t of TORSION) {
      expect(decode(t.toBytes())).toBe(true);
      expect(wasm.ge_is_small_order(x, y)).toBe(1);
    }
    for (let i = 0; i < 20; i++) {
      const point = randomCurvePoint();
      expect(decode(point.toBytes())).toBe(true);
      expect(wasm.ge_is_small_order(x, y) !== 0).toBe(point.isSmallOrder());
      // A full-order point plus torsion (mixed order) is not of small order.
      const mixed = ed.Point.BASE.multiply(mod(randomBig(32), L - 1n) + 1n).add(TORSION[1 + (i % 7)]!);
      expect(decode(mixed.toBytes())).toBe(true);
      expect(wasm.ge_is_small_order(x, y)).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------
// The rule, as a reference
// ---------------------------------------------------------------------------

function decodeStrict(bytes: Uint8Array): ed.Point | undefined {
  try {
    return ed.Point.fromBytes(bytes, false); // RFC 8032: y < p, no x = 0 with the sign bit
  } catch {
    return undefined;
  }
}

/** The "strict, cofactored" rule of issue 4, in BigInt and noble's Point. */
function ruleVerdict(item: Ed25519VerifyItem): boolean {
  const { publicKey, message, signature } = item;
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const S = leToBig(signature.subarray(32));
  if (S >= L) return false;
  const A = decodeStrict(publicKey);
  const R = decodeStrict(signature.subarray(0, 32));
  if (A === undefined || R === undefined) return false;
  if (A.isSmallOrder() || R.isSmallOrder()) return false;
  const k = mod(leToBig(createHash('sha512').update(signature.subarray(0, 32)).update(publicKey).update(message).digest()), L);
  const SB = S === 0n ? ed.Point.ZERO : ed.Point.BASE.multiply(S);
  const kA = k === 0n ? ed.Point.ZERO : A.multiplyUnsafe(k);
  return SB.subtract(R).subtract(kA).clearCofactor().is0();
}

// ---------------------------------------------------------------------------
// Vectors and adversarial inputs through the backend
// ---------------------------------------------------------------------------

const backend = getBackend('wasm');
const verifyBatch = (items: readonly Ed25519VerifyItem[]): Promise<boolean[]> => backend.verifyEd25519Batch(items);
const verifyEach = async (items: readonly Ed25519VerifyItem[]): Promise<boolean[]> => {
  const out: boolean[] = [];
  for (const item of items) out.push((await verifyBatch([item]))[0]!);
  return out;
};

const readVector = (relative: string): Buffer => readFileSync(fileURLToPath(new URL(`tests/vectors/${relative}`, REPO)));

const rfcItems: Ed25519VerifyItem[] = (
  JSON.parse(readVector('rfc8032-ed25519/rfc8032-7.1.json').toString('utf8')) as {
    vectors: Array<{ publicKey: string; message: string; signature: string }>;
  }
).vectors.map((v) => ({ publicKey: fromHex(v.publicKey), message: fromHex(v.message), signature: fromHex(v.signature) }));

const signInputItems: Ed25519VerifyItem[] = gunzipSync(readVector('rfc8032-ed25519/sign.input.gz'))
  .toString('utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => {
    const [, publicHex, messageHex, signatureAndMessage] = line.split(':') as [string, string, string, string];
    return { publicKey: fromHex(publicHex), message: fromHex(messageHex), signature: fromHex(signatureAndMessage.slice(0, 128)) };
  });

const wycheproofItems: Array<{ item: Ed25519VerifyItem; result: string; tcId: number }> = (
  JSON.parse(readVector('wycheproof-ed25519/ed25519_test.json').toString('utf8')) as {
    testGroups: Array<{ publicKey: { pk: string }; tests: Array<{ tcId: number; msg: string; sig: string; result: string }> }>;
  }
).testGroups.flatMap((group) =>
  group.tests.map((test) => ({
    tcId: test.tcId,
    result: test.result,
    item: { publicKey: fromHex(group.publicKey.pk), message: fromHex(test.msg), signature: fromHex(test.sig) },
  })),
);

/** Signs with a secret scalar a directly, so A and R may carry torsion: A = [a]B + tA, R = [r]B + tR. */
function signRaw(a: bigint, tA: ed.Point, r: bigint, tR: ed.Point, message: Uint8Array): Ed25519VerifyItem {
  const A = ed.Point.BASE.multiply(a).add(tA).toBytes();
  const R = ed.Point.BASE.multiply(r).add(tR).toBytes();
  const k = mod(leToBig(createHash('sha512').update(R).update(A).update(message).digest()), L);
  const S = mod(r + k * a, L);
  return { publicKey: A, message, signature: Uint8Array.from([...R, ...bigToLe(S)]) };
}
const randomScalar = (): bigint => mod(randomBig(40), L - 1n) + 1n;

function withSPlus(item: Ed25519VerifyItem, add: bigint): Ed25519VerifyItem {
  const S = leToBig(item.signature.subarray(32)) + add;
  return { ...item, signature: Uint8Array.from([...item.signature.subarray(0, 32), ...bigToLe(S)]) };
}

/** Adversarial items of every class the rule names, plus valid controls. */
function adversarialItems(): Ed25519VerifyItem[] {
  const out: Ed25519VerifyItem[] = [];
  const msg = (i: number): Uint8Array => Buffer.from(`adversarial message ${i}`);
  for (let i = 0; i < 8; i++) {
    const t = TORSION[i]!;
    // Small-order A: A is a torsion point (secret 0 is not allowed in [a]B, so build A directly).
    const r = randomScalar();
    const R = ed.Point.BASE.multiply(r).toBytes();
    const A = t.toBytes();
    // S = r: [S]B - R - [k]A = -[k]T, which [8] clears; valid but for A being of small order.
    out.push({ publicKey: A, message: msg(i), signature: Uint8Array.from([...R, ...bigToLe(r)]) });
    // Small-order R with a valid key: S = k a makes [S]B - R - [k]A = -T.
    const a = randomScalar();
    const Ab = ed.Point.BASE.multiply(a).toBytes();
    const Rt = t.toBytes();
    const k2 = mod(leToBig(createHash('sha512').update(Rt).update(Ab).update(msg(i)).digest()), L);
    out.push({ publicKey: Ab, message: msg(i), signature: Uint8Array.from([...Rt, ...bigToLe(mod(k2 * a, L))]) });
    // Mixed order A and R: valid under the cofactored rule; S + 1 makes it invalid.
    const tA = TORSION[(i + 3) % 8]!;
    const mixed = signRaw(randomScalar(), t, randomScalar(), tA, msg(i));
    out.push(mixed, withSPlus(mixed, 1n));
    const mixedA = signRaw(randomScalar(), t, randomScalar(), ed.Point.ZERO, msg(i));
    out.push(mixedA);
    const mixedR = signRaw(randomScalar(), ed.Point.ZERO, randomScalar(), t, msg(i));
    out.push(mixedR);
    // S + L and S + 2L (when it still fits 256 bits) of a valid signature.
    const plain = signRaw(randomScalar(), ed.Point.ZERO, randomScalar(), ed.Point.ZERO, msg(i));
    out.push(plain, withSPlus(plain, L));
    if (leToBig(plain.signature.subarray(32)) + 2n * L < 2n ** 256n) out.push(withSPlus(plain, 2n * L));
    // Non-canonical encodings: y + p for small y, x = 0 with the sign bit.
    const nonCanonicalY = bigToLe(P + BigInt(i % 19));
    out.push({ ...plain, publicKey: nonCanonicalY });
    out.push({ ...plain, signature: Uint8Array.from([...nonCanonicalY, ...plain.signature.subarray(32)]) });
    const xZeroSigned = bigToLe((i % 2 === 0 ? 1n : P - 1n) | (1n << 255n));
    out.push({ ...plain, publicKey: xZeroSigned });
    out.push({ ...plain, signature: Uint8Array.from([...xZeroSigned, ...plain.signature.subarray(32)]) });
  }
  return out;
}

describe('wasm backend verdicts follow the strict, cofactored rule', () => {
  it('RFC 8032 section 7.1 and the sign.input lines: all valid, single and batched', async () => {
    const items = [...rfcItems, ...signInputItems];
    expect(items.every(ruleVerdict)).toBe(true);
    expect(await verifyBatch(items)).toEqual(items.map(() => true));
    expect(await verifyEach(items.slice(0, 64))).toEqual(items.slice(0, 64).map(() => true));
  });

  it('Wycheproof ed25519_test.json: the rule, single and batched', async () => {
    const items = wycheproofItems.map((c) => c.item);
    const expected = items.map(ruleVerdict);
    // The rule agrees with Wycheproof's valid/invalid (it has no "acceptable" Ed25519 cases).
    wycheproofItems.forEach((c, i) => {
      if (c.result !== 'acceptable') expect(expected[i], `tcId ${c.tcId}`).toBe(c.result === 'valid');
    });
    expect(await verifyEach(items)).toEqual(expected);
    expect(await verifyBatch(items)).toEqual(expected);
  });

  it('adversarial inputs (torsion A and R, mixed order, S + L, non-canonical encodings)', async () => {
    const items = adversarialItems();
    const expected = items.map(ruleVerdict);
    expect(expected.filter(Boolean).length).toBeGreaterThan(20); // mixed-order ones are valid
    expect(expected.filter((v) => !v).length).toBeGreaterThan(50);
    expect(await verifyEach(items)).toEqual(expected);
    expect(await verifyBatch(items)).toEqual(expected);
  });

  it('every torsion point is rejected as A and as R, whatever S', async () => {
    const items: Ed25519VerifyItem[] = [];
    for (const t of TORSION) {
      const a = randomScalar();
      const A = ed.Point.BASE.multiply(a).toBytes();
      for (const S of [0n, 1n, randomScalar()]) {
        items.push({ publicKey: t.toBytes(), message: new Uint8Array(0), signature: Uint8Array.from([...ed.Point.BASE.toBytes(), ...bigToLe(S)]) });
        items.push({ publicKey: A, message: new Uint8Array(0), signature: Uint8Array.from([...t.toBytes(), ...bigToLe(S)]) });
      }
    }
    expect(items.map(ruleVerdict).every((v) => !v)).toBe(true);
    expect(await verifyBatch(items)).toEqual(items.map(() => false));
    expect(await verifyEach(items)).toEqual(items.map(() => false));
  });
});

describe('batches: sizes, positions of the invalid ones, bisection, repeated keys', () => {
  const valid = signInputItems;
  const invalidPool = adversarialItems().filter((item) => !ruleVerdict(item));
  const flipped = (item: Ed25519VerifyItem, bit: number): Ed25519VerifyItem => {
    const message = Uint8Array.from(item.message.length > 0 ? item.message : [0]);
    message[(bit >> 3) % message.length]! ^= 1 << (bit & 7);
    return { ...item, message };
  };

  for (const size of [1, 2, 63, 64, 1000]) {
    it(`batch of ${size}: invalid ones at the start, middle and end are named exactly`, async () => {
      const items = Array.from({ length: size }, (_, i) => valid[i % valid.length]!);
      const bad = new Set([0, size >> 1, size - 1]);
      bad.forEach((index) => {
        items[index] = index % 2 === 0 ? flipped(items[index]!, index) : invalidPool[index % invalidPool.length]!;
      });
      const expected = items.map((_, i) => !bad.has(i));
      expect(await verifyBatch(items)).toEqual(expected);
      // All valid, and all invalid.
      const allValid = Array.from({ length: size }, (_, i) => valid[i % valid.length]!);
      expect(await verifyBatch(allValid)).toEqual(allValid.map(() => true));
      const allInvalid = allValid.map((item, i) => flipped(item, i));
      expect(await verifyBatch(allInvalid)).toEqual(allInvalid.map(() => false));
    });
  }

  it('a batch of 5,000 (more than 4,096 coefficients: random bytes are drawn in parts)', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => (i === 4999 ? flipped(valid[i % valid.length]!, i) : valid[i % valid.length]!));
    expect(await verifyBatch(items)).toEqual(items.map((_, i) => i !== 4999));
  });

  it('random scatter of invalid signatures (1 in 7) in a batch of 500', async () => {
    const items = Array.from({ length: 500 }, (_, i) => (i % 7 === 3 ? flipped(valid[i % valid.length]!, i) : valid[i % valid.length]!));
    expect(await verifyBatch(items)).toEqual(items.map((_, i) => i % 7 !== 3));
  });

  it('repeated keys are merged: 16 signers, 600 signatures, same verdicts as one by one', async () => {
    const secrets = Array.from({ length: 16 }, () => ed.utils.randomSecretKey());
    const items: Ed25519VerifyItem[] = Array.from({ length: 600 }, (_, i) => {
      const secret = secrets[i % 16]!;
      const message = Buffer.from(`release file ${i}`);
      return { publicKey: ed.getPublicKey(secret), message, signature: ed.sign(message, secret) };
    });
    // Some invalid ones, including several under one key.
    for (const i of [0, 16, 32, 299, 599]) items[i] = flipped(items[i]!, i);
    const expected = items.map(ruleVerdict);
    expect(expected.filter((v) => !v).length).toBe(5);
    expect(await verifyBatch(items)).toEqual(expected);
    // A second time: the keys now come from the decoded-key cache.
    expect(await verifyBatch(items)).toEqual(expected);
    expect(await verifyEach(items.slice(0, 40))).toEqual(expected.slice(0, 40));
  });

  it('malformed items (wrong types or lengths) are false, never an exception', async () => {
    const good = valid[0]!;
    const items = [
      good,
      { ...good, publicKey: good.publicKey.subarray(0, 31) },
      { ...good, signature: Uint8Array.from([...good.signature, 0]) },
      null as unknown as Ed25519VerifyItem,
      { ...good, message: 'text' as unknown as Uint8Array },
      good,
    ];
    expect(await verifyBatch(items)).toEqual([true, false, false, false, false, true]);
    expect(await verifyBatch([])).toEqual([]);
  });

  it('the engine pool runs the wasm backend in its workers with the same verdicts', async () => {
    const items = Array.from({ length: 300 }, (_, i) => (i % 50 === 7 ? flipped(valid[i % valid.length]!, i) : valid[i % valid.length]!));
    try {
      expect(await verifyEd25519Parallel(items, { backend: 'wasm', jobs: 2 })).toEqual(items.map((_, i) => i % 50 !== 7));
    } finally {
      await closeEnginePool();
    }
  });
});

describe('naming the invalid items of a failed batch (group testing)', () => {
  /** A check oracle over a known set of invalid items, counting its calls. */
  const oracle = (invalid: ReadonlySet<number>) => {
    const calls = { count: 0 };
    const check = (group: readonly number[]): boolean => {
      calls.count++;
      return group.every((i) => !invalid.has(i));
    };
    return { calls, check };
  };

  it('finds exactly the valid items at every invalid rate and size (random mixes, seeded)', () => {
    const random = mulberry32(4);
    for (const size of [1, 2, 3, 63, 64, 1000]) {
      for (const rate of [0, 0.001, 0.01, 0.1, 0.5, 0.9, 1]) {
        for (let round = 0; round < 5; round++) {
          const list = Array.from({ length: size }, (_, i) => i);
          const invalid = new Set(list.filter(() => random() < rate));
          const { check } = oracle(invalid);
          const valid = validItemsOf(list, check);
          expect(valid.sort((a, b) => a - b)).toEqual(list.filter((i) => !invalid.has(i)));
        }
      }
    }
  });

  it('costs one check when all are valid, and few checks per item when many are invalid', () => {
    const list = Array.from({ length: 1024 }, (_, i) => i);
    const none = oracle(new Set());
    validItemsOf(list, none.check);
    expect(none.calls.count).toBe(1);
    // One invalid: about 2 sqrt(n) checks, not n.
    const one = oracle(new Set([517]));
    expect(validItemsOf(list, one.check)).toHaveLength(1023);
    expect(one.calls.count).toBeLessThan(100);
    // All invalid: about one check per item (plain bisection would need ~2n).
    const all = oracle(new Set(list));
    expect(validItemsOf(list, all.check)).toEqual([]);
    expect(all.calls.count).toBeLessThan(1.1 * list.length);
  });

  for (const percent of [0, 1, 10, 50, 100]) {
    it(`wasm backend, ${percent} % invalid in a batch of 400: exact verdicts`, async () => {
      const random = mulberry32(100 + percent);
      const items = Array.from({ length: 400 }, (_, i) => signInputItems[i % signInputItems.length]!);
      const bad = new Set<number>();
      items.forEach((item, i) => {
        if (random() * 100 < percent) {
          bad.add(i);
          const signature = Uint8Array.from(item.signature);
          signature[i % 32]! ^= 1 << (i & 7); // a bit of R
          items[i] = { ...item, signature };
        }
      });
      const expected = items.map(ruleVerdict);
      expect(expected.filter((v) => !v).length).toBe(bad.size);
      expect(await verifyBatch(items)).toEqual(expected);
    });
  }
});

describe.each(['pippenger', 'straus', 'bos-coster'] as const)('every check through one multi-scalar multiplication: %s', (msm) => {
  const forced = createWasmBackend({ msm });
  const mixed = (): Ed25519VerifyItem[] => {
    const items = [...adversarialItems(), ...wycheproofItems.map((c) => c.item), ...signInputItems.slice(0, 40)];
    // Shuffled the same way each run, so valid and invalid ones interleave.
    const random = mulberry32(7);
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  };

  it('gives the rule verdict on vectors and adversarial inputs, in one batch, in batches of 5, and one by one', async () => {
    const items = mixed();
    const expected = items.map(ruleVerdict);
    expect(await forced.verifyEd25519Batch(items)).toEqual(expected);
    const inFives: boolean[] = [];
    for (let i = 0; i < items.length; i += 5) inFives.push(...(await forced.verifyEd25519Batch(items.slice(i, i + 5))));
    expect(inFives).toEqual(expected);
    const oneByOne: boolean[] = [];
    for (const item of items) oneByOne.push(...(await forced.verifyEd25519Batch([item])));
    expect(oneByOne).toEqual(expected);
  });

  it('an unknown method is refused with a clear error', () => {
    expect(() => createWasmBackend({ msm: 'bogus' as never })).toThrow(/unknown multi-scalar multiplication "bogus"/);
  });
});

describe('group testing with a prior invalid rate (from the previous batch)', () => {
  it('is exact at any prior, costs one check when all are valid, and goes one by one at once when the prior is high', () => {
    const random = mulberry32(11);
    const list = Array.from({ length: 500 }, (_, i) => i);
    for (const prior of [0, 0.01, 0.3, 1]) {
      for (const rate of [0, 0.05, 0.3, 1]) {
        const invalid = new Set(list.filter(() => random() < rate));
        let calls = 0;
        const check = (group: readonly number[]): boolean => {
          calls++;
          return group.every((i) => !invalid.has(i));
        };
        expect(validItemsOf(list, check, prior).sort((a, b) => a - b), `prior ${prior}, rate ${rate}`).toEqual(list.filter((i) => !invalid.has(i)));
        if (invalid.size === 0) expect(calls).toBe(1);
        // High prior, all invalid: the whole list, then each item alone, no round of groups in between.
        if (prior === 1 && rate === 1) expect(calls).toBe(1 + list.length);
      }
    }
  });
});
