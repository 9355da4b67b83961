/**
 * The ledger chain kernel: `checkLedgerLine` (parse, canonical form,
 * entry_hash, prev_hash link) over consecutive lines, per engine backend,
 * against JSON.parse plus a node:crypto SHA-256 of each line: the bare
 * minimum any chain check does.
 */
import { createHash } from 'node:crypto';

import { BluxError } from '../../errors.js';
import { readyBackends } from '../backends.js';
import { checkLedgerLine } from '../../formats/ledger-entry.js';
import type { BenchCase, BenchSuite } from '../types.js';
import { ledgerLines } from './documents.js';

/** Lines checked per timed operation. */
const LINES = 500;

export const ledgerChainSuite: BenchSuite = {
  id: 'ledger-chain',
  title: 'Ledger chain kernel',
  async prepare() {
    const lines = ledgerLines(LINES);
    const checkAll = (backend: string) => (): string | null => {
      let prev: string | null = null;
      for (const line of lines) {
        const verdict = checkLedgerLine(line, prev, { backend });
        if (verdict.kind !== 'entry') throw new BluxError('internal', `bench: generated ledger line rejected (${verdict.kind})`);
        prev = verdict.entryHash;
      }
      return prev;
    };
    const parseAndHash = (): number => {
      let n = 0;
      for (const line of lines) {
        JSON.parse(line);
        n += createHash('sha256').update(line).digest()[0]!;
      }
      return n;
    };
    const benchCase: BenchCase = {
      id: 'ledger-chain/check-line',
      title: 'Ledger chain kernel (checkLedgerLine)',
      unit: 'line',
      unitsPerOp: LINES,
      reference: { backend: 'reference', label: 'JSON.parse + node:crypto SHA-256', fn: parseAndHash },
      variants: (await readyBackends()).map(({ name, label }) => ({ backend: name, label, fn: checkAll(name) })),
    };
    return { cases: [benchCase] };
  },
};
