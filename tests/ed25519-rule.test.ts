/**
 * The verdict rule, "strict, cofactored" (issue 4, docs/VERIFICATION.md), on
 * every adversarial class of input, built here with point arithmetic:
 *
 * - the 8 torsion points as A and as R (rejected: small order);
 * - mixed-order A and R, [a]B + T and [r]B + T, signed so that the cofactored
 *   equation holds, with the torsion parts cancelling in the cofactorless
 *   equation and not (accepted either way);
 * - S + L and S + 2L (rejected);
 * - non-canonical y (y >= p) for A and R, x = 0 with the sign bit, a y with no
 *   curve point (rejected);
 *
 * checked on every registered backend, one by one, in one batch and on the
 * engine's worker pool (which runs dist/: `npm test` builds first), and by the
 * reference implementation (rule.ts), which must also name the reason.
 * The signer is a raw one: R's nonce r and A's secret scalar a are chosen
 * freely, S = r + k a mod L.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

import { Point } from '@noble/ed25519';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  BACKEND_NAMES,
  closeEnginePool,
  getBackend,
  verifyEd25519,
  verifyEd25519Batch,
  verifyEd25519Parallel,
  type Ed25519VerifyItem,
} from '../src/engine/index.js';
import { bytesToNumberLE, ED25519_L, ED25519_P } from '../src/engine/precheck.js';
import { checkByRule, verifyByRule, type Ed25519RuleFailure } from '../src/engine/rule.js';

const L = ED25519_L;
const P = ED25519_P;
const B = Point.BASE;
const SIGN_BIT = 0x80;

const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
};
const sodiumAccepts = (item: Ed25519VerifyItem): boolean =>
  sodium.crypto_sign_verify_detached(item.signature, item.message, item.publicKey);

// --- small helpers --------------------------------------------------------------

const leBytes32 = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return bytes;
};
const withSignBit = (bytes: Uint8Array): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[31]! |= SIGN_BIT;
  return copy;
};
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((part) => [...part]));
const mod = (value: bigint, m: bigint): bigint => ((value % m) + m) % m;

/** A deterministic scalar in [1, L) from a label, so every run builds the same cases. */
const scalarFrom = (label: string): bigint =>
  mod(bytesToNumberLE(createHash('sha512').update(label).digest()), L - 1n) + 1n;

/** k = SHA-512(R || A || M) mod L, by node:crypto (not the hash rule.ts uses). */
const challenge = (R: Uint8Array, A: Uint8Array, message: Uint8Array): bigint =>
  mod(bytesToNumberLE(createHash('sha512').update(R).update(A).update(message).digest()), L);

/** [n]Q for any n >= 0, also n >= L (noble's multiply wants 0 <= n < L). */
function times(n: bigint, point: Point): Point {
  let result = Point.ZERO;
  let addend = point;
  for (let bits = n; bits > 0n; bits >>= 1n) {
    if (bits & 1n) result = result.add(addend);
    addend = addend.double();
  }
  return result;
}

function orderOfSmallPoint(point: Point): number {
  for (const order of [1, 2, 4, 8]) if (times(BigInt(order), point).is0()) return order;
  throw new Error('not a small-order point');
}

// --- the torsion subgroup ---------------------------------------------------

/**
 * [L]Q kills Q's prime-order part and keeps its torsion part, so it lands in
 * the torsion subgroup (order 8, cyclic). Try points Q with y = 2, 3, ...
 * until [L]Q has order 8: its multiples are then the whole subgroup.
 */
function findTorsionGenerator(): Point {
  for (let y = 2n; ; y++) {
    let Q: Point;
    try {
      Q = Point.fromBytes(leBytes32(y), false);
    } catch {
      continue; // no point with this y
    }
    const T = times(L, Q);
    if (orderOfSmallPoint(T) === 8) return T;
  }
}

const T8 = findTorsionGenerator();
/** TORSION[i] = [i]T8: TORSION[0] is the identity, [4] has order 2, [2] and [6] order 4, odd ones order 8. */
const TORSION: readonly Point[] = Array.from({ length: 8 }, (_, i) => times(BigInt(i), T8));

// --- raw signing ----------------------------------------------------------------

interface RawSignature {
  /** A = [a]B + torsionA. */
  a: bigint;
  torsionA?: Point;
  /** R = [r]B + torsionR. */
  r: bigint;
  torsionR?: Point;
  message: Uint8Array;
}

interface Signed extends Ed25519VerifyItem {
  k: bigint;
}

/**
 * S = r + k a mod L. Then [S]B - R - [k]A = -(torsionR + [k]torsionA): the
 * cofactored equation always holds, the cofactorless one only when the
 * torsion parts cancel.
 */
function rawSign({ a, torsionA = Point.ZERO, r, torsionR = Point.ZERO, message }: RawSignature): Signed {
  const A = times(a, B).add(torsionA).toBytes();
  const R = times(r, B).add(torsionR).toBytes();
  const k = challenge(R, A, message);
  const S = mod(r + k * a, L);
  return { publicKey: A, message, signature: concat(R, leBytes32(S)), k };
}

/** The cofactorless equation [S]B = R + [k]A holds exactly when torsionR + [k]torsionA is the identity. */
const torsionCancels = (signed: Signed, torsionA: Point, torsionR: Point): boolean =>
  torsionR.add(times(signed.k, torsionA)).is0();

const withS = (item: Ed25519VerifyItem, S: bigint): Ed25519VerifyItem => ({
  ...item,
  signature: concat(item.signature.subarray(0, 32), leBytes32(S)),
});
const withR = (item: Ed25519VerifyItem, R: Uint8Array): Ed25519VerifyItem => ({
  ...item,
  signature: concat(R, item.signature.subarray(32)),
});

// --- the cases ----------------------------------------------------------------

interface Case {
  name: string;
  item: Ed25519VerifyItem;
  /** The reference rule's reason for rejecting, or 'valid'. */
  expected: Ed25519RuleFailure | 'valid';
}

const message = (label: string): Uint8Array => new TextEncoder().encode(label);

function buildCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, item: Ed25519VerifyItem, expected: Case['expected']) => cases.push({ name, item, expected });

  // Plain signatures from the raw signer: the baseline.
  for (let i = 0; i < 4; i++) {
    add(`plain signature ${i}`, rawSign({ a: scalarFrom(`a${i}`), r: scalarFrom(`r${i}`), message: message(`plain ${i}`) }), 'valid');
  }

  // The 8 torsion points as A. With A = T, [8]([S]B - R - [k]T) = [8]([S]B - R), so S = r makes the
  // cofactored equation hold for every message: exactly why small-order keys are refused.
  TORSION.forEach((T, i) => {
    const signed = rawSign({ a: 0n, torsionA: T, r: scalarFrom(`torsion A ${i}`), message: message(`torsion A ${i}`) });
    add(`A = [${i}]T8 (order ${orderOfSmallPoint(T)})`, signed, 'small-order-a');
  });

  // The 8 torsion points as R, with S = k a: the cofactored equation holds without knowing any nonce.
  TORSION.forEach((T, i) => {
    const signed = rawSign({ a: scalarFrom(`torsion R ${i}`), r: 0n, torsionR: T, message: message(`torsion R ${i}`) });
    add(`R = [${i}]T8 (order ${orderOfSmallPoint(T)})`, signed, 'small-order-r');
  });

  // Mixed order A = [a]B + T, for every non-zero T, a few keys each.
  for (let i = 1; i < 8; i++) {
    for (let j = 0; j < 3; j++) {
      const signed = rawSign({ a: scalarFrom(`mixed A ${i} ${j}`), torsionA: TORSION[i]!, r: scalarFrom(`mixed A r ${i} ${j}`), message: message(`mixed A ${i} ${j}`) });
      add(`mixed-order A, torsion [${i}]T8, key ${j}`, signed, 'valid');
    }
  }

  // Mixed order R = [r]B + T.
  for (let i = 1; i < 8; i++) {
    const signed = rawSign({ a: scalarFrom(`mixed R ${i}`), r: scalarFrom(`mixed R r ${i}`), torsionR: TORSION[i]!, message: message(`mixed R ${i}`) });
    add(`mixed-order R, torsion [${i}]T8`, signed, 'valid');
  }

  // Mixed A and R whose torsion parts cancel in the cofactorless equation (TR + [k]TA = 0): k depends on R,
  // so draw nonces until it happens (about one try in 8). libsodium accepts these too.
  for (let i = 1; i < 8; i++) {
    const torsionA = TORSION[i]!;
    for (let attempt = 0; ; attempt++) {
      const torsionR = TORSION[(attempt * 5 + i) % 8]!;
      const signed = rawSign({
        a: scalarFrom(`cancel ${i}`),
        torsionA,
        r: scalarFrom(`cancel r ${i} ${attempt}`),
        torsionR,
        message: message(`cancel ${i}`),
      });
      if (!torsionR.is0() && torsionCancels(signed, torsionA, torsionR)) {
        add(`mixed-order A and R, torsion parts cancel (TA = [${i}]T8)`, signed, 'valid');
        break;
      }
    }
  }

  // Mixed A and R whose torsion parts do not cancel.
  for (let i = 1; i < 8; i++) {
    for (let attempt = 0; ; attempt++) {
      const torsionA = TORSION[i]!;
      const torsionR = TORSION[(i + 3 + attempt) % 8]!;
      const signed = rawSign({
        a: scalarFrom(`no cancel ${i}`),
        torsionA,
        r: scalarFrom(`no cancel r ${i} ${attempt}`),
        torsionR,
        message: message(`no cancel ${i}`),
      });
      if (!torsionCancels(signed, torsionA, torsionR)) {
        add(`mixed-order A and R, torsion parts do not cancel (TA = [${i}]T8)`, signed, 'valid');
        break;
      }
    }
  }

  // S + L and S + 2L: the same scalar mod L, not the canonical encoding. On a plain and a mixed-order signature.
  const plain = rawSign({ a: scalarFrom('malleable'), r: scalarFrom('malleable r'), message: message('malleable') });
  const mixed = rawSign({ a: scalarFrom('malleable mixed'), torsionA: TORSION[3]!, r: scalarFrom('malleable mixed r'), torsionR: TORSION[6]!, message: message('malleable mixed') });
  for (const [label, item] of [['plain', plain], ['mixed-order', mixed]] as const) {
    const S = bytesToNumberLE(item.signature.subarray(32));
    add(`${label} signature, S + L`, withS(item, S + L), 'non-canonical-s');
    add(`${label} signature, S + 2L`, withS(item, S + 2n * L), 'non-canonical-s');
  }

  // Non-canonical y: y = p + j for every j that fits in 255 bits (y - p = 0..18), both sign bits.
  for (let j = 0n; P + j < 2n ** 255n; j++) {
    for (const signBit of [false, true]) {
      const encoding = signBit ? withSignBit(leBytes32(P + j)) : leBytes32(P + j);
      const label = `y = p + ${j}${signBit ? ', sign bit set' : ''}`;
      add(`A with ${label}`, { ...plain, publicKey: encoding }, 'non-canonical-a');
      add(`R with ${label}`, withR(plain, encoding), 'non-canonical-r');
    }
  }

  // Non-canonical small-order points that would verify under lax decoding: p + 1 is the identity
  // (y = 1), p is the order-4 point with y = 0.
  for (const [label, y] of [['p + 1 (the identity)', P + 1n], ['p (y = 0, order 4)', P]] as const) {
    const a = scalarFrom(`lax ${label}`);
    const A = times(a, B).toBytes();
    const R = leBytes32(y);
    const m = message(`lax ${label}`);
    const S = mod(challenge(R, A, m) * a, L);
    add(`R = ${label}, S = k a`, { publicKey: A, message: m, signature: concat(R, leBytes32(S)) }, 'non-canonical-r');
    const r = scalarFrom(`lax r ${label}`);
    const Rplain = times(r, B).toBytes();
    add(`A = ${label}, S = r`, { publicKey: leBytes32(y), message: m, signature: concat(Rplain, leBytes32(r)) }, 'non-canonical-a');
  }

  // x = 0 with the sign bit set: y = 1 and y = p - 1 (RFC 8032 §5.1.3 step 4).
  for (const [label, y] of [['1', 1n], ['p - 1', P - 1n]] as const) {
    const encoding = withSignBit(leBytes32(y));
    add(`A with y = ${label}, sign bit set (x = 0)`, { ...plain, publicKey: encoding }, 'non-canonical-a');
    add(`R with y = ${label}, sign bit set (x = 0)`, withR(plain, encoding), 'non-canonical-r');
  }

  // A y with no curve point (x^2 would have to be a non-square): the first few such y, both sign bits.
  let found = 0;
  for (let y = 2n; found < 3; y++) {
    try {
      Point.fromBytes(leBytes32(y), false);
      continue;
    } catch {
      found++;
    }
    for (const encoding of [leBytes32(y), withSignBit(leBytes32(y))]) {
      const label = `y = ${y}${encoding[31]! & SIGN_BIT ? ', sign bit set' : ''} (no curve point)`;
      add(`A with ${label}`, { ...plain, publicKey: encoding }, 'a-not-on-curve');
      add(`R with ${label}`, withR(plain, encoding), 'r-not-on-curve');
    }
  }

  return cases;
}

const cases = buildCases();
const verdictOf = (c: Case): boolean => c.expected === 'valid';
const names = (list: readonly Case[]) => list.map((c) => c.name);

// --- the tests ----------------------------------------------------------------

describe('the adversarial inputs are what they claim to be', () => {
  it('the torsion subgroup has 8 distinct points: orders 1, 2, 4, 4 and four of order 8', () => {
    const encodings = new Set(TORSION.map((T) => T.toHex()));
    expect(encodings.size).toBe(8);
    expect(TORSION.map(orderOfSmallPoint).sort()).toEqual([1, 2, 4, 4, 8, 8, 8, 8]);
    for (const T of TORSION) expect(T.multiplyUnsafe(8n).is0()).toBe(true);
  });

  it('the mixed-order points are neither small-order nor in the prime-order subgroup', () => {
    const A = times(scalarFrom('check'), B).add(TORSION[1]!);
    expect(A.multiplyUnsafe(8n).is0()).toBe(false);
    expect(times(L, A).is0()).toBe(false);
  });

  it('[8]([k]A) is not [(8k mod L)]A for a mixed-order A: the rule must not reduce 8k first', () => {
    const A = times(scalarFrom('8k'), B).add(TORSION[1]!);
    const k = scalarFrom('k');
    expect(times(8n, times(k, A)).equals(times(mod(8n * k, L), A))).toBe(false);
  });

  it('has every class, and a few hundred cases', () => {
    const count = (prefix: string) => cases.filter((c) => c.name.startsWith(prefix)).length;
    expect(count('A = [')).toBe(8);
    expect(count('R = [')).toBe(8);
    expect(count('mixed-order A,')).toBe(21);
    expect(count('mixed-order R,')).toBe(7);
    expect(count('mixed-order A and R, torsion parts cancel')).toBe(7);
    expect(count('mixed-order A and R, torsion parts do not cancel')).toBe(7);
    expect(cases.filter((c) => c.name.includes('y = p + ')).length).toBe(19 * 4);
    expect(cases.length).toBeGreaterThan(150);
  });
});

describe('the libraries out of the box (why the rule is enforced by blux-reg)', () => {
  it('libsodium is cofactorless: it rejects mixed-order signatures whose torsion parts do not cancel', () => {
    const mixedValid = cases.filter((c) => c.name.startsWith('mixed-order') && c.expected === 'valid');
    const cancelling = mixedValid.filter((c) => c.name.includes('torsion parts cancel'));
    const rejected = mixedValid.filter((c) => !sodiumAccepts(c.item));
    expect(cancelling.every((c) => sodiumAccepts(c.item))).toBe(true);
    // Mixed R alone and the non-cancelling pairs can never satisfy the cofactorless equation.
    expect(names(rejected)).toEqual(
      expect.arrayContaining(names(mixedValid.filter((c) => c.name.startsWith('mixed-order R,') || c.name.includes('do not cancel')))),
    );
  });

  it('libsodium rejects every small-order A and R', () => {
    const smallOrder = cases.filter((c) => c.expected === 'small-order-a' || c.expected === 'small-order-r');
    expect(smallOrder).toHaveLength(16);
    expect(names(smallOrder.filter((c) => sodiumAccepts(c.item)))).toEqual([]);
  });

  it('noble with zip215: false accepts a small-order R (the cofactored equation holds)', async () => {
    const ed = await import('@noble/ed25519');
    const { sha512 } = await import('@noble/hashes/sha2.js');
    ed.hashes.sha512 = sha512;
    const smallR = cases.filter((c) => c.expected === 'small-order-r');
    const accepted = smallR.filter((c) => ed.verify(c.item.signature, c.item.message, c.item.publicKey, { zip215: false }));
    expect(accepted).toHaveLength(8);
  });

  it('whatever libsodium accepts, the rule accepts (the native backend relies on it)', () => {
    const wronglyAccepted = cases.filter((c) => sodiumAccepts(c.item) && !verdictOf(c));
    expect(names(wronglyAccepted)).toEqual([]);
  });
});

describe('the reference rule (rule.ts)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(checkByRule(c.item) ?? 'valid').toBe(c.expected);
    expect(verifyByRule(c.item)).toBe(verdictOf(c));
  });
});

describe.each(BACKEND_NAMES)('the %s backend follows the rule', (backendName) => {
  const opts = { backend: backendName };
  beforeAll(() => {
    getBackend(backendName);
  });

  it('every case, in one batch', async () => {
    const verdicts = await verifyEd25519Batch(
      cases.map((c) => c.item),
      opts,
    );
    const wrong = cases.filter((c, i) => verdicts[i] !== verdictOf(c)).map((c) => `${c.name}: expected ${c.expected}`);
    expect(wrong).toEqual([]);
  });

  it('every case, one by one', async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const verdict = await verifyEd25519(c.item.publicKey, c.item.message, c.item.signature, opts);
      if (verdict !== verdictOf(c)) wrong.push(`${c.name}: expected ${c.expected}`);
    }
    expect(wrong).toEqual([]);
  });

  it('every case, in the middle of a batch of plain valid signatures', async () => {
    const filler = cases.filter((c) => /^plain signature \d+$/.test(c.name)).map((c) => c.item);
    expect(filler).toHaveLength(4);
    const items = cases.flatMap((c) => [...filler, c.item]);
    const verdicts = await verifyEd25519Batch(items, opts);
    const stride = filler.length + 1;
    const wrong = cases.filter((c, i) => {
      const fillerOk = verdicts.slice(i * stride, i * stride + filler.length).every((v) => v);
      return !fillerOk || verdicts[i * stride + filler.length] !== verdictOf(c);
    });
    expect(names(wrong)).toEqual([]);
  });
});

describe('on the worker pool (backends created in worker threads)', () => {
  afterAll(async () => {
    await closeEnginePool();
  });

  it.each(BACKEND_NAMES)('%s: every case, repeated to fill a parallel batch', async (backendName) => {
    // Enough items that verifyEd25519Parallel uses the pool rather than this thread (2,048 on a cold pool).
    const copies = Math.ceil(2_100 / cases.length);
    const repeated = Array.from({ length: copies }, () => cases).flat();
    const verdicts = await verifyEd25519Parallel(
      repeated.map((c) => c.item),
      { backend: backendName, jobs: 2 },
    );
    const wrong = repeated.filter((c, i) => verdicts[i] !== verdictOf(c));
    expect([...new Set(names(wrong))]).toEqual([]);
  }, 60_000);
});
