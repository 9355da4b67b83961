/**
 * The ledger audit report: what `audit verify-chain --json` prints, what
 * `--report FILE` writes (schema: schemas/ledger-audit-report.schema.json)
 * and what `--report-html FILE` renders. One plain data shape, so the JSON,
 * the HTML page and the terminal summary can never disagree.
 */

export type LedgerAuditProblem =
  | 'malformed-line'
  | 'entry-hash-mismatch'
  | 'prev-hash-mismatch'
  /** `sig` does not verify under the actor's key. */
  | 'signature-invalid'
  /** The actor's key was revoked before the entry's `ts`. */
  | 'signer-revoked'
  /** `--require-signed`: an entry without a `sig`, or one signed by a key that is not trusted. */
  | 'entry-unsigned'
  /** `--expect-head`: the ledger no longer holds the entry an earlier audit saw at that line. */
  | 'head-mismatch';

/** How one actor's entries fared. */
export interface SignerSummary {
  /** The `actor` value (a key fingerprint when the entry is signed by a local key). */
  actor: string;
  entries: number;
  signed: number;
  /** `trusted`: a trusted, non-revoked key; `revoked`; `untrusted`: a key we know but do not trust; `unknown`: no key with that fingerprint. */
  key: 'trusted' | 'revoked' | 'untrusted' | 'unknown';
  /** Signatures that verified. */
  valid: number;
  /** Signatures that did not verify. */
  invalid: number;
  /** Signatures there was no key to check with (unknown actor). */
  unverified: number;
}

export interface LedgerAuditReport {
  status: 'valid' | 'invalid';
  reason: 'ok' | LedgerAuditProblem;
  file: string;
  /** 1-based, blank lines counted; null when valid. */
  first_bad_line: number | null;
  detail?: string;
  torn_last_line: boolean;
  /** Entries that verified (the intact prefix when invalid). */
  entries: number;
  /** `entry_hash` of the last entry that verified. */
  last_hash: string | null;
  /** Its line (1-based): `last_hash@last_line` is what `--expect-head` takes next time. */
  last_line: number | null;
  actions: Record<string, number>;
  actors: Record<string, number>;
  first_ts: string | null;
  last_ts: string | null;
  /** Entries per UTC day ("YYYY-MM-DD" from `ts`), for the chart. */
  entries_per_day: Record<string, number>;
  signatures: {
    signed: number;
    unsigned: number;
    valid: number;
    invalid: number;
    /** Signed by a key we do not have: nothing to check them with. */
    unverified: number;
    signers: SignerSummary[];
  };
  /** Present when `--expect-head` was given. */
  expect_head?: { hash: string; line: number | null; found: boolean };
  throughput: {
    seconds: number;
    bytes: number;
    entries_per_second: number;
    megabytes_per_second: number;
  };
  /** Entry-hash kernel (`native`, `wasm`) and, after a `+`, the engine backend of the signature checks. */
  backend: string;
  jobs: number;
  /** Lines the fast path was unsure of (not canonical, or a hash mismatch) and re-checked by the reference path; absent from the sequential reference audit. */
  slow_path_lines?: number;
}
