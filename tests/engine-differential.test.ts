/**
 * Differential tests: every backend must give the verdict of blux-reg's rule
 * ("strict, cofactored", src/engine/rule.ts, docs/VERIFICATION.md), in batch
 * and one by one, on random signatures and mutations of them. Keys, messages
 * and mutations come from a seeded PRNG, and Ed25519 signing is
 * deterministic, so one seed reproduces the whole run:
 *
 *   BLUX_TEST_SEED=1234 npx vitest run tests/engine-differential.test.ts
 *
 * Two parts:
 * 1. `KEY_COUNT` keys signed by node:crypto (OpenSSL), each with a fixed list
 *    of mutations (lengths, encodings, S + L, bit flips...), on every backend.
 * 2. `LARGE_RUN.total` = 100,000 signatures with random mutations (bit flips in
 *    R, S, A and M; S + L; torsion added to A or R) and mixed-order signatures
 *    built with torsion components (the class where libsodium, cofactorless,
 *    and the rule disagree). The js backend and the reference rule cost ~1.5 ms
 *    per item, too slow for 100,000 within a test, so the work is split:
 *    - all 100,000 items: the native backend in batch and one by one, and
 *      libsodium called directly;
 *    - `OTHER_FAST_CHECKED` = 10,000 items for each other fast backend (wasm):
 *      batch and one by one, every item with a torsion component plus a
 *      random sample of the rest;
 *    - `JS_CHECKED` = 3,000 items: the js backend (batch, and 300 one by one)
 *      and the reference rule, on every item with a torsion component (where
 *      backends can differ) plus a random sample of 800 other mutated and 200
 *      unmutated ones.
 *    bench/differential-1m.mjs runs every backend over 1,000,000 items,
 *    outside `npm test`.
 *
 * Also: backend selection (explicit name > BLUX_REG_BACKEND > native).
 */
import { createHash, createPrivateKey, createPublicKey, randomInt, sign } from 'node:crypto';
import { createRequire } from 'node:module';

import { Point } from '@noble/ed25519';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BluxError } from '../src/errors.js';
import {
  BACKEND_CHOICES, BACKEND_NAMES,
  getBackend,
  resolveBackendName,
  sha256,
  verifyEd25519,
  type BackendName,
  type Ed25519VerifyItem,
} from '../src/engine/index.js';
import { bytesToNumberLE, ED25519_L, ED25519_P } from '../src/engine/precheck.js';
import { verifyByRule } from '../src/engine/rule.js';
import { mulberry32 } from './helpers/random.js';

const KEY_COUNT = 100;
const SEED = process.env['BLUX_TEST_SEED'] !== undefined ? Number(process.env['BLUX_TEST_SEED']) >>> 0 : randomInt(2 ** 31);
const REPRODUCE = `seed ${SEED} (rerun with BLUX_TEST_SEED=${SEED})`;


const random = mulberry32(SEED);
const randomIndex = (length: number): number => Math.floor(random() * length);
const randomBytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => randomIndex(256));

/** PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): lets node:crypto use a seed we chose. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function keyPairFromSeed(seed: Uint8Array) {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('no raw public key in the JWK');
  return { privateKey, publicKey: Uint8Array.from(Buffer.from(jwk.x, 'base64url')) };
}

const leBytes32 = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return bytes;
};
const numberLE = (bytes: Uint8Array): bigint => bytes.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);

function flipRandomBit(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const bit = randomIndex(bytes.length * 8);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

interface Case {
  label: string;
  item: Ed25519VerifyItem;
  expected: boolean;
}

/** One valid signature and the ways of breaking it; every mutation must be rejected. */
function casesForKey(index: number, previous: Ed25519VerifyItem | undefined): Case[] {
  const { privateKey, publicKey } = keyPairFromSeed(randomBytes(32));
  // Message lengths from 0 up, including block-boundary sizes for SHA-512 (128 bytes).
  const message = randomBytes(randomIndex(300));
  const signature = Uint8Array.from(sign(null, message, privateKey));
  const valid: Ed25519VerifyItem = { publicKey, message, signature };
  const R = signature.subarray(0, 32);
  const S = signature.subarray(32);

  const mutations: Array<[string, Partial<Ed25519VerifyItem>]> = [
    ['message bit flipped', { message: message.length > 0 ? flipRandomBit(message) : Uint8Array.of(0) }],
    ['signature bit flipped', { signature: flipRandomBit(signature) }],
    ['public key bit flipped', { publicKey: flipRandomBit(publicKey) }],
    ['signature truncated', { signature: signature.subarray(0, 63) }],
    ['signature extended', { signature: Uint8Array.from([...signature, randomIndex(256)]) }],
    ['public key truncated', { publicKey: publicKey.subarray(1) }],
    ['public key extended', { publicKey: Uint8Array.from([...publicKey, 0]) }],
    ['message extended', { message: Uint8Array.from([...message, randomIndex(256)]) }],
    // Malleability: S + L is the same scalar mod L, but not the canonical encoding.
    ['S replaced by S + L', { signature: Uint8Array.from([...R, ...leBytes32(numberLE(S) + ED25519_L)]) }],
    ['S set to zero', { signature: Uint8Array.from([...R, ...new Uint8Array(32)]) }],
    ['R encoded non-canonically (y = p)', { signature: Uint8Array.from([...leBytes32(ED25519_P), ...S]) }],
    ['all-zero public key', { publicKey: new Uint8Array(32) }],
    ['identity public key (y = 1)', { publicKey: leBytes32(1n) }],
    ['identity public key, sign bit set', { publicKey: leBytes32(1n | (1n << 255n)) }],
    ['all-zero signature', { signature: new Uint8Array(64) }],
    ['signature of a random other message', { message: randomBytes(message.length + 1) }],
  ];
  if (previous !== undefined) mutations.push(['previous key', { publicKey: previous.publicKey }]);

  return [
    { label: `key ${index}: unmutated`, item: valid, expected: true },
    ...mutations.map(([what, change]) => ({ label: `key ${index}: ${what}`, item: { ...valid, ...change }, expected: false })),
  ];
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  let previous: Ed25519VerifyItem | undefined;
  for (let i = 0; i < KEY_COUNT; i++) {
    const forKey = casesForKey(i, previous);
    previous = forKey[0]!.item;
    cases.push(...forKey);
  }
  return cases;
}

/** Fisher-Yates with the seeded PRNG. */
function shuffled<T>(values: readonly T[]): T[] {
  const copy = [...values];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = randomIndex(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe(`differential Ed25519, ${KEY_COUNT} keys, ${REPRODUCE}`, () => {
  const cases = buildCases();
  const items = cases.map((c) => c.item);
  // Each backend's batch verdicts, computed once and shared by the tests below
  // (memoized, so any test can also run on its own with -t).
  const batchRuns = new Map<BackendName, Promise<boolean[]>>();
  const batchVerdicts = (name: BackendName): Promise<boolean[]> => {
    let run = batchRuns.get(name);
    if (run === undefined) {
      run = getBackend(name).verifyEd25519Batch(items);
      batchRuns.set(name, run);
    }
    return run;
  };

  it.each(BACKEND_NAMES)('%s: batch verdicts are the expected ones', async (name) => {
    const verdicts = await batchVerdicts(name);
    const wrong = cases.filter((c, i) => verdicts[i] !== c.expected).map((c) => c.label);
    expect(wrong, REPRODUCE).toEqual([]);
  }, 120_000);

  it('the backends agree item by item', async () => {
    const [first, ...others] = await Promise.all(
      BACKEND_NAMES.map(async (name) => ({ name, verdicts: await batchVerdicts(name) })),
    );
    for (const other of others) {
      const disagreements = cases.flatMap((c, i) =>
        first!.verdicts[i] === other.verdicts[i]
          ? []
          : [`${c.label}: ${first!.name}=${first!.verdicts[i]} ${other.name}=${other.verdicts[i]}`],
      );
      expect(disagreements, REPRODUCE).toEqual([]);
    }
  }, 120_000);

  it.each(BACKEND_NAMES)('%s: one by one gives the batch verdicts', async (name) => {
    const batch = await batchVerdicts(name);
    const single: boolean[] = [];
    for (const { publicKey, message, signature } of items) {
      single.push(await verifyEd25519(publicKey, message, signature, { backend: name }));
    }
    const differing = cases.filter((_, i) => single[i] !== batch[i]).map((c) => c.label);
    expect(differing, REPRODUCE).toEqual([]);
  }, 120_000);

  it.each(BACKEND_NAMES)('%s: a verdict does not depend on the item\'s place in the batch', async (name) => {
    const batch = await batchVerdicts(name);
    // A shuffled sample keeps this cheap on the slow backend; the order is what is under test.
    const order = shuffled(items.map((_, i) => i)).slice(0, 500);
    const verdicts = await getBackend(name).verifyEd25519Batch(order.map((i) => items[i]!));
    expect(verdicts, REPRODUCE).toEqual(order.map((i) => batch[i]));
  }, 120_000);
});

// ---------------------------------------------------------------------------
// Part 2: 100,000 random signatures with random mutations
// ---------------------------------------------------------------------------

/** How the 100,000 items are made up. */
const LARGE_RUN = {
  total: 100_000,
  /** Keys the plain signatures are spread over. */
  keys: 1_000,
  /** Mixed-order signatures ([a]B + T as A and/or [r]B + T as R): valid by the rule. */
  torsionSigned: 1_000,
  /** Of those, how many more get one random mutation (invalid). */
  torsionSignedMutated: 500,
  /** Plain signatures with a torsion point added to A or to R after signing (invalid). */
  torsionAdded: 500,
  /** Plain signatures with one random bit flip in R, S, A or M, or S replaced by S + L (invalid). */
  plainMutated: 25_000,
  // The rest, 73,000, are plain valid signatures.
} as const;
const PLAIN_VALID = LARGE_RUN.total - LARGE_RUN.torsionSigned - LARGE_RUN.torsionSignedMutated - LARGE_RUN.torsionAdded - LARGE_RUN.plainMutated;

/** Items the js backend and the reference rule also check: every torsion one, plus these samples. */
const JS_SAMPLE = { plainMutated: 800, plainValid: 200 } as const;
const JS_CHECKED = LARGE_RUN.torsionSigned + LARGE_RUN.torsionSignedMutated + LARGE_RUN.torsionAdded + JS_SAMPLE.plainMutated + JS_SAMPLE.plainValid;
/** Of the js-checked items, how many the js backend also verifies one by one. */
const JS_SINGLE = 300;

/** js: pure JavaScript, ~1.5 ms per item, checked on the JS_CHECKED items only. */
const SLOW_BACKENDS: ReadonlySet<BackendName> = new Set<BackendName>(['js']);
const FAST_BACKENDS = BACKEND_NAMES.filter((name) => !SLOW_BACKENDS.has(name));
/** The backend checked on all 100,000 items, in batch and one by one. */
const FULL_RUN_BACKEND: BackendName = 'native';
/**
 * Items for each other fast backend (wasm): every torsion item plus a random
 * sample of the rest. Its batches bisect on failure, so with a quarter of the
 * items invalid it ran at ~0.6-0.8 ms per item here; all 100,000 would take
 * ~120 s (batch and single). bench/differential-1m.mjs runs it on everything.
 */
const OTHER_FAST_CHECKED = 10_000;

interface SodiumForTests {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
}
const sodium = createRequire(import.meta.url)('sodium-native') as SodiumForTests;

/** A PRNG of its own, so running part 1 or not (-t) does not change part 2's data. */
const largeRandom = mulberry32((SEED ^ 0x9e3779b9) >>> 0);
const largeIndex = (length: number): number => Math.floor(largeRandom() * length);
const largeBytes = (length: number): Uint8Array => {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(largeRandom() * 256);
  return bytes;
};
const randomScalar = (): bigint => (bytesToNumberLE(largeBytes(64)) % (ED25519_L - 1n)) + 1n;

/**
 * The 8 points of the torsion subgroup, encoded: [L]Q for a point Q keeps
 * only Q's torsion part; one of order 8 generates them all. TORSION[i] = [i]T8.
 */
function torsionEncodings(): Uint8Array[] {
  const times = (n: bigint, point: Point): Point => {
    let result = Point.ZERO;
    for (let addend = point; n > 0n; n >>= 1n, addend = addend.double()) if (n & 1n) result = result.add(addend);
    return result;
  };
  for (let y = 2n; ; y++) {
    let Q: Point;
    try {
      Q = Point.fromBytes(leBytes32(y), false);
    } catch {
      continue;
    }
    const T8 = times(ED25519_L, Q);
    if (!times(4n, T8).is0()) return Array.from({ length: 8 }, (_, i) => times(BigInt(i), T8).toBytes());
  }
}
const TORSION = torsionEncodings();

type LargeClass = 'plain valid' | 'plain mutated' | 'torsion added' | 'torsion signed' | 'torsion signed, mutated';

interface LargeItem {
  item: Ed25519VerifyItem;
  kind: LargeClass;
  /** What was done to it, for failure messages. */
  label: string;
  expected: boolean;
  /** For torsion-signed items: does libsodium's cofactorless equation hold too? */
  cofactorlessHolds?: boolean;
}

function addPoints(p: Uint8Array, q: Uint8Array): Uint8Array {
  const sum = new Uint8Array(32);
  sodium.crypto_core_ed25519_add(sum, p, q);
  return sum;
}

function baseTimes(scalar: bigint): Uint8Array {
  const point = new Uint8Array(32);
  sodium.crypto_scalarmult_ed25519_base_noclamp(point, leBytes32(scalar));
  return point;
}

/**
 * A raw signature with torsion: A = [a]B + [i]T8, R = [r]B + [j]T8,
 * S = r + k a mod L. The cofactored equation holds; the cofactorless one
 * leaves [j]T8 + [k][i]T8 = [(j + k i) mod 8]T8, so it holds iff that is 0.
 */
function torsionSigned(a: bigint, i: number, j: number, message: Uint8Array): { item: Ed25519VerifyItem; cofactorlessHolds: boolean } {
  const r = randomScalar();
  const A = i === 0 ? baseTimes(a) : addPoints(baseTimes(a), TORSION[i]!);
  const R = j === 0 ? baseTimes(r) : addPoints(baseTimes(r), TORSION[j]!);
  const k = bytesToNumberLE(createHash('sha512').update(R).update(A).update(message).digest()) % ED25519_L;
  const S = (r + k * a) % ED25519_L;
  return {
    item: { publicKey: A, message, signature: Uint8Array.from([...R, ...leBytes32(S)]) },
    cofactorlessHolds: (BigInt(j) + k * BigInt(i)) % 8n === 0n,
  };
}

function flipBit(bytes: Uint8Array): [Uint8Array, number] {
  if (bytes.length === 0) return [Uint8Array.of(largeIndex(256)), -1];
  const copy = Uint8Array.from(bytes);
  const bit = largeIndex(bytes.length * 8);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return [copy, bit];
}

const PLAIN_MUTATIONS = ['R bit flip', 'S bit flip', 'A bit flip', 'M bit flip', 'S + L'] as const;
const TORSION_MUTATIONS = ['torsion added to A', 'torsion added to R'] as const;
type Mutation = (typeof PLAIN_MUTATIONS)[number] | (typeof TORSION_MUTATIONS)[number];

function mutate(item: Ed25519VerifyItem, mutation: Mutation): [Ed25519VerifyItem, string] {
  const R = item.signature.subarray(0, 32);
  const S = item.signature.subarray(32);
  const withSignature = (newR: Uint8Array, newS: Uint8Array) => ({ ...item, signature: Uint8Array.from([...newR, ...newS]) });
  const torsionPoint = () => 1 + largeIndex(7);
  switch (mutation) {
    case 'R bit flip': {
      const [flipped, bit] = flipBit(R);
      return [withSignature(flipped, S), `${mutation} (bit ${bit})`];
    }
    case 'S bit flip': {
      const [flipped, bit] = flipBit(S);
      return [withSignature(R, flipped), `${mutation} (bit ${bit})`];
    }
    case 'A bit flip': {
      const [flipped, bit] = flipBit(item.publicKey);
      return [{ ...item, publicKey: flipped }, `${mutation} (bit ${bit})`];
    }
    case 'M bit flip': {
      const [flipped, bit] = flipBit(item.message);
      return [{ ...item, message: flipped }, bit < 0 ? 'M extended by a byte' : `${mutation} (bit ${bit})`];
    }
    case 'S + L':
      return [withSignature(R, leBytes32(bytesToNumberLE(S) + ED25519_L)), mutation];
    case 'torsion added to A': {
      const t = torsionPoint();
      return [{ ...item, publicKey: addPoints(item.publicKey, TORSION[t]!) }, `${mutation} ([${t}]T8)`];
    }
    case 'torsion added to R': {
      const t = torsionPoint();
      return [withSignature(addPoints(R, TORSION[t]!), S), `${mutation} ([${t}]T8)`];
    }
  }
}

const pick = <T>(values: readonly T[]): T => values[largeIndex(values.length)]!;

function buildLargeRun(): LargeItem[] {
  const keys = Array.from({ length: LARGE_RUN.keys }, () => {
    const publicKey = new Uint8Array(32);
    const secretKey = new Uint8Array(64);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, largeBytes(32));
    return { publicKey, secretKey };
  });
  const plainSigned = (): Ed25519VerifyItem => {
    const { publicKey, secretKey } = pick(keys);
    // Lengths 0-255: around SHA-512's 128-byte block, and short enough to keep generation quick.
    const message = largeBytes(largeIndex(256));
    const signature = new Uint8Array(64);
    sodium.crypto_sign_detached(signature, message, secretKey);
    return { publicKey, message, signature };
  };

  const items: LargeItem[] = [];
  for (let n = 0; n < PLAIN_VALID; n++) {
    items.push({ item: plainSigned(), kind: 'plain valid', label: 'unmutated', expected: true });
  }
  for (let n = 0; n < LARGE_RUN.plainMutated; n++) {
    const [item, label] = mutate(plainSigned(), pick(PLAIN_MUTATIONS));
    items.push({ item, kind: 'plain mutated', label, expected: false });
  }
  for (let n = 0; n < LARGE_RUN.torsionAdded; n++) {
    const [item, label] = mutate(plainSigned(), pick(TORSION_MUTATIONS));
    items.push({ item, kind: 'torsion added', label, expected: false });
  }
  // Torsion index pairs (i for A, j for R): mixed A only, mixed R only, or both; for "both",
  // half of them chosen so that the torsion parts cancel in the cofactorless equation.
  const torsionSignedItems: LargeItem[] = [];
  for (let n = 0; n < LARGE_RUN.torsionSigned; n++) {
    const a = randomScalar();
    const message = largeBytes(largeIndex(256));
    const shape = n % 4;
    let signed: ReturnType<typeof torsionSigned>;
    if (shape === 0) signed = torsionSigned(a, 1 + largeIndex(7), 0, message);
    else if (shape === 1) signed = torsionSigned(a, 0, 1 + largeIndex(7), message);
    else if (shape === 2) signed = torsionSigned(a, 1 + largeIndex(7), 1 + largeIndex(7), message);
    else {
      // k depends on R, so draw until j + k i = 0 mod 8 (about one try in 8).
      const i = 1 + largeIndex(7);
      do signed = torsionSigned(a, i, 1 + largeIndex(7), message);
      while (!signed.cofactorlessHolds);
    }
    const shapeName = ['mixed A', 'mixed R', 'mixed A and R', 'mixed A and R, cancelling'][shape]!;
    torsionSignedItems.push({ item: signed.item, kind: 'torsion signed', label: shapeName, expected: true, cofactorlessHolds: signed.cofactorlessHolds });
  }
  items.push(...torsionSignedItems);
  for (let n = 0; n < LARGE_RUN.torsionSignedMutated; n++) {
    const source = pick(torsionSignedItems);
    const [item, label] = mutate(source.item, pick([...PLAIN_MUTATIONS, ...TORSION_MUTATIONS]));
    items.push({ item, kind: 'torsion signed, mutated', label: `${source.label}, ${label}`, expected: false });
  }
  if (items.length !== LARGE_RUN.total) throw new Error(`built ${items.length} items, expected ${LARGE_RUN.total}`);
  // Shuffled, so that batches mix the classes as real input would.
  for (let i = items.length - 1; i > 0; i--) {
    const j = largeIndex(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const TORSION_KINDS: readonly LargeClass[] = ['torsion signed', 'torsion signed, mutated', 'torsion added'];

/** `count` distinct values of `values`, drawn with the seeded PRNG (a partial Fisher-Yates). */
function sampleOf(values: readonly number[], count: number): number[] {
  const pool = [...values];
  for (let i = 0; i < count; i++) {
    const j = i + largeIndex(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

const indicesOf = (items: readonly LargeItem[], keep: (entry: LargeItem) => boolean): number[] =>
  items.flatMap((entry, index) => (keep(entry) ? [index] : []));

/** Indices of the items the slow backend and the rule check: all with torsion, plus random samples. */
function jsCheckedIndices(items: readonly LargeItem[]): number[] {
  return [
    ...indicesOf(items, (entry) => TORSION_KINDS.includes(entry.kind)),
    ...sampleOf(indicesOf(items, (entry) => entry.kind === 'plain mutated'), JS_SAMPLE.plainMutated),
    ...sampleOf(indicesOf(items, (entry) => entry.kind === 'plain valid'), JS_SAMPLE.plainValid),
  ].sort((x, y) => x - y);
}

/** Indices for the fast backends other than FULL_RUN_BACKEND: all with torsion, plus a random sample. */
function otherFastIndices(items: readonly LargeItem[]): number[] {
  const torsion = indicesOf(items, (entry) => TORSION_KINDS.includes(entry.kind));
  const rest = indicesOf(items, (entry) => !TORSION_KINDS.includes(entry.kind));
  return [...torsion, ...sampleOf(rest, OTHER_FAST_CHECKED - torsion.length)].sort((x, y) => x - y);
}

/** Up to 20 lines naming the items where `verdicts` is not what `expectedAt` says. */
function mismatches(
  items: readonly LargeItem[],
  indices: readonly number[],
  verdicts: readonly boolean[],
  expectedAt: (entry: LargeItem, position: number) => boolean,
): string[] {
  const lines: string[] = [];
  indices.forEach((index, position) => {
    const entry = items[index]!;
    if (verdicts[position] !== expectedAt(entry, position) && lines.length < 20) {
      lines.push(`item ${index} (${entry.kind}: ${entry.label}): got ${verdicts[position]}, expected ${expectedAt(entry, position)}`);
    }
  });
  return lines;
}

describe(`differential Ed25519, ${LARGE_RUN.total.toLocaleString('en')} random signatures, ${REPRODUCE}`, () => {
  let items: LargeItem[] = [];
  let all: number[] = [];
  let checkedByJs: number[] = [];
  let checkedByOtherFast: number[] = [];
  const indicesFor = (name: BackendName): number[] => (name === FULL_RUN_BACKEND ? all : checkedByOtherFast);
  // Each fast backend's batch verdicts on its items, computed once, on first use (so a failing
  // backend fails its own tests only, and any test can run alone with -t).
  const batchRuns = new Map<BackendName, Promise<boolean[]>>();
  const fastBatch = (name: BackendName): Promise<boolean[]> => {
    let run = batchRuns.get(name);
    if (run === undefined) {
      run = getBackend(name).verifyEd25519Batch(indicesFor(name).map((index) => items[index]!.item));
      batchRuns.set(name, run);
    }
    return run;
  };

  beforeAll(() => {
    items = buildLargeRun();
    all = items.map((_, index) => index);
    checkedByJs = jsCheckedIndices(items);
    checkedByOtherFast = otherFastIndices(items);
  }, 60_000);

  it('has the announced make-up', () => {
    const count = (kind: LargeClass) => items.filter((entry) => entry.kind === kind).length;
    expect(items).toHaveLength(LARGE_RUN.total);
    expect(count('plain valid')).toBe(PLAIN_VALID);
    expect(count('plain mutated')).toBe(LARGE_RUN.plainMutated);
    expect(count('torsion added')).toBe(LARGE_RUN.torsionAdded);
    expect(count('torsion signed')).toBe(LARGE_RUN.torsionSigned);
    expect(count('torsion signed, mutated')).toBe(LARGE_RUN.torsionSignedMutated);
    expect(checkedByJs).toHaveLength(JS_CHECKED);
    expect(checkedByOtherFast).toHaveLength(OTHER_FAST_CHECKED);
    // Enough mixed-order signatures of each kind that libsodium rejects and accepts.
    const torsionSigned = items.filter((entry) => entry.kind === 'torsion signed');
    expect(torsionSigned.filter((entry) => entry.cofactorlessHolds).length).toBeGreaterThan(200);
    expect(torsionSigned.filter((entry) => !entry.cofactorlessHolds).length).toBeGreaterThan(500);
  });

  it.each(FAST_BACKENDS)('%s, in one batch: every verdict is the rule\'s', async (name) => {
    const verdicts = await fastBatch(name);
    expect(verdicts).toHaveLength(indicesFor(name).length);
    expect(mismatches(items, indicesFor(name), verdicts, (entry) => entry.expected), REPRODUCE).toEqual([]);
  }, 120_000);

  it.each(FAST_BACKENDS)('%s, one by one: the batch verdicts', async (name) => {
    const batch = await fastBatch(name);
    const single: boolean[] = [];
    for (const index of indicesFor(name)) {
      const { publicKey, message, signature } = items[index]!.item;
      single.push(await verifyEd25519(publicKey, message, signature, { backend: name }));
    }
    expect(mismatches(items, indicesFor(name), single, (_, position) => batch[position]!), REPRODUCE).toEqual([]);
  }, 120_000);

  it('libsodium directly: the rule\'s verdicts, except mixed-order signatures whose torsion does not cancel', async () => {
    const native = await fastBatch('native');
    const direct = items.map(({ item }) => sodium.crypto_sign_verify_detached(item.signature, item.message, item.publicKey));
    // Cofactorless: it accepts a torsion-signed item iff the torsion parts cancel; elsewhere it agrees with the rule.
    const expectedOfSodium = (entry: LargeItem) => (entry.kind === 'torsion signed' ? entry.cofactorlessHolds === true : entry.expected);
    expect(mismatches(items, all, direct, expectedOfSodium), REPRODUCE).toEqual([]);
    // So the native backend differs from libsodium exactly on those, and only by accepting.
    const differ = items.filter((_, index) => direct[index] !== native[index]);
    expect(differ.every((entry) => entry.kind === 'torsion signed' && !entry.cofactorlessHolds && entry.expected)).toBe(true);
    expect(differ.length).toBeGreaterThan(500);
  }, 60_000);

  it(`the reference rule and the js backend (batch) on ${JS_CHECKED.toLocaleString('en')} items: the same verdicts`, async () => {
    const subset = checkedByJs.map((index) => items[index]!.item);
    const rule = subset.map((item) => verifyByRule(item));
    const js = await getBackend('js').verifyEd25519Batch(subset);
    expect(mismatches(items, checkedByJs, rule, (entry) => entry.expected), REPRODUCE).toEqual([]);
    expect(mismatches(items, checkedByJs, js, (entry) => entry.expected), REPRODUCE).toEqual([]);
    // native against js directly (the other fast backends meet the same expected verdicts above).
    const native = await fastBatch('native');
    const nativeOnSubset = checkedByJs.map((index) => native[index]!);
    expect(mismatches(items, checkedByJs, nativeOnSubset, (_, position) => js[position]!), `native vs js, ${REPRODUCE}`).toEqual([]);
  }, 120_000);

  it(`the js backend one by one on ${JS_SINGLE} of them: its batch verdicts`, async () => {
    const indices = checkedByJs.filter((_, position) => position % Math.floor(JS_CHECKED / JS_SINGLE) === 0).slice(0, JS_SINGLE);
    const single: boolean[] = [];
    for (const index of indices) {
      const { publicKey, message, signature } = items[index]!.item;
      single.push(await verifyEd25519(publicKey, message, signature, { backend: 'js' }));
    }
    expect(indices).toHaveLength(JS_SINGLE);
    expect(mismatches(items, indices, single, (entry) => entry.expected), REPRODUCE).toEqual([]);
  }, 60_000);
});

describe('differential SHA-256', () => {
  it(`the backends agree on random inputs (${REPRODUCE})`, () => {
    const inputs = Array.from({ length: 200 }, () => randomBytes(randomIndex(1000)));
    const [first, ...others] = BACKEND_NAMES.map((name) => getBackend(name).sha256Many(inputs));
    for (const other of others) expect(other, REPRODUCE).toEqual(first);
    for (const name of BACKEND_NAMES) {
      expect(inputs.map((input) => sha256(input, { backend: name })), REPRODUCE).toEqual(first);
    }
  });
});

describe('backend selection', () => {
  const savedEnv = process.env['BLUX_REG_BACKEND'];
  afterEach(() => {
    if (savedEnv === undefined) delete process.env['BLUX_REG_BACKEND'];
    else process.env['BLUX_REG_BACKEND'] = savedEnv;
  });

  it('lists the backends, native first', () => {
    expect(BACKEND_NAMES[0]).toBe('native');
    expect(BACKEND_NAMES).toContain('js');
  });

  it('explicit name > BLUX_REG_BACKEND > auto', () => {
    expect(resolveBackendName(undefined, {})).toBe('auto');
    expect(resolveBackendName(undefined, { BLUX_REG_BACKEND: 'js' })).toBe('js');
    expect(resolveBackendName('native', { BLUX_REG_BACKEND: 'js' })).toBe('native');
    expect(resolveBackendName('js', {})).toBe('js');
    // Empty means "not given", for the variable and the argument alike.
    expect(resolveBackendName(undefined, { BLUX_REG_BACKEND: '' })).toBe('auto');
    expect(resolveBackendName('', { BLUX_REG_BACKEND: 'js' })).toBe('js');
  });

  it('reads process.env when no environment is passed', () => {
    process.env['BLUX_REG_BACKEND'] = 'js';
    expect(resolveBackendName()).toBe('js');
    expect(getBackend().name).toBe('js');
    delete process.env['BLUX_REG_BACKEND'];
    expect(resolveBackendName()).toBe('auto');
    expect(getBackend().name).toBe('auto');
  });

  it('an unknown name is an invalid-argument error, wherever it comes from', () => {
    const unknown = (run: () => unknown, name: string) => {
      let thrown: unknown;
      try {
        run();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(BluxError);
      expect(thrown).toMatchObject({
        code: 'invalid-argument',
        message: `unknown backend "${name}" (expected ${BACKEND_CHOICES.join(', ')})`,
      });
    };
    unknown(() => resolveBackendName('sodium', {}), 'sodium');
    unknown(() => resolveBackendName(undefined, { BLUX_REG_BACKEND: 'NATIVE' }), 'NATIVE');
    unknown(() => getBackend('x'), 'x');
    unknown(() => sha256(new Uint8Array(0), { backend: 'x' }), 'x');
  });

  it('an unknown name also rejects the async entry points', async () => {
    await expect(verifyEd25519(new Uint8Array(32), new Uint8Array(0), new Uint8Array(64), { backend: 'x' })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
  });

  it('creates each backend once', () => {
    for (const name of BACKEND_NAMES) expect(getBackend(name)).toBe(getBackend(name));
  });
});
