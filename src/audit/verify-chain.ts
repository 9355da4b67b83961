/**
 * The chain-only ledger audit of earlier releases, kept for its callers: the
 * sequential reference audit (sequential.ts) without signature checks,
 * reported in the original's shape. New code uses auditLedger
 * (audit-ledger.ts): parallel, with signatures and the full report.
 */
import type { LedgerLineProblem } from '../formats/ledger-entry.js';
import type { LedgerAuditReport } from './report.js';
import { auditLedgerSequential } from './sequential.js';

export interface LedgerAuditOptions {
  /** Called after each chunk read; `totalBytes` is the file size when the audit began. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Read buffer size; 1 MiB unless given. */
  chunkSize?: number;
  /** Engine backend for the entry hashes (default: BLUX_REG_BACKEND or native). */
  backend?: string;
}

/** The report's chain part (report.ts documents each field); `reason` is only ever a chain reason here. */
export type LedgerAuditResult = Pick<
  LedgerAuditReport,
  'status' | 'file' | 'first_bad_line' | 'detail' | 'torn_last_line' | 'entries' | 'last_hash' | 'actions' | 'actors' | 'first_ts' | 'last_ts'
> & { reason: 'ok' | LedgerLineProblem };

/**
 * Verifies the chain of the ledger at `ledgerPath`: every non-blank line must
 * parse as an object whose `entry_hash` matches its canonical form and whose
 * `prev_hash` is the previous entry's `entry_hash` (null first). A broken
 * chain is a verdict (`invalid`); a missing or unreadable file throws
 * (`file-not-found`, `file-unreadable`).
 */
export async function verifyLedgerChain(ledgerPath: string, opts: LedgerAuditOptions = {}): Promise<LedgerAuditResult> {
  const report = await auditLedgerSequential(ledgerPath, opts);
  return {
    status: report.status,
    // Without trust there is no signature check, so only the chain's reasons can come back.
    reason: report.reason as LedgerAuditResult['reason'],
    file: report.file,
    first_bad_line: report.first_bad_line,
    ...(report.detail !== undefined ? { detail: report.detail } : {}),
    torn_last_line: report.torn_last_line,
    entries: report.entries,
    last_hash: report.last_hash,
    actions: report.actions,
    actors: report.actors,
    first_ts: report.first_ts,
    last_ts: report.last_ts,
  };
}

/** The audit of a ledger that has no entries yet (a config folder where nothing was recorded). */
export function emptyLedgerAudit(ledgerPath: string): LedgerAuditResult {
  return {
    status: 'valid', reason: 'ok', file: ledgerPath, first_bad_line: null, torn_last_line: false,
    entries: 0, last_hash: null, actions: {}, actors: {}, first_ts: null, last_ts: null,
  };
}
