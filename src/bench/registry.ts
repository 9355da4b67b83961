/**
 * Every benchmark suite, in run order: primitives first, then the end-to-end
 * scenarios. Adding a suite is one module under `suites/` and one line here.
 */
import { canonicalSuite } from './suites/canonical.js';
import { ed25519Suite } from './suites/ed25519.js';
import { ledgerAuditSuite } from './suites/ledger-audit.js';
import { ledgerChainSuite } from './suites/ledger-chain.js';
import { merkleSuite } from './suites/merkle.js';
import { sha256Suite } from './suites/sha256.js';
import { verifyBatchSuite } from './suites/verify-batch.js';
import type { BenchSuite } from './types.js';

export const BENCH_SUITES: readonly BenchSuite[] = Object.freeze([
  sha256Suite,
  ed25519Suite,
  canonicalSuite,
  ledgerChainSuite,
  merkleSuite,
  verifyBatchSuite,
  ledgerAuditSuite,
]);

export const BENCH_SUITE_IDS: readonly string[] = Object.freeze(BENCH_SUITES.map((s) => s.id));
