/**
 * The reference ledger audit: one line at a time, in order, through the
 * slow path only (checkLedgerLine: parse, canonicalize, hash) and one
 * signature check per signed entry. Slow on purpose and simple enough to
 * trust; the parallel audit (audit-ledger.ts) must report exactly what this
 * reports, and the tests compare the two on generated and mutated ledgers.
 */
import { getBackend } from '../engine/index.js';
import { resolveBackendName } from '../engine/backend-name.js';
import { getString } from '../formats/canonical/json-value.js';
import { checkLedgerLine, isBlankLedgerLine, ledgerSignedBytes } from '../formats/ledger-entry.js';
import { openLedgerLines } from '../store/ledger-file.js';
import { buildLedgerAuditReport, type AuditVerdict } from './report-build.js';
import type { LedgerAuditReport } from './report.js';
import { invalidSignatureDetail, NO_TRUST, SIG_NOT_A_STRING, SignaturePolicy, type AuditTrust, type SigValue } from './signature-policy.js';
import { AuditTally, type SignatureOutcome } from './tally.js';

export interface SequentialAuditOptions {
  trust?: AuditTrust;
  /** Engine backend for the entry hashes and the signature checks. */
  backend?: string;
  expectHead?: { hash: string; line: number | null };
  /** Read buffer size; 1 MiB unless given. */
  chunkSize?: number;
  /** Called after each chunk read; `totalBytes` is the file size when the audit began. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export async function auditLedgerSequential(file: string, opts: SequentialAuditOptions = {}): Promise<LedgerAuditReport> {
  const started = performance.now();
  const trust = opts.trust ?? NO_TRUST;
  const policy = new SignaturePolicy(trust);
  const backendName = resolveBackendName(opts.backend);
  const backend = getBackend(backendName);
  const tally = new AuditTally();
  const verdict: AuditVerdict = { bad: null, tornLastLine: false };
  let foundAtLine: number | null = null;
  let lastLine: number | null = null;
  let bytes = 0;

  const readOptions = {
    ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
    ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
  };
  for await (const line of openLedgerLines(file, readOptions)) {
    bytes += Buffer.byteLength(line.text) + (line.terminated ? 1 : 0);
    if (!line.validUtf8 && !isBlankLedgerLine(line.text)) {
      verdict.tornLastLine = !line.terminated;
      verdict.bad = { line: line.lineNumber, reason: 'malformed-line', detail: 'line is not valid UTF-8' };
      break;
    }
    const checked = checkLedgerLine(line.text, tally.lastHash, { backend: backendName });
    if (checked.kind === 'blank') continue;
    verdict.tornLastLine = !line.terminated;
    if (checked.kind === 'bad') {
      verdict.bad = { line: line.lineNumber, reason: checked.reason, detail: checked.detail };
      break;
    }
    const { entry } = checked;
    const actor = getString(entry, 'actor');
    const ts = getString(entry, 'ts');
    const rawSig = entry.get('sig');
    const sig: SigValue = rawSig === undefined ? undefined : typeof rawSig === 'string' ? rawSig : SIG_NOT_A_STRING;
    const decision = policy.decide(actor, ts, sig);
    if (decision.kind === 'bad') {
      verdict.bad = { line: line.lineNumber, reason: decision.reason, detail: decision.detail };
      break;
    }
    let outcome: SignatureOutcome = decision.kind === 'unsigned' ? 'unsigned' : 'unverified';
    if (decision.kind === 'verify') {
      const [valid] = await backend.verifyEd25519Batch([{ publicKey: decision.publicKey, signature: decision.signature, message: ledgerSignedBytes(entry) }]);
      if (valid !== true) {
        tally.countInvalidSignature(actor);
        verdict.bad = { line: line.lineNumber, reason: 'signature-invalid', detail: invalidSignatureDetail(actor) };
        break;
      }
      outcome = 'valid';
    }
    if (foundAtLine === null && checked.entryHash === opts.expectHead?.hash) foundAtLine = line.lineNumber;
    tally.add(checked.entryHash, getString(entry, 'action'), actor, ts, outcome);
    lastLine = line.lineNumber;
  }

  return buildLedgerAuditReport(verdict, tally, trust, {
    file, bytes, seconds: (performance.now() - started) / 1000, backend: 'sequential', jobs: 1, lastLine,
    ...(opts.expectHead !== undefined ? { expectHead: { ...opts.expectHead, foundAtLine } } : {}),
  });
}
