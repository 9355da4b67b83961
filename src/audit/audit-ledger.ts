/**
 * The fast ledger audit (`auditLedger`, `audit verify-chain`): the file is
 * cut into line-aligned byte ranges (ranges.ts), each range is checked
 * (range-check.ts) by this thread or a thread of the engine pool (worker
 * task `auditLedgerRange`; see checkOnLanes), and the ranges are stitched
 * back together here, in file order: line numbers are
 * offset by the lines of the ranges before, each range's first `prev_hash`
 * is checked against the previous range's last hash, and the first bad line
 * of the earliest broken range wins, so the verdict is exactly the
 * sequential reader's (verify-chain.ts).
 *
 * Memory: each thread checking ranges holds one read buffer of `chunkSize`
 * bytes; this thread also holds the replies of the ranges in flight
 * (tallies only: counts per name). Small ledgers, and any ledger with one job, are checked in
 * this thread: starting workers costs more than they would save.
 */
import { statSync } from 'node:fs';

import { BluxError } from '../errors.js';
import { resolveBackendName } from '../engine/backend-name.js';
import { checkJobs, defaultJobs, getEnginePool } from '../engine/pool.js';
import type { BackendName } from '../engine/types.js';
import { toInputError } from '../io/read-document.js';
import { ledgerLockPath, withSharedLock } from '../store/file-lock.js';
import { defaultLedgerKernel, getLedgerKernel, type LedgerKernelName } from './kernels.js';
import { auditPoolThreads, DEFAULT_CHUNK_BYTES, DEFAULT_POOL_FROM_BYTES } from './prestart.js';
import { rangeCountFor, splitFileIntoLineRanges, splitFileIntoTaperedRanges, type ByteRange } from './ranges.js';
// Types only: the range check is loaded when the audit starts (~40 ms of modules), not with this module.
import type { RangeCheckReply, RangeCheckTask } from './range-check.js';
import { prevMismatchDetail } from '../formats/ledger-wording.js';
import { buildLedgerAuditReport, type AuditVerdict } from './report-build.js';
import type { LedgerAuditReport } from './report.js';
import { NO_TRUST, type AuditTrust } from './signature-policy.js';
import type { TrustContext } from '../trust/context.js';
import type { KeyRevocation } from '../store/revocation-lists.js';
import { AuditTally } from './tally.js';

export { prestartLedgerAudit } from './prestart.js';

export interface AuditLedgerOptions {
  /** Threads; the cores unless given. */
  jobs?: number;
  /** Entry-hash kernel (see kernels.ts). */
  kernel?: LedgerKernelName | string;
  /** Engine backend for the signature checks (default: BLUX_REG_BACKEND or auto). */
  backend?: BackendName | string;
  /** Keys and revocations to check `sig` against, and `--require-signed`. */
  trust?: AuditTrust;
  /** `--expect-head HASH[@LINE]`. */
  expectHead?: { hash: string; line: number | null };
  /** Each worker's read buffer; 1 MiB unless given (tests use tiny ones to cut lines across chunks). */
  chunkSize?: number;
  /** Target size of a range (one worker task); 8 MiB unless given. */
  rangeBytes?: number;
  /** Ledgers smaller than this are checked in this thread; 4 MiB unless given (0: the pool whenever jobs > 1; one job is always in-thread). */
  poolFromBytes?: number;
  /** Called as ranges finish, with the bytes of the ranges finished so far. */
  onProgress?: (bytesDone: number, totalBytes: number) => void;
}

const MIB = 1024 * 1024;
const DEFAULT_RANGE_BYTES = 8 * MIB;
/** The last ranges of a parallel audit shrink down to this (~600 lines; ranges.ts taperedRangeTargets). */
const SMALLEST_RANGE_BYTES = MIB / 4;
/** Ranges handed to each pool thread ahead of the merge: the one it runs and two queued (pool.ts lets them wait on the thread). */
const RANGES_IN_FLIGHT_PER_JOB = 3;

function checkPositive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BluxError('invalid-argument', `${name} must be a positive integer, got ${value}`);
  }
}

/** The ledger's size once no append is in progress (as the sequential reader takes it): later appends are not audited. */
async function settledSize(file: string): Promise<number> {
  return withSharedLock(ledgerLockPath(file), async () => {
    try {
      const stat = statSync(file);
      if (stat.isDirectory()) throw new BluxError('file-unreadable', 'is a folder, not a ledger file', { file });
      return stat.size;
    } catch (e) {
      throw toInputError(e, file);
    }
  });
}

/** Stitches range replies together in file order. */
class RangeMerger {
  readonly tally = new AuditTally();
  verdict: AuditVerdict = { bad: null, tornLastLine: false };
  foundAtLine: number | null = null;
  slowLines = 0;
  lastLine: number | null = null;
  #linesBefore = 0;
  #lastHash: string | null = null;
  #done = false;

  /** True once the verdict is settled (later ranges cannot change it). */
  get done(): boolean {
    return this.#done;
  }

  add(reply: RangeCheckReply): void {
    if (this.#done) return;
    this.slowLines += reply.slowLines;
    const offset = this.#linesBefore;
    const link = reply.firstLink;
    if (link !== null) {
      const linked = link.kind === 'value' && link.prev === this.#lastHash;
      if (!linked) {
        const described = link.kind === 'value' ? (link.prev ?? 'null') : link.described;
        this.#finish({ line: offset + link.line, reason: 'prev-hash-mismatch', detail: prevMismatchDetail(described, this.#lastHash) }, false);
        return;
      }
    }
    this.tally.merge(reply.tally);
    if (reply.tally.lastHash !== null) this.#lastHash = reply.tally.lastHash;
    if (reply.lastEntryLine !== null) this.lastLine = offset + reply.lastEntryLine;
    if (this.foundAtLine === null && reply.foundLine !== null) this.foundAtLine = offset + reply.foundLine;
    const torn = reply.tornLine !== null;
    if (reply.bad !== null) {
      const { line, reason, detail } = reply.bad;
      this.#finish({ line: offset + line, reason, detail }, torn);
      return;
    }
    this.verdict.tornLastLine = torn;
    this.#linesBefore += reply.lines;
  }

  #finish(bad: NonNullable<AuditVerdict['bad']>, tornLastLine: boolean): void {
    this.verdict = { bad, tornLastLine };
    this.#done = true;
  }
}

function parseKernel(name: string | undefined): LedgerKernelName {
  return getLedgerKernel(name ?? defaultLedgerKernel()).name;
}

/**
 * Audits the ledger at `file`: every entry hash, every link, every
 * signature (against `opts.trust`), and `--expect-head`. A broken ledger is a
 * verdict (`status: 'invalid'`); a missing or unreadable file throws
 * (`file-not-found`, `file-unreadable`).
 */
export async function auditLedger(file: string, opts: AuditLedgerOptions = {}): Promise<LedgerAuditReport> {
  const started = performance.now();
  const jobs = opts.jobs ?? defaultJobs();
  checkJobs(jobs);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_BYTES;
  checkPositive('chunk size', chunkSize);
  const rangeBytes = opts.rangeBytes ?? DEFAULT_RANGE_BYTES;
  checkPositive('range size', rangeBytes);
  const kernel = parseKernel(opts.kernel);
  const ed25519Backend = resolveBackendName(opts.backend);
  const trust = opts.trust ?? NO_TRUST;

  const size = await settledSize(file);
  // One job gains nothing from a worker but its start-up (~100 ms) and a thread hop per range.
  const inThread = jobs === 1 || size < (opts.poolFromBytes ?? DEFAULT_POOL_FROM_BYTES);
  // On several threads the ranges shrink toward the end, so that they finish together (ranges.ts).
  const ranges = size === 0 ? []
    : inThread ? splitFileIntoLineRanges(file, size, rangeCountFor(size, 1, rangeBytes))
    : splitFileIntoTaperedRanges(file, size, jobs, rangeBytes, Math.min(rangeBytes, SMALLEST_RANGE_BYTES));
  const taskOf = (range: ByteRange): RangeCheckTask => ({
    file, start: range.start, end: range.end, chunkSize, kernel, ed25519Backend, trust,
    ...(opts.expectHead !== undefined ? { findHash: opts.expectHead.hash } : {}),
  });

  const merger = new RangeMerger();
  let bytesDone = 0;
  const settle = (range: ByteRange, reply: RangeCheckReply): void => {
    merger.add(reply);
    bytesDone += range.end - range.start;
    opts.onProgress?.(bytesDone, size);
  };

  if (inThread) {
    const { checkLedgerRange } = await import('./range-check.js');
    for (const range of ranges) {
      settle(range, await checkLedgerRange(taskOf(range)));
      if (merger.done) break;
    }
  } else {
    await checkOnLanes(ranges, jobs, taskOf, settle, () => merger.done);
  }

  const seconds = (performance.now() - started) / 1000;
  const report = buildLedgerAuditReport(merger.verdict, merger.tally, trust, {
    file, bytes: size, seconds, backend: `${kernel}+${ed25519Backend}`, jobs: inThread ? 1 : jobs, lastLine: merger.lastLine,
    ...(opts.expectHead !== undefined ? { expectHead: { ...opts.expectHead, foundAtLine: merger.foundAtLine } } : {}),
  });
  return { ...report, slow_path_lines: merger.slowLines };
}

/** A range's outcome, kept until the ranges before it have been settled. */
type RangeOutcome = { reply: RangeCheckReply } | { error: unknown };

/**
 * Runs the ranges on `jobs` lanes: this thread and `jobs - 1` pool threads
 * (auditPoolThreads), and settles the replies strictly in file order. This
 * thread takes a lane because it would otherwise sit idle while the pool
 * works: on 2 cores, one worker and this thread use both cores, and one
 * thread fewer to start means the audit starts sooner (a thread costs
 * ~70-100 ms of CPU to start). The pool keeps a bounded window of ranges
 * queued so its threads never wait for this one; this thread yields to the
 * event loop between its ranges, so the pool's replies are taken in time.
 * Once the verdict is settled no new range starts (the ones running finish
 * and are dropped). An error is thrown only when its range's turn comes: a
 * bad line found earlier in the file wins, as in the sequential reader.
 */
async function checkOnLanes(
  ranges: readonly ByteRange[],
  jobs: number,
  taskOf: (range: ByteRange) => RangeCheckTask,
  settle: (range: ByteRange, reply: RangeCheckReply) => void,
  isDone: () => boolean,
): Promise<void> {
  const pool = getEnginePool(auditPoolThreads(jobs));
  const { checkLedgerRange } = await import('./range-check.js');
  const window = pool.jobs * RANGES_IN_FLIGHT_PER_JOB;
  const outcomes = new Map<number, RangeOutcome>();
  let next = 0;
  let settled = 0;
  let onPool = 0;
  let wakeUp: (() => void) | null = null;

  /** Settles every finished range whose turn has come; throws a failed range's error in its turn. */
  const settleInOrder = (): void => {
    for (let outcome = outcomes.get(settled); outcome !== undefined && !isDone(); outcome = outcomes.get(settled)) {
      outcomes.delete(settled);
      if ('error' in outcome) throw outcome.error;
      settle(ranges[settled]!, outcome.reply);
      settled++;
    }
  };
  const finished = (index: number, outcome: RangeOutcome): void => {
    outcomes.set(index, outcome);
    wakeUp?.();
  };
  const launchOnPool = (): void => {
    while (!isDone() && next < ranges.length && onPool < window) {
      const index = next++;
      onPool++;
      (pool.run(taskOf(ranges[index]!), { name: 'auditLedgerRange' }) as Promise<RangeCheckReply>).then(
        (reply) => { onPool--; finished(index, { reply }); },
        (error: unknown) => { onPool--; finished(index, { error }); },
      );
    }
  };

  launchOnPool();
  while (!isDone() && settled < ranges.length) {
    if (next < ranges.length) {
      // This thread's lane: the next range no pool thread has taken.
      const index = next++;
      try {
        outcomes.set(index, { reply: await checkLedgerRange(taskOf(ranges[index]!)) });
      } catch (error) {
        outcomes.set(index, { error });
      }
      // Let the pool's replies in (they arrive as events, which a run of awaits alone would not let through).
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else {
      // Nothing left to take: wait for the pool's next reply.
      await new Promise<void>((resolve) => (wakeUp = resolve));
      wakeUp = null;
    }
    settleInOrder();
    launchOnPool();
  }
  // Replies still coming are not needed (EnginePool.run keeps their rejections from going unhandled).
}

/** The report of a ledger that does not exist yet (a fresh config folder): an empty, valid chain. */
export function emptyLedgerAuditReport(file: string, trust: AuditTrust = NO_TRUST, expectHead?: { hash: string; line: number | null }): LedgerAuditReport {
  return buildLedgerAuditReport({ bad: null, tornLastLine: false }, new AuditTally(), trust, {
    file, bytes: 0, seconds: 0, backend: defaultLedgerKernel(), jobs: 1, lastLine: null,
    ...(expectHead !== undefined ? { expectHead: { ...expectHead, foundAtLine: null } } : {}),
  });
}

const EXPECT_HEAD = /^([0-9a-fA-F]{64})(?:@([1-9]\d*))?$/;

/** `--expect-head HASH[@LINE]`: a 64-hex entry hash, optionally with its 1-based line. */
export function parseExpectHead(text: string): { hash: string; line: number | null } {
  const match = EXPECT_HEAD.exec(text.trim());
  if (match === null) {
    throw new BluxError('invalid-argument', `--expect-head must be a 64-hex entry hash, optionally @LINE (e.g. <hash>@1200), got ${JSON.stringify(text)}`);
  }
  return { hash: match[1]!.toLowerCase(), line: match[2] === undefined ? null : Number(match[2]) };
}

/** The plain trust data the workers need, from the command's trust context. */
export function auditTrustFrom(context: Pick<TrustContext, 'keys' | 'revokedKeys'>, requireSigned: boolean): AuditTrust {
  return {
    keys: [...context.keys].map((key) => ({ fingerprint: key.fingerprint, publicKey: key.publicKey })),
    revokedAt: [...context.revokedKeys].map(([fingerprint, record]) => [fingerprint, (record as KeyRevocation).revoked_at]),
    requireSigned,
  };
}
