/**
 * Issue 4, acceptance 1: the RFC 8032 and Wycheproof Ed25519 vectors give
 * the same verdicts on every backend (native, wasm, js, and auto, which
 * switches backend with the batch size), one by one and in batches of 1, 2,
 * 63, 64 and 1,000, with the invalid ones at the start, in the middle and at
 * the end of the batches.
 *
 * Expected verdicts are the vectors' own: RFC 8032 section 7.1 and the
 * sign.input lines are valid, Wycheproof says `valid` or `invalid` (it has no
 * `acceptable` Ed25519 cases; sources in tests/vectors/*\/SOURCE.md). Batches
 * are filled with the valid vectors, cycled.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { BACKEND_CHOICES, verifyEd25519, verifyEd25519Batch, type Ed25519VerifyItem } from '../src/engine/index.js';

const VECTORS = new URL('./vectors/', import.meta.url);
const readVector = (relative: string): Buffer => readFileSync(fileURLToPath(new URL(relative, VECTORS)));
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

interface Case {
  name: string;
  item: Ed25519VerifyItem;
  valid: boolean;
}

const rfcCases: Case[] = (
  JSON.parse(readVector('rfc8032-ed25519/rfc8032-7.1.json').toString('utf8')) as {
    vectors: Array<{ name: string; publicKey: string; message: string; signature: string; expected: string }>;
  }
).vectors.map((v) => ({
  name: `RFC 8032 ${v.name}`,
  item: { publicKey: fromHex(v.publicKey), message: fromHex(v.message), signature: fromHex(v.signature) },
  valid: v.expected === 'valid',
}));

const signInputCases: Case[] = gunzipSync(readVector('rfc8032-ed25519/sign.input.gz'))
  .toString('utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line, index) => {
    const [, publicHex = '', messageHex = '', signatureAndMessage = ''] = line.split(':');
    return {
      name: `sign.input line ${index + 1}`,
      item: { publicKey: fromHex(publicHex), message: fromHex(messageHex), signature: fromHex(signatureAndMessage.slice(0, 128)) },
      valid: true,
    };
  });

const wycheproofCases: Case[] = (
  JSON.parse(readVector('wycheproof-ed25519/ed25519_test.json').toString('utf8')) as {
    testGroups: Array<{ publicKey: { pk: string }; tests: Array<{ tcId: number; msg: string; sig: string; result: string }> }>;
  }
).testGroups.flatMap((group) =>
  group.tests.map((test) => {
    if (test.result !== 'valid' && test.result !== 'invalid') throw new Error(`Wycheproof tcId ${test.tcId}: unexpected "${test.result}"`);
    return {
      name: `Wycheproof tcId ${test.tcId}`,
      item: { publicKey: fromHex(group.publicKey.pk), message: fromHex(test.msg), signature: fromHex(test.sig) },
      valid: test.result === 'valid',
    };
  }),
);

const allCases = [...rfcCases, ...signInputCases, ...wycheproofCases];
const validCases = allCases.filter((c) => c.valid);
const invalidCases = allCases.filter((c) => !c.valid);

/**
 * The positions of a batch of `size` that get invalid items, extreme ones
 * first: 0, the last, the middle, then the ones next to each of those, so
 * that even a batch with a single invalid item has it at the start. A ninth
 * of the batch per region (start, middle, end), at least one.
 */
function invalidSlots(size: number): number[] {
  const perRegion = Math.max(1, Math.floor(size / 9));
  const middle = size >> 1;
  const slots: number[] = [];
  for (let offset = 0; offset < perRegion; offset++) {
    slots.push(offset, size - 1 - offset, middle + (offset % 2 === 0 ? offset >> 1 : -((offset + 1) >> 1)));
  }
  return [...new Set(slots.filter((slot) => slot >= 0 && slot < size))];
}

/**
 * Batches of `size` holding every invalid case, each at the start, in the
 * middle and at the end of some batch (three passes, the invalid cases
 * shifted by one slot each time: the slots go start, end, middle, start...),
 * the other positions filled with
 * valid cases, cycled so that every valid case appears too. Size 1 is every
 * case alone.
 */
function arrange(size: number): Case[][] {
  if (size === 1) return allCases.map((c) => [c]);
  const slots = invalidSlots(size);
  const batches: Case[][] = [];
  let nextValid = 0;
  for (let pass = 0; pass < 3; pass++) {
    const queue = invalidCases.map((_, i) => invalidCases[(i + pass) % invalidCases.length]!);
    while (queue.length > 0) {
      const batch: Array<Case | undefined> = new Array<Case | undefined>(size).fill(undefined);
      for (const slot of slots) {
        const invalid = queue.shift();
        if (invalid === undefined) break;
        batch[slot] = invalid;
      }
      batches.push(batch.map((c) => c ?? validCases[nextValid++ % validCases.length]!));
    }
  }
  // Every valid case in at least one batch of this size.
  while (nextValid < validCases.length) {
    batches.push(Array.from({ length: size }, () => validCases[nextValid++ % validCases.length]!));
  }
  return batches;
}

const BATCH_SIZES = [1, 2, 63, 64, 1000] as const;

describe('the arrangement itself', () => {
  it('has 5 + 128 + 151 cases, 63 invalid, all from Wycheproof', () => {
    expect(allCases).toHaveLength(284);
    expect(invalidCases).toHaveLength(63);
    expect(invalidCases.every((c) => c.name.startsWith('Wycheproof'))).toBe(true);
  });

  it.each(BATCH_SIZES.filter((size) => size > 1))('batches of %i: every invalid case at the start, the middle and the end, first and last positions invalid', (size) => {
    const batches = arrange(size);
    const regions = new Map<string, Set<string>>(invalidCases.map((c) => [c.name, new Set<string>()]));
    const region = (position: number): string => {
      if (position === 0 || position < size / 3) return 'start';
      return position === size - 1 || position >= (2 * size) / 3 ? 'end' : 'middle';
    };
    for (const batch of batches) {
      expect(batch).toHaveLength(size);
      batch.forEach((c, position) => {
        if (!c.valid) regions.get(c.name)!.add(region(position));
      });
    }
    for (const [name, seen] of regions) expect([...seen].sort(), name).toEqual(size === 2 ? ['end', 'start'] : ['end', 'middle', 'start']);
    const withInvalid = batches.filter((batch) => batch.some((c) => !c.valid));
    expect(withInvalid.some((batch) => !batch[0]!.valid && !batch[size - 1]!.valid)).toBe(true);
    const seenValid = new Set(batches.flat().filter((c) => c.valid).map((c) => c.name));
    expect(seenValid.size).toBe(new Set(validCases.map((c) => c.name)).size);
  });
});

describe.each(BACKEND_CHOICES)('vectors on the %s backend', (backend) => {
  it('one by one (verifyEd25519): every vector verdict', async () => {
    const verdicts: boolean[] = [];
    for (const c of allCases) verdicts.push(await verifyEd25519(c.item.publicKey, c.item.message, c.item.signature, { backend }));
    const wrong = allCases.filter((c, i) => verdicts[i] !== c.valid).map((c) => c.name);
    expect(wrong).toEqual([]);
  });

  it.each(BATCH_SIZES)('in batches of %i: every verdict as expected', async (size) => {
    const wrong: string[] = [];
    for (const [b, batch] of arrange(size).entries()) {
      const verdicts = await verifyEd25519Batch(
        batch.map((c) => c.item),
        { backend },
      );
      expect(verdicts).toHaveLength(size);
      batch.forEach((c, position) => {
        if (verdicts[position] !== c.valid) wrong.push(`batch ${b} position ${position}: ${c.name}`);
      });
    }
    expect(wrong).toEqual([]);
  });
});
