/**
 * Wording of ledger problems shared by the reference check (ledger-entry.ts)
 * and the fast audit (audit/range-check.ts, audit/audit-ledger.ts), so both
 * report the same details. Kept apart from ledger-entry.ts, which loads the
 * engine: the audit's main thread only needs the words.
 */

/** A broken link: the entry's prev_hash (as described) is not the previous entry's hash. */
export function prevMismatchDetail(prevDescribed: string, expectedPrev: string | null): string {
  const expected = expectedPrev === null ? 'null (first entry)' : expectedPrev;
  return `prev_hash is ${prevDescribed} but the previous entry_hash is ${expected}`;
}
