/**
 * Turns a finished audit (a verdict plus the tally of the verified prefix)
 * into the LedgerAuditReport, for the parallel audit and the sequential
 * reference alike, so their reports can be compared field by field.
 */
import type { LedgerAuditProblem, LedgerAuditReport, SignerSummary } from './report.js';
import type { AuditTrust } from './signature-policy.js';
import type { AuditTally } from './tally.js';

export interface AuditVerdict {
  bad: { line: number; reason: LedgerAuditProblem; detail: string } | null;
  tornLastLine: boolean;
}

export interface AuditRun {
  file: string;
  bytes: number;
  seconds: number;
  backend: string;
  jobs: number;
  /** Line of the last verified entry. */
  lastLine: number | null;
  /** Present when `--expect-head` was asked for. */
  expectHead?: { hash: string; line: number | null; foundAtLine: number | null };
}

function keyStatus(actor: string, trust: AuditTrust, known: ReadonlySet<string>, revoked: ReadonlySet<string>): SignerSummary['key'] {
  const fingerprint = actor.toLowerCase();
  if (revoked.has(fingerprint)) return 'revoked';
  return known.has(fingerprint) ? 'trusted' : 'unknown';
}

export function buildLedgerAuditReport(verdict: AuditVerdict, tally: AuditTally, trust: AuditTrust, run: AuditRun): LedgerAuditReport {
  let { bad } = verdict;
  let expectHead: LedgerAuditReport['expect_head'];
  if (run.expectHead !== undefined) {
    const { hash, line, foundAtLine } = run.expectHead;
    const found = foundAtLine !== null && (line === null || line === foundAtLine);
    expectHead = { hash, line, found };
    if (!found && bad === null) {
      const where = line === null ? '' : ` at line ${line}`;
      const seen = foundAtLine === null ? 'no verified entry has that hash' : `it is at line ${foundAtLine}`;
      bad = { line: line ?? 0, reason: 'head-mismatch', detail: `expected entry ${hash}${where}: ${seen} (the ledger was cut or rewritten)` };
    }
  }

  const known = new Set(trust.keys.map((k) => k.fingerprint.toLowerCase()));
  const revoked = new Set(trust.revokedAt.map(([fp]) => fp.toLowerCase()));
  const signers: SignerSummary[] = [...tally.actors]
    .map(([actor, c]) => ({ actor, entries: c.entries, signed: c.signed, key: keyStatus(actor, trust, known, revoked), valid: c.valid, invalid: c.invalid, unverified: c.unverified }))
    .sort((a, b) => b.entries - a.entries || (a.actor < b.actor ? -1 : 1));
  const sum = (pick: (s: SignerSummary) => number): number => signers.reduce((total, s) => total + pick(s), 0);

  const seconds = Math.max(run.seconds, 1e-9);
  return {
    status: bad === null ? 'valid' : 'invalid',
    reason: bad === null ? 'ok' : bad.reason,
    file: run.file,
    // head-mismatch without a line has no line to point at.
    first_bad_line: bad === null || bad.line === 0 ? null : bad.line,
    ...(bad !== null ? { detail: bad.detail } : {}),
    torn_last_line: verdict.tornLastLine,
    entries: tally.entries,
    last_hash: tally.lastHash,
    last_line: run.lastLine,
    actions: Object.fromEntries(tally.actions),
    actors: Object.fromEntries([...tally.actors].map(([actor, c]) => [actor, c.entries])),
    first_ts: tally.firstTs,
    last_ts: tally.lastTs,
    entries_per_day: Object.fromEntries([...tally.days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    signatures: {
      signed: sum((s) => s.signed),
      unsigned: tally.entries - sum((s) => s.signed),
      valid: sum((s) => s.valid),
      invalid: sum((s) => s.invalid),
      unverified: sum((s) => s.unverified),
      signers,
    },
    ...(expectHead !== undefined ? { expect_head: expectHead } : {}),
    throughput: {
      seconds: Number(run.seconds.toFixed(4)),
      bytes: run.bytes,
      entries_per_second: Math.round(tally.entries / seconds),
      megabytes_per_second: Number((run.bytes / 1e6 / seconds).toFixed(1)),
    },
    backend: run.backend,
    jobs: run.jobs,
  };
}
