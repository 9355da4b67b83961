/**
 * The sequential ledger audit (the chain only; see audit-ledger.ts for the
 * parallel audit with signatures, and sequential.ts for its reference): walks the hash chain from the first line to the last and
 * stops at the first line that breaks it. Streams the file, so memory stays
 * flat however long the ledger is (only the per-action and per-actor counts
 * grow, with the number of distinct names).
 */
import { getString } from '../formats/canonical/json-value.js';
import { checkLedgerLine, isBlankLedgerLine, type LedgerLineProblem, type LedgerLineVerdict } from '../formats/ledger-entry.js';
import { openLedgerLines, type LedgerLine } from '../store/ledger-file.js';
import type { EngineOptions } from '../engine/index.js';
import { AuditTally } from './tally.js';

export interface LedgerAuditOptions {
  /** Called after each chunk read; `totalBytes` is the file size when the audit began. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Read buffer size; 1 MiB unless given. */
  chunkSize?: number;
  /** Engine backend for the entry hashes (default: BLUX_REG_BACKEND or native). */
  backend?: string;
}

export interface LedgerAuditResult {
  status: 'valid' | 'invalid';
  reason: 'ok' | LedgerLineProblem;
  file: string;
  /** 1-based, blank lines counted; null when valid. */
  first_bad_line: number | null;
  /** What is wrong with the first bad line. */
  detail?: string;
  /** The last line read had no "\n" (a crash mid-write, or a hand edit). Only lines up to the first bad one are read. */
  torn_last_line: boolean;
  /** Entries that verified: all of them when valid, the intact prefix before the first bad line otherwise. */
  entries: number;
  /** `entry_hash` of the last entry that verified: the head to compare with a known one. */
  last_hash: string | null;
  /** Counts over the entries that verified. */
  actions: Record<string, number>;
  actors: Record<string, number>;
  first_ts: string | null;
  last_ts: string | null;
}

function judge(line: LedgerLine, expectedPrev: string | null, engine: EngineOptions): LedgerLineVerdict {
  // Python refuses to decode such a line at all; hashing a U+FFFD stand-in would only confuse the report.
  if (!line.validUtf8 && !isBlankLedgerLine(line.text)) {
    return { kind: 'bad', reason: 'malformed-line', detail: 'line is not valid UTF-8' };
  }
  return checkLedgerLine(line.text, expectedPrev, engine);
}

/**
 * Verifies the chain of the ledger at `ledgerPath`: every non-blank line must
 * parse as an object whose `entry_hash` matches its canonical form and whose
 * `prev_hash` is the previous entry's `entry_hash` (null first). A broken
 * chain is a verdict (`invalid`); a missing or unreadable file throws
 * (`file-not-found`, `file-unreadable`).
 */
export async function verifyLedgerChain(ledgerPath: string, opts: LedgerAuditOptions = {}): Promise<LedgerAuditResult> {
  const tally = new AuditTally();
  const engine: EngineOptions = opts.backend === undefined ? {} : { backend: opts.backend };
  let lastLineTorn = false;
  let bad: { line: number; reason: LedgerLineProblem; detail: string } | null = null;

  for await (const line of openLedgerLines(ledgerPath, opts)) {
    const verdict = judge(line, tally.lastHash, engine);
    if (verdict.kind === 'blank') continue;
    lastLineTorn = !line.terminated;
    if (verdict.kind === 'bad') {
      bad = { line: line.lineNumber, reason: verdict.reason, detail: verdict.detail };
      break; // leaving the loop closes the file
    }
    const { entry } = verdict;
    tally.add(verdict.entryHash, getString(entry, 'action'), getString(entry, 'actor'), getString(entry, 'ts'), 'unsigned');
  }

  return {
    status: bad === null ? 'valid' : 'invalid',
    reason: bad === null ? 'ok' : bad.reason,
    file: ledgerPath,
    first_bad_line: bad === null ? null : bad.line,
    ...(bad !== null ? { detail: bad.detail } : {}),
    torn_last_line: lastLineTorn,
    entries: tally.entries,
    last_hash: tally.lastHash,
    actions: Object.fromEntries(tally.actions),
    actors: Object.fromEntries([...tally.actors].map(([actor, counts]) => [actor, counts.entries])),
    first_ts: tally.firstTs,
    last_ts: tally.lastTs,
  };
}

/** The audit of a ledger that has no entries yet (a config folder where nothing was recorded). */
export function emptyLedgerAudit(ledgerPath: string): LedgerAuditResult {
  return {
    status: 'valid', reason: 'ok', file: ledgerPath, first_bad_line: null, torn_last_line: false,
    entries: 0, last_hash: null, actions: {}, actors: {}, first_ts: null, last_ts: null,
  };
}
