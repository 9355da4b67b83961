/**
 * Differential test: the backends must agree on every Ed25519 verdict, over
 * signatures made by a third implementation (node:crypto / OpenSSL) and
 * mutations of them. Keys come from a seeded PRNG, and Ed25519 signing is
 * deterministic, so one seed reproduces the whole run:
 *
 *   BLUX_TEST_SEED=1234 npx vitest run tests/engine-differential.test.ts
 *
 * Also: backend selection (explicit name > BLUX_REG_BACKEND > native).
 */
import { createPrivateKey, createPublicKey, randomInt, sign } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { BluxError } from '../src/errors.js';
import {
  BACKEND_NAMES,
  getBackend,
  resolveBackendName,
  sha256,
  verifyEd25519,
  type BackendName,
  type Ed25519VerifyItem,
} from '../src/engine/index.js';
import { ED25519_L, ED25519_P } from '../src/engine/precheck.js';

const KEY_COUNT = 300;
const SEED = process.env['BLUX_TEST_SEED'] !== undefined ? Number(process.env['BLUX_TEST_SEED']) >>> 0 : randomInt(2 ** 31);
const REPRODUCE = `seed ${SEED} (rerun with BLUX_TEST_SEED=${SEED})`;

/** mulberry32: a tiny 32-bit PRNG, plenty for choosing test inputs reproducibly. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

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

  it('lists the backends', () => {
    expect(BACKEND_NAMES).toEqual(['native', 'js']);
  });

  it('explicit name > BLUX_REG_BACKEND > native', () => {
    expect(resolveBackendName(undefined, {})).toBe('native');
    expect(resolveBackendName(undefined, { BLUX_REG_BACKEND: 'js' })).toBe('js');
    expect(resolveBackendName('native', { BLUX_REG_BACKEND: 'js' })).toBe('native');
    expect(resolveBackendName('js', {})).toBe('js');
    // Empty means "not given", for the variable and the argument alike.
    expect(resolveBackendName(undefined, { BLUX_REG_BACKEND: '' })).toBe('native');
    expect(resolveBackendName('', { BLUX_REG_BACKEND: 'js' })).toBe('js');
  });

  it('reads process.env when no environment is passed', () => {
    process.env['BLUX_REG_BACKEND'] = 'js';
    expect(resolveBackendName()).toBe('js');
    expect(getBackend().name).toBe('js');
    delete process.env['BLUX_REG_BACKEND'];
    expect(resolveBackendName()).toBe('native');
    expect(getBackend().name).toBe('native');
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
        message: `unknown backend "${name}" (expected native or js)`,
      });
    };
    unknown(() => resolveBackendName('wasm', {}), 'wasm');
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
