/**
 * SHA-256 of 64 B, 1 KiB, 1 MiB and 64 MiB on every backend, against
 * node:crypto's one-shot hash of the same bytes. Small inputs are hashed many
 * times per operation so the timer's resolution does not dominate.
 */
import { createHash, randomFillSync } from 'node:crypto';

import { readyBackends } from '../backends.js';
import type { BenchCase, BenchSuite } from '../types.js';

const KIB = 1024;
const MIB = 1024 * KIB;

interface SizeCase {
  readonly key: string;
  readonly title: string;
  readonly bytes: number;
  /** Hashes per timed operation. */
  readonly repeat: number;
  readonly heavy: boolean;
}

const SIZES: readonly SizeCase[] = [
  { key: '64B', title: '64 B', bytes: 64, repeat: 4096, heavy: false },
  { key: '1KiB', title: '1 KiB', bytes: KIB, repeat: 512, heavy: false },
  { key: '1MiB', title: '1 MiB', bytes: MIB, repeat: 1, heavy: false },
  { key: '64MiB', title: '64 MiB', bytes: 64 * MIB, repeat: 1, heavy: true },
];

function repeated(repeat: number, hash: () => unknown): () => unknown {
  return () => {
    let last: unknown;
    for (let i = 0; i < repeat; i++) last = hash();
    return last;
  };
}

export const sha256Suite: BenchSuite = {
  id: 'sha256',
  title: 'SHA-256',
  async prepare() {
    const backends = await readyBackends();
    const cases: BenchCase[] = SIZES.map((size) => {
      const data = randomFillSync(new Uint8Array(size.bytes));
      return {
        id: `sha256/${size.key}`,
        title: `SHA-256 ${size.title}`,
        unit: 'B',
        unitsPerOp: size.bytes * size.repeat,
        heavy: size.heavy,
        reference: {
          backend: 'reference',
          label: 'node:crypto createHash',
          fn: repeated(size.repeat, () => createHash('sha256').update(data).digest()),
        },
        variants: backends.map(({ name, backend, label }) => ({ backend: name, label, fn: repeated(size.repeat, () => backend.sha256(data)) })),
      };
    });
    // backends/auto.ts hashes on native whatever the size (SHA-NI beats the others 6x).
    return { cases, autoChoices: { sha256: 'native' } };
  },
};
