/**
 * Checks one line-aligned byte range of a ledger (see ranges.ts) on the
 * current thread: every entry's hash, the `prev_hash` links inside the range
 * and the entries' signatures. Runs on the engine's worker threads (task
 * `auditLedgerRange`, chain-task.ts) or in-thread for small ledgers.
 *
 * Lines go through the fast path (ledger-line-scan.ts + one kernel call per
 * chunk) and fall back to the reference, `checkLedgerLine`, whenever the
 * scanner is unsure or the fast hash does not match, so every verdict is the
 * slow path's. The range does not know the hash its first entry must link
 * to: it reports that entry's `prev_hash` (`firstLink`) and the main thread
 * checks it against the previous range's last hash.
 *
 * Memory: one read buffer (grown only for a line longer than it), the
 * chunk's line facts, and its signatures awaiting verification.
 */
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

import { BluxError } from '../errors.js';
import { getBackend } from '../engine/index.js';
import type { BackendName, Ed25519VerifyItem } from '../engine/types.js';
import { canonicalPython } from '../formats/canonical/python.js';
import { getString, type JsonObject } from '../formats/canonical/json-value.js';
import { checkLedgerLine, isBlankLedgerLine, ledgerSignedBytes, parseLedgerObject } from '../formats/ledger-entry.js';
import { CanonicalLineScanner, copyWithoutMembers, type MemberCut, type MemberSpan } from '../formats/ledger-line-scan.js';
import { getLedgerKernel, type EntryHashKernel, type LedgerKernelName } from './kernels.js';
import type { LedgerAuditProblem } from './report.js';
import { invalidSignatureDetail, SIG_NOT_A_STRING, SignaturePolicy, type AuditTrust, type SigValue } from './signature-policy.js';
import { AuditTally, type SignatureOutcome, type TallyData } from './tally.js';

export interface RangeCheckTask {
  file: string;
  start: number;
  end: number;
  /** Size of the reused read buffer. */
  chunkSize: number;
  kernel: LedgerKernelName;
  /** Engine backend for the signature checks. */
  ed25519Backend: BackendName;
  trust: AuditTrust;
  /** `--expect-head`: report the line of the first verified entry with this entry_hash. */
  findHash?: string;
}

/** The `prev_hash` of a range's first entry, for the main thread to check. */
export type RangeLink =
  | { line: number; kind: 'value'; prev: string | null }
  /** A prev_hash that is neither a string nor null: a mismatch whatever the previous hash; `described` as the slow path words it. */
  | { line: number; kind: 'other'; described: string };

export interface RangeBadLine {
  /** 1-based within the range. */
  line: number;
  reason: LedgerAuditProblem;
  detail: string;
  /** The line's actor, when its signature is what failed (for the signers summary). */
  actor?: string;
}

export interface RangeCheckReply {
  /** Lines read (blank ones included); all of the range's lines unless `bad` stopped the check. */
  lines: number;
  firstLink: RangeLink | null;
  bad: RangeBadLine | null;
  /** Range-relative number of a non-blank last line without "\n" (only at the end of the file). */
  tornLine: number | null;
  /** Non-blank lines that went through the slow path. */
  slowLines: number;
  /** Range-relative line of the first verified entry whose hash is the task's `findHash`. */
  foundLine: number | null;
  tally: TallyData;
}

/** Bytes of ledger decoded strictly: Python refuses invalid UTF-8. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
/** Same cap as the sequential reader: a corrupt file without newlines must not fill memory. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The slow path's wording of a broken link (checkLedgerLine's). */
export function prevMismatchDetail(prevDescribed: string, expectedPrev: string | null): string {
  const expected = expectedPrev === null ? 'null (first entry)' : expectedPrev;
  return `prev_hash is ${prevDescribed} but the previous entry_hash is ${expected}`;
}

// ---------------------------------------------------------------------------
// Reading a range as batches of whole lines
// ---------------------------------------------------------------------------

interface LineBatch {
  bytes: Buffer;
  starts: number[];
  ends: number[];
  /** False for the last line of the batch when it has no "\n" (end of file). */
  lastTerminated: boolean;
}

class RangeLineReader {
  #buffer: Buffer;
  #filled = 0;
  #consumed = 0;
  #position: number;

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
    chunkSize: number,
    private readonly file: string,
  ) {
    this.#buffer = Buffer.allocUnsafeSlow(chunkSize);
    this.#position = start;
  }

  /** The next whole lines, or null at the end of the range. */
  next(): LineBatch | null {
    // The previous batch's unfinished line moves to the front.
    this.#buffer.copyWithin(0, this.#consumed, this.#filled);
    this.#filled -= this.#consumed;
    this.#consumed = 0;
    if (this.#position >= this.end && this.#filled === 0) return null;

    if (this.#position < this.end) {
      if (this.#filled === this.#buffer.length) this.#grow();
      const want = Math.min(this.#buffer.length - this.#filled, this.end - this.#position);
      const read = readSync(this.fd, this.#buffer, this.#filled, want, this.#position);
      if (read === 0) {
        throw new BluxError('file-unreadable', 'the ledger shrank while being audited', { file: this.file });
      }
      this.#position += read;
      this.#filled += read;
    }

    const view = this.#buffer.subarray(0, this.#filled);
    const starts: number[] = [];
    const ends: number[] = [];
    let lineStart = 0;
    for (let nl = view.indexOf(NEWLINE); nl !== -1; nl = view.indexOf(NEWLINE, lineStart)) {
      starts.push(lineStart);
      ends.push(nl);
      lineStart = nl + 1;
    }
    let lastTerminated = true;
    if (this.#position >= this.end && lineStart < this.#filled) {
      starts.push(lineStart);
      ends.push(this.#filled);
      lineStart = this.#filled;
      lastTerminated = false;
    }
    this.#consumed = lineStart;
    return { bytes: this.#buffer, starts, ends, lastTerminated };
  }

  #grow(): void {
    if (this.#buffer.length >= MAX_LINE_BYTES) {
      throw new BluxError('ledger-corrupt', `a line near byte ${this.#position} is longer than ${MAX_LINE_BYTES} bytes`, { file: this.file });
    }
    const bigger = Buffer.allocUnsafeSlow(Math.min(this.#buffer.length * 2, MAX_LINE_BYTES));
    this.#buffer.copy(bigger, 0, 0, this.#filled);
    this.#buffer = bigger;
  }
}

// ---------------------------------------------------------------------------
// Judging lines
// ---------------------------------------------------------------------------

/** What the audit needs of one entry whose hash verified. */
interface EntryFacts {
  entryHash: string;
  prev: { kind: 'value'; prev: string | null } | { kind: 'other'; described: string };
  action: string | undefined;
  actor: string | undefined;
  ts: string | undefined;
  sig: SigValue;
  /** The bytes `sig` signs; computed only when there is a key to check it with. */
  signedBytes: () => Uint8Array;
}

type SlowVerdict = { kind: 'blank' } | { kind: 'bad'; reason: LedgerAuditProblem; detail: string } | { kind: 'entry'; facts: EntryFacts };

function sigOf(entry: JsonObject): SigValue {
  const sig = entry.get('sig');
  if (sig === undefined) return undefined;
  return typeof sig === 'string' ? sig : SIG_NOT_A_STRING;
}

/**
 * The reference path for one line (checkLedgerLine). `expectedPrev` is
 * undefined for a range's first entry: its link is checked by the main
 * thread, so here it is judged against its own prev_hash.
 */
function judgeSlowly(bytes: Uint8Array, expectedPrev: string | null | undefined): SlowVerdict {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    if (isBlankLedgerLine(lenientUtf8.decode(bytes))) return { kind: 'blank' };
    return { kind: 'bad', reason: 'malformed-line', detail: 'line is not valid UTF-8' };
  }
  if (isBlankLedgerLine(text)) return { kind: 'blank' };

  let against: string | null;
  let otherPrev: string | undefined;
  if (expectedPrev !== undefined) {
    against = expectedPrev;
  } else {
    const prev = parseLedgerObject(text)?.get('prev_hash');
    if (prev === null || typeof prev === 'string') against = prev;
    else {
      against = null;
      if (prev !== undefined) otherPrev = canonicalPython(prev).slice(0, 80);
    }
  }
  const verdict = checkLedgerLine(text, against);
  if (verdict.kind === 'blank') return verdict;
  if (verdict.kind === 'bad') {
    // A range's first entry with a non-string prev_hash: a broken link the main thread words.
    if (!(verdict.reason === 'prev-hash-mismatch' && otherPrev !== undefined)) return verdict;
  }
  const entry = verdict.kind === 'entry' ? verdict.entry : (parseLedgerObject(text) as JsonObject);
  const entryHash = verdict.kind === 'entry' ? verdict.entryHash : (entry.get('entry_hash') as string);
  return {
    kind: 'entry',
    facts: {
      entryHash,
      prev: otherPrev !== undefined ? { kind: 'other', described: otherPrev } : { kind: 'value', prev: against },
      action: getString(entry, 'action'),
      actor: getString(entry, 'actor'),
      ts: getString(entry, 'ts'),
      sig: sigOf(entry),
      signedBytes: () => ledgerSignedBytes(entry),
    },
  };
}

/** ASCII whitespace only (all of it is JavaScript whitespace); other blank lines go the slow way. */
function isAsciiBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c) return false;
  }
  return true;
}

function spanString(bytes: Buffer, span: MemberSpan): string | undefined {
  if (!span.isString) return undefined;
  if (span.escaped) return JSON.parse(bytes.toString('latin1', span.valueStart, span.memberEnd)) as string;
  return bytes.toString('latin1', span.valueStart + 1, span.memberEnd - 1);
}

function spanSig(bytes: Buffer, span: MemberSpan): SigValue {
  if (!span.present) return undefined;
  return spanString(bytes, span) ?? SIG_NOT_A_STRING;
}

const enum LineKind { Blank, Fast, Slow }

interface LineSlot {
  line: number;
  start: number;
  end: number;
  terminated: boolean;
  kind: LineKind;
  /** Fast lines: index into the chunk's kernel batch, and the facts from the scan. */
  packIndex: number;
  facts: EntryFacts | null;
}

interface PendingSignature {
  line: number;
  actor: string | undefined;
  recordIndex: number;
}

interface EntryRecord {
  line: number;
  facts: EntryFacts;
  outcome: SignatureOutcome;
}

export class RangeChecker {
  readonly #scanner = new CanonicalLineScanner();
  readonly #kernel: EntryHashKernel;
  readonly #policy: SignaturePolicy;
  readonly #ed25519Backend: BackendName;
  readonly tally = new AuditTally();
  lines = 0;
  firstLink: RangeLink | null = null;
  bad: RangeBadLine | null = null;
  tornLine: number | null = null;
  foundLine: number | null = null;
  slowLines = 0;
  readonly #findHash: string | undefined;
  /** undefined until the range's first entry: its link is the main thread's to check. */
  #expectedPrev: string | null | undefined = undefined;
  #pack = new Uint8Array(64 * 1024);
  #offsets = new Int32Array(1024);
  #matches = new Uint8Array(1024);

  constructor(kernel: LedgerKernelName, ed25519Backend: BackendName, trust: AuditTrust, findHash?: string) {
    this.#findHash = findHash;
    this.#kernel = getLedgerKernel(kernel);
    this.#policy = new SignaturePolicy(trust);
    this.#ed25519Backend = ed25519Backend;
  }

  /** Checks a batch of lines; false once a bad line was found (stop reading). */
  async checkBatch(batch: LineBatch): Promise<boolean> {
    const slots = this.#scanBatch(batch);
    const records: EntryRecord[] = [];
    const pending: PendingSignature[] = [];
    const items: Ed25519VerifyItem[] = [];
    let bad: RangeBadLine | null = null;

    for (const slot of slots) {
      if (slot.kind === LineKind.Blank) continue;
      if (!slot.terminated) this.tornLine = slot.line;
      let facts = slot.kind === LineKind.Fast && this.#matches[slot.packIndex] === 1 ? slot.facts : null;
      if (facts === null) {
        this.slowLines++;
        const verdict = judgeSlowly(batch.bytes.subarray(slot.start, slot.end), this.#expectedPrev);
        if (verdict.kind === 'blank') {
          if (!slot.terminated) this.tornLine = null;
          continue;
        }
        if (verdict.kind === 'bad') {
          bad = { line: slot.line, reason: verdict.reason, detail: verdict.detail };
          break;
        }
        facts = verdict.facts;
      }
      if (this.#expectedPrev === undefined) {
        this.firstLink = facts.prev.kind === 'value'
          ? { line: slot.line, kind: 'value', prev: facts.prev.prev }
          : { line: slot.line, kind: 'other', described: facts.prev.described };
      } else if (facts.prev.kind !== 'value' || facts.prev.prev !== this.#expectedPrev) {
        const described = facts.prev.kind === 'value' ? (facts.prev.prev ?? 'null') : facts.prev.described;
        bad = { line: slot.line, reason: 'prev-hash-mismatch', detail: prevMismatchDetail(described, this.#expectedPrev) };
        break;
      }
      this.#expectedPrev = facts.entryHash;

      const decision = this.#policy.decide(facts.actor, facts.ts, facts.sig);
      if (decision.kind === 'bad') {
        bad = { line: slot.line, reason: decision.reason, detail: decision.detail };
        break;
      }
      let outcome: SignatureOutcome = decision.kind === 'unsigned' ? 'unsigned' : 'unverified';
      if (decision.kind === 'verify') {
        outcome = 'valid'; // until the batch says otherwise
        pending.push({ line: slot.line, actor: facts.actor, recordIndex: records.length });
        items.push({ publicKey: decision.publicKey, signature: decision.signature, message: facts.signedBytes() });
      }
      records.push({ line: slot.line, facts, outcome });
    }

    if (items.length > 0) {
      const verdicts = await getBackend(this.#ed25519Backend).verifyEd25519Batch(items);
      const failed = verdicts.indexOf(false);
      if (failed !== -1 && (bad === null || pending[failed]!.line < bad.line)) {
        const { line, actor } = pending[failed]!;
        bad = { line, reason: 'signature-invalid', detail: invalidSignatureDetail(actor), ...(actor !== undefined ? { actor } : {}) };
      }
    }

    for (const record of records) {
      if (bad !== null && record.line >= bad.line) break;
      const { facts } = record;
      if (this.foundLine === null && facts.entryHash === this.#findHash) this.foundLine = record.line;
      this.tally.add(facts.entryHash, facts.action, facts.actor, facts.ts, record.outcome);
    }
    if (bad !== null) {
      if (bad.reason === 'signature-invalid') this.tally.countInvalidSignature(bad.actor);
      // A torn line after the bad one was never reached by the sequential reader.
      if (this.tornLine !== null && this.tornLine > bad.line) this.tornLine = null;
      this.bad = bad;
      return false;
    }
    return true;
  }

  /** Phase 1: find each line's kind, scan the canonical ones and hash them all in one kernel call. */
  #scanBatch(batch: LineBatch): LineSlot[] {
    const { bytes, starts, ends } = batch;
    const count = starts.length;
    this.#ensureCapacity(count, ends[count - 1] ?? 0);
    const slots: LineSlot[] = [];
    const claimed: string[] = [];
    const scanner = this.#scanner;
    let packed = 0;
    for (let i = 0; i < count; i++) {
      const start = starts[i]!;
      const end = ends[i]!;
      const slot: LineSlot = {
        line: ++this.lines, start, end, terminated: i < count - 1 || batch.lastTerminated,
        kind: LineKind.Slow, packIndex: -1, facts: null,
      };
      slots.push(slot);
      if (isAsciiBlank(bytes, start, end)) {
        slot.kind = LineKind.Blank;
        continue;
      }
      if (!scanner.scan(bytes, start, end)) continue;
      slot.kind = LineKind.Fast;
      slot.packIndex = claimed.length;
      this.#offsets[claimed.length] = packed;
      packed += copyWithoutMembers(bytes, start, end, [scanner.entryHash], this.#pack.subarray(packed));
      claimed.push(bytes.toString('latin1', scanner.entryHash.valueStart + 1, scanner.entryHash.memberEnd - 1));
      slot.facts = this.#factsFromScan(bytes, start, end);
    }
    this.#offsets[claimed.length] = packed;
    this.#kernel.check(this.#pack, this.#offsets, claimed.length, claimed, this.#matches);
    return slots;
  }

  #factsFromScan(bytes: Buffer, start: number, end: number): EntryFacts {
    const s = this.#scanner;
    const hashCut: MemberCut = { memberStart: s.entryHash.memberStart, memberEnd: s.entryHash.memberEnd };
    const sigCut: MemberCut = { memberStart: s.sig.memberStart, memberEnd: s.sig.memberEnd };
    const hasSig = s.sig.present;
    return {
      entryHash: bytes.toString('latin1', s.entryHash.valueStart + 1, s.entryHash.memberEnd - 1),
      prev: { kind: 'value', prev: s.prevHash.isNull ? null : (spanString(bytes, s.prevHash) as string) },
      action: spanString(bytes, s.action),
      actor: spanString(bytes, s.actor),
      ts: spanString(bytes, s.ts),
      sig: spanSig(bytes, s.sig),
      // Called while the batch's bytes are still in the buffer (checkBatch, same call).
      signedBytes: () => {
        const out = new Uint8Array(end - start);
        const length = copyWithoutMembers(bytes, start, end, hasSig ? [hashCut, sigCut] : [hashCut], out);
        return out.subarray(0, length);
      },
    };
  }

  #ensureCapacity(lines: number, bytes: number): void {
    if (this.#offsets.length < lines + 1) {
      this.#offsets = new Int32Array(lines * 2 + 1);
      this.#matches = new Uint8Array(lines * 2 + 1);
    }
    if (this.#pack.length < bytes) this.#pack = new Uint8Array(bytes * 2);
  }

  reply(): RangeCheckReply {
    return { lines: this.lines, firstLink: this.firstLink, bad: this.bad, tornLine: this.tornLine, slowLines: this.slowLines, foundLine: this.foundLine, tally: this.tally.toData() };
  }
}

/** Checks the range `[task.start, task.end)` of the ledger, reading it through one reused buffer. */
export async function checkLedgerRange(task: RangeCheckTask): Promise<RangeCheckReply> {
  const checker = new RangeChecker(task.kernel, task.ed25519Backend, task.trust, task.findHash);
  let fd: number;
  try {
    fd = openSync(task.file, 'r');
  } catch (e) {
    throw new BluxError('file-unreadable', `cannot open the ledger: ${String(e)}`, { file: task.file, cause: e });
  }
  try {
    const reader = new RangeLineReader(fd, task.start, task.end, task.chunkSize, task.file);
    for (let batch = reader.next(); batch !== null; batch = reader.next()) {
      if (!(await checker.checkBatch(batch))) break;
    }
  } finally {
    closeSync(fd);
  }
  return checker.reply();
}
