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
import { CanonicalLineScanner, copyWithoutMembers, type MemberSpan } from '../formats/ledger-line-scan.js';
import { ByteStringCache, equalsAscii } from './byte-strings.js';
import { getLedgerKernel, type EntryHashKernel, type LedgerKernelName } from './kernels.js';
import type { LedgerAuditProblem } from './report.js';
import { invalidSignatureDetail, SIG_NOT_A_STRING, SignaturePolicy, type AuditTrust, type SigValue } from './signature-policy.js';
import { AuditTally, dayOf, type SignatureOutcome, type TallyData } from './tally.js';

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
  /** Range-relative line of the last verified entry. */
  lastEntryLine: number | null;
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

function decodeEscaped(bytes: Buffer, valueStart: number, valueEnd: number): string {
  return JSON.parse(bytes.toString('latin1', valueStart, valueEnd)) as string;
}

const enum LineKind { Blank, Fast, Slow }

/**
 * A line as phase 1 leaves it: offsets into the batch's bytes, no strings
 * (decoding five strings per line cost more than hashing it). For a fast
 * line, a `*At` of -1 means the member is absent or not a string.
 */
interface LineSlot {
  line: number;
  start: number;
  end: number;
  terminated: boolean;
  kind: LineKind;
  /** Fast lines: index into the chunk's kernel batch. */
  packIndex: number;
  /** Offset of the first of the 64 hex digits of entry_hash. */
  hashAt: number;
  /** prev_hash string value without quotes: [prevAt, prevEnd); -1 for null. */
  prevAt: number;
  prevEnd: number;
  /** String values with their quotes: [xAt, xEnd); -1 when absent or not a string. */
  actionAt: number;
  actionEnd: number;
  actorAt: number;
  actorEnd: number;
  tsAt: number;
  tsEnd: number;
  /** Bit set of the values above that hold escapes (decoded with JSON.parse). */
  escapes: number;
  /** The sig member [sigMemberAt, sigMemberEnd) and its value; -1 when absent. */
  sigMemberAt: number;
  sigMemberEnd: number;
  sigValueAt: number;
  hashMemberAt: number;
  hashMemberEnd: number;
}

const ESCAPED_PREV = 1;
const ESCAPED_ACTION = 2;
const ESCAPED_ACTOR = 4;
const ESCAPED_TS = 8;
const ESCAPED_SIG = 16;
const HASH_HEX_DIGITS = 64;
/** `YYYY-MM-DD`: the day of an ISO timestamp. */
const DAY_LENGTH = 10;

function isDayPrefix(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < DAY_LENGTH; i++) {
    const c = bytes[at + i]!;
    if (i === 4 || i === 7 ? c !== 0x2d : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Offset of a string member's opening quote, -1 when absent or not a string. */
function stringStart(span: MemberSpan): number {
  return span.isString ? span.valueStart : -1;
}

interface PendingSignature {
  line: number;
  actor: string | undefined;
}

/** An entry that verified, waiting for its batch's signature verdicts before it is counted. */
interface EntryRecord {
  line: number;
  /** The fast line, or the slow path's facts. */
  slot: LineSlot | null;
  facts: EntryFacts | null;
  outcome: SignatureOutcome;
}

export class RangeChecker {
  readonly #scanner = new CanonicalLineScanner();
  readonly #kernel: EntryHashKernel;
  readonly #policy: SignaturePolicy;
  readonly #ed25519Backend: BackendName;
  readonly #names = new ByteStringCache();
  readonly tally = new AuditTally();
  lines = 0;
  firstLink: RangeLink | null = null;
  bad: RangeBadLine | null = null;
  tornLine: number | null = null;
  foundLine: number | null = null;
  slowLines = 0;
  lastEntryLine: number | null = null;
  readonly #findHash: string | undefined;
  /** False until the range's first entry: its link is the main thread's to check. */
  #seenEntry = false;
  /** The hash the next entry must link to: at `#expectedPrevAt` in the current batch's bytes, or else `#expectedPrev`. */
  #expectedPrevAt = -1;
  #expectedPrev: string | null = null;
  #bytes: Buffer = Buffer.alloc(0);
  #pack = new Uint8Array(64 * 1024);
  #offsets = new Int32Array(1024);
  #claimedAt = new Int32Array(1024);
  #matches = new Uint8Array(1024);

  constructor(kernel: LedgerKernelName, ed25519Backend: BackendName, trust: AuditTrust, findHash?: string) {
    this.#findHash = findHash;
    this.#kernel = getLedgerKernel(kernel);
    this.#policy = new SignaturePolicy(trust);
    this.#ed25519Backend = ed25519Backend;
  }

  #expectedPrevString(): string | null {
    if (this.#expectedPrevAt !== -1) {
      this.#expectedPrev = this.#bytes.toString('latin1', this.#expectedPrevAt, this.#expectedPrevAt + HASH_HEX_DIGITS);
      this.#expectedPrevAt = -1;
    }
    return this.#expectedPrev;
  }

  #string(at: number, end: number, escaped: boolean, cache: boolean): string | undefined {
    if (at === -1) return undefined;
    if (escaped) return decodeEscaped(this.#bytes, at, end);
    return cache ? this.#names.get(this.#bytes, at + 1, end - 1) : this.#bytes.toString('latin1', at + 1, end - 1);
  }

  #prevOf(slot: LineSlot): string | null {
    if (slot.prevAt === -1) return null;
    return (slot.escapes & ESCAPED_PREV) !== 0
      ? decodeEscaped(this.#bytes, slot.prevAt - 1, slot.prevEnd + 1)
      : this.#bytes.toString('latin1', slot.prevAt, slot.prevEnd);
  }

  /** The fast line's prev_hash is the hash the chain expects, compared in place. */
  #linksFast(slot: LineSlot): boolean {
    const bytes = this.#bytes;
    if (slot.prevAt === -1) return this.#expectedPrevAt === -1 && this.#expectedPrev === null;
    if ((slot.escapes & ESCAPED_PREV) !== 0) return this.#prevOf(slot) === this.#expectedPrevString();
    if (this.#expectedPrevAt !== -1) {
      if (slot.prevEnd - slot.prevAt !== HASH_HEX_DIGITS) return false;
      return bytes.compare(bytes, this.#expectedPrevAt, this.#expectedPrevAt + HASH_HEX_DIGITS, slot.prevAt, slot.prevEnd) === 0;
    }
    const expected = this.#expectedPrev;
    return expected !== null && equalsAscii(bytes, slot.prevAt, slot.prevEnd, expected);
  }

  /** Checks a batch of lines; false once a bad line was found (stop reading). */
  async checkBatch(batch: LineBatch): Promise<boolean> {
    this.#bytes = batch.bytes;
    const slots = this.#scanBatch(batch);
    const records: EntryRecord[] = [];
    const pending: PendingSignature[] = [];
    const items: Ed25519VerifyItem[] = [];
    let bad: RangeBadLine | null = null;

    for (const slot of slots) {
      if (slot.kind === LineKind.Blank) continue;
      if (!slot.terminated) this.tornLine = slot.line;
      const line = slot.line;
      let facts: EntryFacts | null = null;
      const fast = slot.kind === LineKind.Fast && this.#matches[slot.packIndex] === 1;
      if (!fast) {
        this.slowLines++;
        const verdict = judgeSlowly(batch.bytes.subarray(slot.start, slot.end), this.#seenEntry ? this.#expectedPrevString() : undefined);
        if (verdict.kind === 'blank') {
          if (!slot.terminated) this.tornLine = null;
          continue;
        }
        if (verdict.kind === 'bad') {
          bad = { line, reason: verdict.reason, detail: verdict.detail };
          break;
        }
        facts = verdict.facts;
      }

      // The link, then the hash it passes on.
      if (!this.#seenEntry) {
        this.#seenEntry = true;
        if (facts === null) this.firstLink = { line, kind: 'value', prev: this.#prevOf(slot) };
        else this.firstLink = facts.prev.kind === 'value' ? { line, kind: 'value', prev: facts.prev.prev } : { line, kind: 'other', described: facts.prev.described };
      } else if (facts === null ? !this.#linksFast(slot) : facts.prev.kind !== 'value' || facts.prev.prev !== this.#expectedPrevString()) {
        const described = facts === null ? (this.#prevOf(slot) ?? 'null') : facts.prev.kind === 'value' ? (facts.prev.prev ?? 'null') : facts.prev.described;
        bad = { line, reason: 'prev-hash-mismatch', detail: prevMismatchDetail(described, this.#expectedPrevString()) };
        break;
      }
      if (facts === null) {
        this.#expectedPrevAt = slot.hashAt;
      } else {
        this.#expectedPrevAt = -1;
        this.#expectedPrev = facts.entryHash;
      }

      // The signature, when there is one or one is required.
      let outcome: SignatureOutcome = 'unsigned';
      const signed = facts === null ? slot.sigMemberAt !== -1 : facts.sig !== undefined;
      if (signed || this.#policy.requireSigned) {
        const actor = facts === null ? this.#string(slot.actorAt, slot.actorEnd, (slot.escapes & ESCAPED_ACTOR) !== 0, true) : facts.actor;
        const ts = facts === null ? this.#string(slot.tsAt, slot.tsEnd, (slot.escapes & ESCAPED_TS) !== 0, false) : facts.ts;
        const sig = facts === null ? this.#sigOf(slot) : facts.sig;
        const decision = this.#policy.decide(actor, ts, sig);
        if (decision.kind === 'bad') {
          bad = { line, reason: decision.reason, detail: decision.detail };
          break;
        }
        outcome = decision.kind === 'unsigned' ? 'unsigned' : 'unverified';
        if (decision.kind === 'verify') {
          outcome = 'valid'; // until the batch's verdicts say otherwise
          pending.push({ line, actor });
          items.push({ publicKey: decision.publicKey, signature: decision.signature, message: facts === null ? this.#signedBytes(slot) : facts.signedBytes() });
        }
      }
      records.push({ line, slot: facts === null ? slot : null, facts, outcome });
    }

    if (items.length > 0) {
      const verdicts = await getBackend(this.#ed25519Backend).verifyEd25519Batch(items);
      const failed = verdicts.indexOf(false);
      if (failed !== -1 && (bad === null || pending[failed]!.line < bad.line)) {
        const { line, actor } = pending[failed]!;
        bad = { line, reason: 'signature-invalid', detail: invalidSignatureDetail(actor), ...(actor !== undefined ? { actor } : {}) };
      }
    }

    this.#count(records, bad === null ? Number.POSITIVE_INFINITY : bad.line);
    // The next batch reuses the buffer: keep the hash to link to as a string.
    this.#expectedPrevString();
    if (bad !== null) {
      if (bad.reason === 'signature-invalid') this.tally.countInvalidSignature(bad.actor);
      // A torn line after the bad one was never reached by the sequential reader.
      if (this.tornLine !== null && this.tornLine > bad.line) this.tornLine = null;
      this.bad = bad;
      return false;
    }
    return true;
  }

  /** Counts the entries before `badLine`; strings only for names (cached) and the batch's first and last ts and hash. */
  #count(records: readonly EntryRecord[], badLine: number): void {
    const tally = this.tally;
    const bytes = this.#bytes;
    let last: EntryRecord | null = null;
    let lastWithTs: EntryRecord | null = null;
    for (const record of records) {
      if (record.line >= badLine) break;
      const { slot, facts } = record;
      if (facts !== null) {
        if (facts.ts !== undefined) lastWithTs = record;
        if (tally.firstTs === null && facts.ts !== undefined) tally.firstTs = facts.ts;
        tally.addEntry(facts.action, facts.actor, facts.ts === undefined ? undefined : dayOf(facts.ts), record.outcome);
        if (this.#findHash !== undefined && this.foundLine === null && facts.entryHash === this.#findHash) this.foundLine = record.line;
      } else if (slot !== null) {
        const escapes = slot.escapes;
        let day: string | undefined;
        if (slot.tsAt !== -1) {
          lastWithTs = record;
          if (tally.firstTs === null) tally.firstTs = this.#string(slot.tsAt, slot.tsEnd, (escapes & ESCAPED_TS) !== 0, false) ?? null;
          if ((escapes & ESCAPED_TS) === 0) {
            if (slot.tsEnd - slot.tsAt - 2 >= DAY_LENGTH && isDayPrefix(bytes, slot.tsAt + 1)) day = this.#names.get(bytes, slot.tsAt + 1, slot.tsAt + 1 + DAY_LENGTH);
          } else {
            day = dayOf(decodeEscaped(bytes, slot.tsAt, slot.tsEnd));
          }
        }
        tally.addEntry(
          this.#string(slot.actionAt, slot.actionEnd, (escapes & ESCAPED_ACTION) !== 0, true),
          this.#string(slot.actorAt, slot.actorEnd, (escapes & ESCAPED_ACTOR) !== 0, true),
          day,
          record.outcome,
        );
        if (this.#findHash !== undefined && this.foundLine === null && equalsAscii(bytes, slot.hashAt, slot.hashAt + HASH_HEX_DIGITS, this.#findHash)) {
          this.foundLine = record.line;
        }
      }
      last = record;
    }
    if (last !== null) {
      this.lastEntryLine = last.line;
      tally.lastHash = last.facts !== null ? last.facts.entryHash : bytes.toString('latin1', last.slot!.hashAt, last.slot!.hashAt + HASH_HEX_DIGITS);
    }
    if (lastWithTs !== null) {
      tally.lastTs = lastWithTs.facts !== null
        ? lastWithTs.facts.ts!
        : this.#string(lastWithTs.slot!.tsAt, lastWithTs.slot!.tsEnd, (lastWithTs.slot!.escapes & ESCAPED_TS) !== 0, false)!;
    }
  }

  #sigOf(slot: LineSlot): SigValue {
    if (slot.sigMemberAt === -1) return undefined;
    if (slot.sigValueAt === -1) return SIG_NOT_A_STRING;
    return this.#string(slot.sigValueAt, slot.sigMemberEnd, (slot.escapes & ESCAPED_SIG) !== 0, false);
  }

  /** The bytes `sig` signs: the line without its entry_hash and sig members (it is canonical). */
  #signedBytes(slot: LineSlot): Uint8Array {
    const out = new Uint8Array(slot.end - slot.start);
    const cuts = [{ memberStart: slot.hashMemberAt, memberEnd: slot.hashMemberEnd }, { memberStart: slot.sigMemberAt, memberEnd: slot.sigMemberEnd }];
    return out.subarray(0, copyWithoutMembers(this.#bytes, slot.start, slot.end, cuts, out));
  }

  /** Phase 1: find each line's kind, scan the canonical ones and hash them all in one kernel call. */
  #scanBatch(batch: LineBatch): LineSlot[] {
    const { bytes, starts, ends } = batch;
    const count = starts.length;
    this.#ensureCapacity(count, ends[count - 1] ?? 0);
    const slots: LineSlot[] = [];
    const scanner = this.#scanner;
    const pack = this.#pack;
    const offsets = this.#offsets;
    const claimedAt = this.#claimedAt;
    const hashCut = [scanner.entryHash];
    let fastCount = 0;
    let packed = 0;
    for (let i = 0; i < count; i++) {
      const start = starts[i]!;
      const end = ends[i]!;
      const slot: LineSlot = {
        line: ++this.lines, start, end, terminated: i < count - 1 || batch.lastTerminated, kind: LineKind.Slow, packIndex: -1,
        hashAt: -1, prevAt: -1, prevEnd: -1, actionAt: -1, actionEnd: -1, actorAt: -1, actorEnd: -1, tsAt: -1, tsEnd: -1,
        escapes: 0, sigMemberAt: -1, sigMemberEnd: -1, sigValueAt: -1, hashMemberAt: -1, hashMemberEnd: -1,
      };
      slots.push(slot);
      if (isAsciiBlank(bytes, start, end)) {
        slot.kind = LineKind.Blank;
        continue;
      }
      if (!scanner.scan(bytes, start, end)) continue;
      slot.kind = LineKind.Fast;
      slot.packIndex = fastCount;
      offsets[fastCount] = packed;
      packed += copyWithoutMembers(bytes, start, end, hashCut, pack.subarray(packed));
      claimedAt[fastCount] = scanner.entryHash.valueStart + 1;
      fastCount++;
      this.#recordSpans(slot);
    }
    offsets[fastCount] = packed;
    this.#kernel.check(pack, offsets, fastCount, bytes, claimedAt, this.#matches);
    return slots;
  }

  #recordSpans(slot: LineSlot): void {
    const s = this.#scanner;
    slot.hashAt = s.entryHash.valueStart + 1;
    slot.hashMemberAt = s.entryHash.memberStart;
    slot.hashMemberEnd = s.entryHash.memberEnd;
    // prev_hash without its quotes; the others with them (decodeEscaped wants the quotes).
    if (s.prevHash.isString) {
      slot.prevAt = s.prevHash.valueStart + 1;
      slot.prevEnd = s.prevHash.memberEnd - 1;
    }
    slot.actionAt = stringStart(s.action);
    slot.actionEnd = s.action.memberEnd;
    slot.actorAt = stringStart(s.actor);
    slot.actorEnd = s.actor.memberEnd;
    slot.tsAt = stringStart(s.ts);
    slot.tsEnd = s.ts.memberEnd;
    slot.sigMemberAt = s.sig.memberStart;
    slot.sigMemberEnd = s.sig.memberEnd;
    slot.sigValueAt = stringStart(s.sig);
    // `escaped` is only ever set on string values.
    slot.escapes = (s.prevHash.escaped ? ESCAPED_PREV : 0) | (s.action.escaped ? ESCAPED_ACTION : 0) |
      (s.actor.escaped ? ESCAPED_ACTOR : 0) | (s.ts.escaped ? ESCAPED_TS : 0) | (s.sig.escaped ? ESCAPED_SIG : 0);
  }

  #ensureCapacity(lines: number, bytes: number): void {
    if (this.#offsets.length < lines + 1) {
      this.#offsets = new Int32Array(lines * 2 + 1);
      this.#claimedAt = new Int32Array(lines * 2 + 1);
      this.#matches = new Uint8Array(lines * 2 + 1);
    }
    if (this.#pack.length < bytes) this.#pack = new Uint8Array(bytes * 2);
  }

  reply(): RangeCheckReply {
    return {
      lines: this.lines, firstLink: this.firstLink, bad: this.bad, tornLine: this.tornLine, slowLines: this.slowLines,
      lastEntryLine: this.lastEntryLine, foundLine: this.foundLine, tally: this.tally.toData(),
    };
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
