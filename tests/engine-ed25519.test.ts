/**
 * Ed25519 verification through the engine, on every backend: RFC 8032 §7.1,
 * the ed25519.cr.yp.to sign.input lines, single-bit flips of those, and all of
 * Wycheproof's ed25519_test.json. Plus the pre-check rules on their own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import {
  BACKEND_NAMES,
  getBackend,
  verifyEd25519,
  verifyEd25519Batch,
  type Ed25519VerifyItem,
} from '../src/engine/index.js';
import {
  ED25519_L,
  ED25519_P,
  isCanonicalPointEncoding,
  isCanonicalScalar,
  precheckEd25519,
} from '../src/engine/precheck.js';

const VECTORS = new URL('./vectors/', import.meta.url);
const readVector = (relative: string): Buffer => readFileSync(fileURLToPath(new URL(relative, VECTORS)));
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

interface NamedItem extends Ed25519VerifyItem {
  name: string;
}

// --- RFC 8032 section 7.1 -------------------------------------------------

interface Rfc8032Vector {
  name: string;
  publicKey: string;
  messageLength: number;
  message: string;
  signature: string;
  expected: string;
}

const rfcVectors: NamedItem[] = (
  JSON.parse(readVector('rfc8032-ed25519/rfc8032-7.1.json').toString('utf8')) as { vectors: Rfc8032Vector[] }
).vectors.map((v) => {
  if (v.expected !== 'valid') throw new Error(`${v.name}: unexpected "${v.expected}"`);
  const message = fromHex(v.message);
  if (message.length !== v.messageLength) throw new Error(`${v.name}: messageLength mismatch`);
  return { name: `RFC 8032 ${v.name}`, publicKey: fromHex(v.publicKey), message, signature: fromHex(v.signature) };
});

// --- sign.input: `sk||pk:pk:msg:sig||msg:` per line -------------------------

const signInput: NamedItem[] = gunzipSync(readVector('rfc8032-ed25519/sign.input.gz'))
  .toString('utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line, index) => {
    const [secretAndPublic, publicHex, messageHex, signatureAndMessage] = line.split(':');
    if (secretAndPublic === undefined || publicHex === undefined || messageHex === undefined || signatureAndMessage === undefined) {
      throw new Error(`sign.input line ${index + 1}: expected 4 fields`);
    }
    // Fields 1 and 4 repeat the key and the message: check the line is self-consistent.
    if (secretAndPublic.slice(64) !== publicHex || signatureAndMessage.slice(128) !== messageHex) {
      throw new Error(`sign.input line ${index + 1}: fields disagree`);
    }
    return {
      name: `sign.input line ${index + 1}`,
      publicKey: fromHex(publicHex),
      message: fromHex(messageHex),
      signature: fromHex(signatureAndMessage.slice(0, 128)),
    };
  });

// --- Wycheproof ed25519_test.json ------------------------------------------

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WycheproofFile {
  numberOfTests: number;
  testGroups: Array<{ publicKey: { pk: string }; tests: WycheproofTest[] }>;
}

const wycheproof = JSON.parse(readVector('wycheproof-ed25519/ed25519_test.json').toString('utf8')) as WycheproofFile;
const wycheproofCases = wycheproof.testGroups.flatMap((group) =>
  group.tests.map((test) => ({
    test,
    item: { publicKey: fromHex(group.publicKey.pk), message: fromHex(test.msg), signature: fromHex(test.sig) },
  })),
);

// --- single-bit flips ---------------------------------------------------------

type Field = 'publicKey' | 'message' | 'signature';

function withBitFlipped(item: NamedItem, field: Field, bit: number): NamedItem {
  const flipped = Uint8Array.from(item[field]);
  flipped[bit >> 3]! ^= 1 << (bit & 7);
  return { ...item, name: `${item.name}, ${field} bit ${bit} flipped`, [field]: flipped };
}

/** Every bit of each field. */
function allBitFlips(item: NamedItem, fields: readonly Field[]): NamedItem[] {
  return fields.flatMap((field) =>
    Array.from({ length: item[field].length * 8 }, (_, bit) => withBitFlipped(item, field, bit)),
  );
}

/** The first, a middle and the last bit of each field: the edges of every byte-order mistake. */
function edgeBitFlips(item: NamedItem): NamedItem[] {
  return (['publicKey', 'message', 'signature'] as const).flatMap((field) => {
    const bits = item[field].length * 8;
    if (bits === 0) return [];
    return [...new Set([0, bits >> 1, bits - 1])].map((bit) => withBitFlipped(item, field, bit));
  });
}

const leBytes = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return bytes;
};
const withSignBit = (bytes: Uint8Array): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[31]! |= 0x80;
  return copy;
};

// --- the tests ----------------------------------------------------------------

describe('vector files parse as SOURCE.md describes', () => {
  it('has 5 RFC vectors, 128 sign.input lines, 151 Wycheproof tests (88 valid)', () => {
    expect(rfcVectors).toHaveLength(5);
    expect(signInput).toHaveLength(128);
    expect(wycheproofCases).toHaveLength(151);
    expect(wycheproof.numberOfTests).toBe(151);
    expect(wycheproofCases.filter((c) => c.test.result === 'valid')).toHaveLength(88);
    // sign.input lines 1-3 are RFC TEST 1-3.
    for (let i = 0; i < 3; i++) expect(signInput[i]!.signature).toEqual(rfcVectors[i]!.signature);
  });
});

describe('pre-check rules (RFC 8032 §5.1.3, §5.1.7)', () => {
  it('S must be below L, by full comparison', () => {
    expect(isCanonicalScalar(leBytes(0n))).toBe(true);
    expect(isCanonicalScalar(leBytes(ED25519_L - 1n))).toBe(true);
    expect(isCanonicalScalar(leBytes(ED25519_L))).toBe(false);
    expect(isCanonicalScalar(leBytes(ED25519_L + 1n))).toBe(false);
    // Passes a "top three bits clear" test (S < 2^253) but is still >= L.
    expect(isCanonicalScalar(leBytes(2n ** 253n - 1n))).toBe(false);
    expect(isCanonicalScalar(leBytes(2n ** 256n - 1n))).toBe(false);
    expect(isCanonicalScalar(new Uint8Array(31))).toBe(false);
  });

  it('a point encoding must have y < p and not encode x = 0 with the sign bit set', () => {
    expect(isCanonicalPointEncoding(leBytes(0n))).toBe(true);
    expect(isCanonicalPointEncoding(leBytes(ED25519_P - 1n))).toBe(true);
    expect(isCanonicalPointEncoding(leBytes(ED25519_P))).toBe(false);
    expect(isCanonicalPointEncoding(leBytes(ED25519_P + 1n))).toBe(false);
    expect(isCanonicalPointEncoding(leBytes(2n ** 255n - 1n))).toBe(false);
    // The sign bit is not part of y: y >= p stays non-canonical with it set.
    expect(isCanonicalPointEncoding(withSignBit(leBytes(ED25519_P)))).toBe(false);
    // x = 0 exactly for y = 1 and y = p - 1: the sign bit must be clear there...
    expect(isCanonicalPointEncoding(leBytes(1n))).toBe(true);
    expect(isCanonicalPointEncoding(withSignBit(leBytes(1n)))).toBe(false);
    expect(isCanonicalPointEncoding(withSignBit(leBytes(ED25519_P - 1n)))).toBe(false);
    // ...and only there: for y = 0, x = ±sqrt(-1), so either sign is fine.
    expect(isCanonicalPointEncoding(withSignBit(leBytes(0n)))).toBe(true);
    expect(isCanonicalPointEncoding(withSignBit(rfcVectors[0]!.publicKey))).toBe(true);
    expect(isCanonicalPointEncoding(new Uint8Array(33))).toBe(false);
  });

  it('names the first rule an item breaks', () => {
    const good = rfcVectors[0]!;
    const withS = (s: bigint) => Uint8Array.from([...good.signature.subarray(0, 32), ...leBytes(s)]);
    expect(precheckEd25519(good)).toBeUndefined();
    expect(precheckEd25519({ ...good, publicKey: good.publicKey.subarray(1) })).toBe('bad-public-key-length');
    expect(precheckEd25519({ ...good, signature: good.signature.subarray(1) })).toBe('bad-signature-length');
    expect(precheckEd25519({ ...good, signature: withS(ED25519_L) })).toBe('non-canonical-s');
    expect(precheckEd25519({ ...good, publicKey: leBytes(ED25519_P) })).toBe('non-canonical-a');
    const badR = Uint8Array.from([...leBytes(ED25519_P + 2n), ...good.signature.subarray(32)]);
    expect(precheckEd25519({ ...good, signature: badR })).toBe('non-canonical-r');
    expect(precheckEd25519({ ...good, message: 'abc' as unknown as Uint8Array })).toBe('not-bytes');
    expect(precheckEd25519(null as unknown as Ed25519VerifyItem)).toBe('not-bytes');
  });
});

describe.each(BACKEND_NAMES)('Ed25519 on the %s backend', (backendName) => {
  const backend = getBackend(backendName);
  const opts = { backend: backendName };
  const names = (items: readonly NamedItem[]) => items.map((item) => item.name);
  /** Names of the items whose verdict is not `expected` (an empty list reads well in a failure). */
  async function namesNotVerifyingAs(items: readonly NamedItem[], expected: boolean): Promise<string[]> {
    const verdicts = await backend.verifyEd25519Batch(items);
    expect(verdicts).toHaveLength(items.length);
    return names(items.filter((_, i) => verdicts[i] !== expected));
  }

  it('RFC 8032 §7.1: all 5 vectors verify, in a batch and one by one', async () => {
    expect(await namesNotVerifyingAs(rfcVectors, true)).toEqual([]);
    for (const v of rfcVectors) {
      expect(await verifyEd25519(v.publicKey, v.message, v.signature, opts), v.name).toBe(true);
    }
  });

  it('sign.input: all 128 lines verify', async () => {
    expect(await namesNotVerifyingAs(signInput, true)).toEqual([]);
    expect(await verifyEd25519Batch(signInput, opts)).toEqual(signInput.map(() => true));
  });

  it('RFC TEST 1/2/3: flipping any single bit of key, signature or message fails', async () => {
    const flips = [
      ...allBitFlips(rfcVectors[0]!, ['publicKey', 'signature']),
      ...allBitFlips(rfcVectors[1]!, ['message']),
      ...allBitFlips(rfcVectors[2]!, ['message']),
    ];
    expect(flips).toHaveLength(256 + 512 + 8 + 16);
    expect(await namesNotVerifyingAs(flips, false)).toEqual([]);
  }, 60_000);

  it('every RFC and sign.input vector fails with its first, middle or last bit flipped in any field', async () => {
    const flips = [...rfcVectors, ...signInput].flatMap(edgeBitFlips);
    expect(await namesNotVerifyingAs(flips, false)).toEqual([]);
  }, 60_000);

  it('Wycheproof: all 151 verdicts are `result === "valid"`', async () => {
    const verdicts = await backend.verifyEd25519Batch(wycheproofCases.map((c) => c.item));
    const disagreements = wycheproofCases
      .filter((c, i) => verdicts[i] !== (c.test.result === 'valid'))
      .map((c) => `tcId ${c.test.tcId} (${c.test.result}: ${c.test.comment})`);
    expect(disagreements).toEqual([]);
  });

  it('never throws on bad input: every odd item is a false verdict', async () => {
    const good = rfcVectors[0]!;
    const odd = [
      { ...good, publicKey: new Uint8Array(0) },
      { ...good, signature: new Uint8Array(0) },
      { ...good, signature: Uint8Array.from([...good.signature, 0]) },
      { ...good, publicKey: Uint8Array.from([...good.publicKey, 0]) },
      { ...good, message: 'not bytes' as unknown as Uint8Array },
      { ...good, signature: Array.from(good.signature) as unknown as Uint8Array },
      { ...good, publicKey: undefined as unknown as Uint8Array },
      null as unknown as Ed25519VerifyItem,
      {} as Ed25519VerifyItem,
    ];
    expect(await backend.verifyEd25519Batch(odd)).toEqual(odd.map(() => false));
    expect(await backend.verifyEd25519Batch([])).toEqual([]);
  });

  it('accepts Buffers and subarray views (the bytes, not the memory behind them)', async () => {
    const good = rfcVectors[2]!;
    const padded = (bytes: Uint8Array) => Buffer.concat([Buffer.from([0xff, 0xee]), bytes, Buffer.from([0xdd])]);
    const view = (bytes: Uint8Array) => padded(bytes).subarray(2, 2 + bytes.length);
    const item = { publicKey: view(good.publicKey), message: view(good.message), signature: view(good.signature) };
    expect(await backend.verifyEd25519Batch([item])).toEqual([true]);
  });
});
