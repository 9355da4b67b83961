/**
 * End to end: the ledger audit over a generated ledger file, against hashing
 * the same file with sha256sum (or openssl). `auditLedger` (what `audit
 * verify-chain` runs: line ranges on the worker pool, native entry-hash
 * kernel) is the `auto` bar; the sequential streaming audit
 * (`verifyLedgerChain`) runs on each engine backend.
 */
import fs from 'node:fs';
import path from 'node:path';

import { BluxError } from '../../errors.js';
import { readyBackends } from '../backends.js';
import { auditLedger } from '../../audit/audit-ledger.js';
import { verifyLedgerChain } from '../../audit/verify-chain.js';
import { SCENARIO_SIZES } from '../scenario-sizes.js';
import { fileHashReference } from '../tools.js';
import type { BenchSuite } from '../types.js';
import { writeLedger } from './documents.js';

const LEDGER_FILE = 'ledger.jsonl';

export const ledgerAuditSuite: BenchSuite = {
  id: 'ledger-audit',
  title: 'Ledger audit',
  async prepare(ctx) {
    const entries = SCENARIO_SIZES[ctx.settings.size].ledgerEntries;
    const dir = path.join(ctx.workDir, 'ledger');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LEDGER_FILE);
    writeLedger(file, entries);

    const requireValid = (result: { status: string; entries: number; reason: string }): void => {
      if (result.status !== 'valid' || result.entries !== entries) {
        throw new BluxError('internal', `bench: ledger audit found ${result.entries} of ${entries} entries valid (${result.reason})`);
      }
    };
    const sequential = (backend: string) => async (): Promise<void> => requireValid(await verifyLedgerChain(file, { backend }));
    return {
      cases: [{
        id: 'ledger-audit/chain',
        title: `Ledger audit, ${entries.toLocaleString('en-US')} entries`,
        unit: 'line',
        unitsPerOp: entries,
        heavy: true,
        reference: fileHashReference(ctx.tools, dir, [LEDGER_FILE]),
        variants: [
          { backend: 'auto', label: 'auditLedger (audit verify-chain, parallel)', fn: async () => requireValid(await auditLedger(file)) },
          ...(await readyBackends()).map(({ name, label }) => ({ backend: name, label: `verifyLedgerChain --backend ${label} (sequential)`, fn: sequential(name) })),
        ],
      }],
    };
  },
};
