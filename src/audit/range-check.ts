/**
 * Checks one line-aligned byte range of a ledger (see ranges.ts) on the
 * current thread: every entry's hash, the `prev_hash` links inside the range
 * and the entries' signatures. Runs on the engine's worker threads (task
 * `auditLedgerRange`, chain-task.ts) or in-thread for small ledgers.
 *
 * Lines go through the fast path (the kernel's line scanner over each chunk,
 * line-scanner.ts, which also checks the canonical lines' hashes)
 * and fall back to the reference, `checkLedgerLine`, whenever the
 * scanner is unsure or the fast hash does not match, so every verdict is the
 * slow path's. The range does not know the hash its first entry must link
 * to: it reports that entry's `prev_hash` (`firstLink`) and the main thread
 * checks it against the previous range's last hash.
 *
 * Memory: the scanner's (the chunk, read straight into its buffer and grown
 * only for a line longer than it, and the line columns), and the chunk's
 * signatures awaiting verification.
 */
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

import { BluxError } from '../errors.js';
import { getBackend } from '../engine/index.js';
import type { BackendName, Ed25519VerifyItem } from '../engine/types.js';
import { canonicalPython } from '../formats/canonical/python.js';
import { getString, type JsonObject } from '../formats/canonical/json-value.js';
import { checkLedgerLine, isBlankLedgerLine, ledgerSignedBytes, parseLedgerObject } from '../formats/ledger-entry.js';
import { prevMismatchDetail } from '../formats/ledger-wording.js';
import { copyWithoutMembers, type MemberCut } from '../formats/ledger-line-scan.js';
import { ByteStringCache, equalsAscii } from './byte-strings.js';
import { getLedgerKernel, type LedgerKernel, type LedgerKernelName } from './kernels.js';
import type { LedgerAuditProblem } from './report.js';
import { IdCounts } from './id-counts.js';
import {
  LineKind, MAX_INTERNED_NAMES, NameKind, RUN_COUNTS_BASE, RUN_FIELDS, RunField, SCAN_ROWS, type LineColumns, type LineScanner, type ScannedLines,
} from './line-scanner.js';
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

// ---------------------------------------------------------------------------
// Reading a range as batches of whole lines
// ---------------------------------------------------------------------------

/** The bytes read so far and not yet taken: whole lines, then maybe the start of one. */
interface Chunk {
  /** Bytes in the scanner's memory (LineReader.bytes), from its start. */
  filled: number;
  /** The range's bytes are all read: a last line without "\n" is complete. */
  atEnd: boolean;
}

/**
 * Reads a range straight into the line scanner's chunk buffer (no copy
 * between reading and scanning), keeping an unfinished last line for the
 * next chunk.
 */
class RangeLineReader {
  #filled = 0;
  #consumed = 0;
  #position: number;

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
    private readonly scanner: LineScanner,
    chunkSize: number,
    private readonly file: string,
  ) {
    scanner.reserve(chunkSize);
    this.#position = start;
  }

  /** The scanner's chunk buffer: at least chunkSize bytes (more after a long line). */
  get #buffer(): Buffer {
    return this.scanner.bytes;
  }

  /** The bytes not taken yet plus as many more as fit, or null at the end of the range. */
  next(): Chunk | null {
    // The lines not taken move to the front.
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
    return { filled: this.#filled, atEnd: this.#position >= this.end };
  }

  /** The first `bytes` of the last chunk were checked (whole lines): the next chunk starts after them. */
  consume(bytes: number): void {
    this.#consumed = bytes;
  }

  #grow(): void {
    if (this.#buffer.length >= MAX_LINE_BYTES) {
      throw new BluxError('ledger-corrupt', `a line near byte ${this.#position} is longer than ${MAX_LINE_BYTES} bytes`, { file: this.file });
    }
    // A bigger region may move (and growing the module's memory detaches the old view): the bytes go along.
    const kept = Buffer.from(this.#buffer.subarray(0, this.#filled));
    this.scanner.reserve(Math.min(this.#buffer.length * 2, MAX_LINE_BYTES)).set(kept);
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

/** A JSON string value with escapes in it, from a fast line (read as latin1: fast lines are ASCII only, raw UTF-8 sends a line to the slow path). */
function decodeEscaped(bytes: Buffer, valueStart: number, valueEnd: number): string {
  return JSON.parse(bytes.toString('latin1', valueStart, valueEnd)) as string;
}

/**
 * The big buffers of a range check, reused by every range a thread checks:
 * a worker handles dozens of ranges per audit, and fresh buffers for each
 * (1 MiB read buffer, the line table, the bytes to hash) piled up as
 * external memory faster than GC returned it (peak RSS 222 MB on 1M
 * entries). Checks running at the same time in one thread (two audits from
 * one host) take separate scratches.
 */
class RangeScratch {
  /** Holds the chunk as read and its line columns. */
  readonly scanner: LineScanner;
  /**
   * The signed bytes of a batch's fast lines, one after another: the messages
   * handed to verifyEd25519Batch are views into it, not a fresh buffer per
   * line (a backing store per signature was a fifth of the signed audit's
   * CPU in GC). Reused: the batch awaits its verdicts before the next one.
   */
  signed = new Uint8Array(64 * 1024);
  signedUsed = 0;
  /** The two members the signed bytes leave out, refilled per line. */
  readonly signedCuts: [MemberCut, MemberCut] = [{ memberStart: 0, memberEnd: 0 }, { memberStart: 0, memberEnd: 0 }];
  /** The chunk's verified entries (row, signature outcome code) until the signature verdicts let them be counted. */
  readonly recordRows = new Int32Array(SCAN_ROWS);
  readonly recordOutcomes = new Uint8Array(SCAN_ROWS);
  /** Counts by the scanner's name ids, emptied into the range's tally at the end of each chunk. */
  readonly names = { actions: new IdCounts(MAX_INTERNED_NAMES), actors: new IdCounts(MAX_INTERNED_NAMES), days: new IdCounts(MAX_INTERNED_NAMES) };

  constructor(readonly kernel: LedgerKernel) {
    this.scanner = kernel.createScanner();
  }

  /** Room for the signed bytes of a chunk of `bytes` bytes. */
  ensureSigned(bytes: number): void {
    if (this.signed.length < bytes) this.signed = new Uint8Array(bytes * 2);
    this.signedUsed = 0;
  }
}

const idleScratches: RangeScratch[] = [];
const MAX_IDLE_SCRATCHES = 2;
/** Idle scratches keep scanners of up to this chunk size (the default chunk is 1 MiB). */
const MAX_KEPT_CHUNK_BYTES = 8 * 1024 * 1024;

/** An idle scratch of `kernel`'s (its scanner is that kernel's), or a new one. */
function takeScratch(kernel: LedgerKernel): RangeScratch {
  const at = idleScratches.findIndex((scratch) => scratch.kernel.name === kernel.name);
  return at === -1 ? new RangeScratch(kernel) : idleScratches.splice(at, 1)[0]!;
}

/**
 * Readies this thread for range checks before the first one arrives: an idle
 * scratch of the default kernel (the native addon loads here) whose scanner
 * has room for a chunk of `chunkSize` bytes (up to what an idle scratch may
 * keep). The pool's warm-up task (prestart.ts) runs it while the main thread
 * is still loading the command line. Idempotent.
 */
export function prepareRangeChecks(chunkSize: number): void {
  // The default kernel: a command that picks another (--kernel wasm) only loaded the addon for nothing.
  const kernel = getLedgerKernel();
  if (idleScratches.length > 0 || chunkSize > MAX_KEPT_CHUNK_BYTES) return;
  const scratch = new RangeScratch(kernel);
  scratch.scanner.reserve(chunkSize);
  idleScratches.push(scratch);
}

/** Chunk sizes of this thread's idle scratches (for tests: what stays allocated between audits). */
export function idleScratchChunkSizes(): number[] {
  return idleScratches.map((scratch) => scratch.scanner.capacity);
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

interface PendingSignature {
  line: number;
  actor: string | undefined;
}

const OUTCOMES: readonly SignatureOutcome[] = ['unsigned', 'valid', 'invalid', 'unverified'];
const OUTCOME_CODE: Readonly<Record<SignatureOutcome, number>> = { unsigned: 0, valid: 1, invalid: 2, unverified: 3 };

export class RangeChecker {
  readonly #policy: SignaturePolicy;
  readonly #ed25519Backend: BackendName;
  readonly #names = new ByteStringCache();
  readonly #scratch: RangeScratch;
  #table: LineColumns;
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
  /** Range line number of the batch's row 0, minus one. */
  #lineBase = 0;
  constructor(scratch: RangeScratch, ed25519Backend: BackendName, trust: AuditTrust, findHash?: string) {
    this.#scratch = scratch;
    this.#table = scratch.scanner.columns;
    for (const counts of Object.values(scratch.names)) counts.clear();
    this.#findHash = findHash;
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

  #actorOf(row: number): string | undefined {
    const t = this.#table;
    return this.#string(t.actorAt[row]!, t.actorEnd[row]!, (t.escapes[row]! & ESCAPED_ACTOR) !== 0, true);
  }

  #tsOf(row: number): string | undefined {
    const t = this.#table;
    return this.#string(t.tsAt[row]!, t.tsEnd[row]!, (t.escapes[row]! & ESCAPED_TS) !== 0, false);
  }

  #prevOf(row: number): string | null {
    const t = this.#table;
    const at = t.prevAt[row]!;
    if (at === -1) return null;
    return (t.escapes[row]! & ESCAPED_PREV) !== 0 ? decodeEscaped(this.#bytes, at - 1, t.prevEnd[row]! + 1) : this.#bytes.toString('latin1', at, t.prevEnd[row]!);
  }

  /** The fast line's prev_hash is the hash the chain expects, compared in place. */
  #linksFast(row: number): boolean {
    const bytes = this.#bytes;
    const t = this.#table;
    const at = t.prevAt[row]!;
    const end = t.prevEnd[row]!;
    if (at === -1) return this.#expectedPrevAt === -1 && this.#expectedPrev === null;
    if ((t.escapes[row]! & ESCAPED_PREV) !== 0) return this.#prevOf(row) === this.#expectedPrevString();
    if (this.#expectedPrevAt !== -1) {
      if (end - at !== HASH_HEX_DIGITS) return false;
      return bytes.compare(bytes, this.#expectedPrevAt, this.#expectedPrevAt + HASH_HEX_DIGITS, at, end) === 0;
    }
    const expected = this.#expectedPrev;
    return expected !== null && equalsAscii(bytes, at, end, expected);
  }

  /** Bytes of the last chunk its checked lines took (the reader's next chunk starts after them). */
  consumed = 0;

  /** Checks the whole lines at the start of a chunk; false once a bad line was found (stop reading). */
  async checkChunk(chunk: Chunk): Promise<boolean> {
    this.#lineBase = this.lines;
    const scanned = this.#scanChunk(chunk);
    this.consumed = scanned.consumed;
    const count = scanned.rows;
    const t = this.#table;
    // Columns read for every line, in locals (the hottest loop of the audit).
    const { kind: kinds, packIndex, linked, hashAt, sigMemberAt, matched } = t;
    const requireSigned = this.#policy.requireSigned;
    // The wasm scanner compared each fast line's prev_hash with the entry_hash of the non-blank line before it
    // (`linked`); that answer is the link check when that line is the last entry and verified on the fast path.
    let previousNonBlank = -1;
    let lastFastEntry = -1;
    // Entries that verified, waiting for the batch's signature verdicts before they are counted.
    const { recordRows, recordOutcomes } = this.#scratch;
    let recorded = 0;
    const slowFacts = new Map<number, EntryFacts>();
    const pending: PendingSignature[] = [];
    const items: Ed25519VerifyItem[] = [];
    let bad: RangeBadLine | null = null;
    // The scanner's runs (line-scanner.ts): counted in one step once their first line passed the checks below.
    // Not with --require-signed, where that first (unsigned) line fails anyway.
    const runs = this.#scratch.scanner.runs;
    const runCount = requireSigned ? 0 : scanned.runs;
    let run = 0;
    let runFirstRow = runCount > 0 ? runs[RunField.FirstRow]! : -1;

    for (let row = 0; row < count; row++) {
      const kind = kinds[row]!;
      if (kind === LineKind.Blank) continue;
      const nonBlankBefore = previousNonBlank;
      previousNonBlank = row;
      const line = this.#lineBase + row + 1;
      const terminated = row < count - 1 || scanned.lastTerminated;
      if (!terminated) this.tornLine = line;
      let facts: EntryFacts | null = null;
      if (!(kind === LineKind.Fast && matched[packIndex[row]!] === 1)) {
        this.slowLines++;
        const verdict = judgeSlowly(this.#bytes.subarray(t.start[row]!, t.end[row]!), this.#seenEntry ? this.#expectedPrevString() : undefined);
        if (verdict.kind === 'blank') {
          if (!terminated) this.tornLine = null;
          continue;
        }
        if (verdict.kind === 'bad') {
          bad = { line, reason: verdict.reason, detail: verdict.detail };
          break;
        }
        facts = verdict.facts;
        slowFacts.set(row, facts);
      }

      // The link, then the hash it passes on.
      if (!this.#seenEntry) {
        this.#seenEntry = true;
        if (facts === null) this.firstLink = { line, kind: 'value', prev: this.#prevOf(row) };
        else this.firstLink = facts.prev.kind === 'value' ? { line, kind: 'value', prev: facts.prev.prev } : { line, kind: 'other', described: facts.prev.described };
      } else if (
        facts === null
          ? !((linked[row] === 1 && nonBlankBefore === lastFastEntry) || this.#linksFast(row))
          : facts.prev.kind !== 'value' || facts.prev.prev !== this.#expectedPrevString()
      ) {
        const described = facts === null ? (this.#prevOf(row) ?? 'null') : facts.prev.kind === 'value' ? (facts.prev.prev ?? 'null') : facts.prev.described;
        bad = { line, reason: 'prev-hash-mismatch', detail: prevMismatchDetail(described, this.#expectedPrevString()) };
        break;
      }
      if (facts === null) {
        this.#expectedPrevAt = hashAt[row]!;
        lastFastEntry = row;
      } else {
        this.#expectedPrevAt = -1;
        this.#expectedPrev = facts.entryHash;
        lastFastEntry = -1;
      }

      // The signature, when there is one or one is required.
      let outcome: SignatureOutcome = 'unsigned';
      const signed = facts === null ? sigMemberAt[row] !== -1 : facts.sig !== undefined;
      if (signed || requireSigned) {
        const actor = facts === null ? this.#actorOf(row) : facts.actor;
        const ts = facts === null ? this.#tsOf(row) : facts.ts;
        const sig = facts === null ? this.#sigOf(row) : facts.sig;
        const decision = this.#policy.decide(actor, ts, sig);
        if (decision.kind === 'bad') {
          bad = { line, reason: decision.reason, detail: decision.detail };
          break;
        }
        outcome = decision.kind === 'unsigned' ? 'unsigned' : 'unverified';
        if (decision.kind === 'verify') {
          outcome = 'valid'; // until the batch's verdicts say otherwise
          pending.push({ line, actor });
          items.push({ publicKey: decision.publicKey, signature: decision.signature, message: facts === null ? this.#signedBytes(row) : facts.signedBytes() });
        }
      }
      if (row === runFirstRow) {
        // The rest of the run verified and linked in the scanner: it is recorded as one (a negative row: -1 - run).
        const lastRow = runs[run * RUN_FIELDS + RunField.LastRow]!;
        this.#expectedPrevAt = hashAt[lastRow]!;
        lastFastEntry = lastRow;
        previousNonBlank = lastRow;
        recordRows[recorded] = -1 - run;
        recordOutcomes[recorded] = OUTCOME_CODE.unsigned;
        recorded++;
        row = lastRow;
        run++;
        runFirstRow = run < runCount ? runs[run * RUN_FIELDS + RunField.FirstRow]! : -1;
        continue;
      }
      recordRows[recorded] = row;
      recordOutcomes[recorded] = OUTCOME_CODE[outcome];
      recorded++;
    }

    if (items.length > 0) {
      const verdicts = await getBackend(this.#ed25519Backend).verifyEd25519Batch(items);
      const failed = verdicts.indexOf(false);
      if (failed !== -1 && (bad === null || pending[failed]!.line < bad.line)) {
        const { line, actor } = pending[failed]!;
        bad = { line, reason: 'signature-invalid', detail: invalidSignatureDetail(actor), ...(actor !== undefined ? { actor } : {}) };
      }
    }

    this.#count(recorded, slowFacts, bad === null ? Number.POSITIVE_INFINITY : bad.line);
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
  #count(recorded: number, slowFacts: ReadonlyMap<number, EntryFacts>, badLine: number): void {
    const tally = this.tally;
    const bytes = this.#bytes;
    const t = this.#table;
    const { recordRows: rows, recordOutcomes: outcomes } = this.#scratch;
    let lastRow = -1;
    let lastTsRow = -1;
    for (let k = 0; k < recorded; k++) {
      if (rows[k]! < 0) {
        // A run: wholly before the bad line or wholly after it (the bad line is never inside one). A bad
        // line is always a recorded row before any later run, so the loop stops there first; kept as a guard.
        const at = (-1 - rows[k]!) * RUN_FIELDS;
        if (this.#lineBase + this.#runs[at + RunField.FirstRow]! + 1 >= badLine) break;
        this.#countRun(at);
        const runLastTsRow = this.#runs[at + RunField.LastTsRow]!;
        if (runLastTsRow !== -1) {
          lastTsRow = runLastTsRow;
          if (tally.firstTs === null) tally.firstTs = this.#tsOf(this.#runs[at + RunField.FirstTsRow]!) ?? null;
        }
        lastRow = this.#runs[at + RunField.LastRow]!;
        continue;
      }
      const row = rows[k]!;
      const line = this.#lineBase + row + 1;
      if (line >= badLine) break;
      const outcome = OUTCOMES[outcomes[k]!]!;
      const facts = slowFacts.size === 0 ? undefined : slowFacts.get(row);
      if (facts !== undefined) {
        if (facts.ts !== undefined) {
          lastTsRow = row;
          tally.firstTs ??= facts.ts;
        }
        this.#flushNames();
        tally.addEntry(facts.action, facts.actor, facts.ts === undefined ? undefined : dayOf(facts.ts), outcome);
        if (this.#findHash !== undefined && this.foundLine === null && facts.entryHash === this.#findHash) this.foundLine = line;
      } else {
        this.#countFast(row, outcome);
        if (t.tsAt[row] !== -1) {
          lastTsRow = row;
          if (tally.firstTs === null) tally.firstTs = this.#tsOf(row) ?? null;
        }
        const hashAt = t.hashAt[row]!;
        if (this.#findHash !== undefined && this.foundLine === null && equalsAscii(bytes, hashAt, hashAt + HASH_HEX_DIGITS, this.#findHash)) {
          this.foundLine = line;
        }
      }
      lastRow = row;
    }
    if (lastRow !== -1) {
      this.lastEntryLine = this.#lineBase + lastRow + 1;
      const facts = slowFacts.get(lastRow);
      tally.lastHash = facts !== undefined ? facts.entryHash : bytes.toString('latin1', t.hashAt[lastRow]!, t.hashAt[lastRow]! + HASH_HEX_DIGITS);
    }
    if (lastTsRow !== -1) {
      tally.lastTs = slowFacts.get(lastTsRow)?.ts ?? this.#tsOf(lastTsRow)!;
    }
    this.#flushNames();
  }

  get #runs(): Int32Array {
    return this.#scratch.scanner.runs;
  }

  /**
   * Counts a run (line-scanner.ts) from the scanner's counts of its names,
   * added in the order the run first shows them, so the tally's first-seen
   * order stays the ledger's; looks for `--expect-head`'s hash among its lines.
   */
  #countRun(at: number): void {
    const runs = this.#runs;
    const names = this.#scratch.names;
    this.tally.entries += runs[at + RunField.Entries]!;
    const end = RUN_COUNTS_BASE + 3 * runs[at + RunField.CountsEnd]!;
    for (let k = RUN_COUNTS_BASE + 3 * runs[at + RunField.CountsStart]!; k < end; k += 3) {
      const kind = runs[k]!;
      const counts = kind === NameKind.Action ? names.actions : kind === NameKind.Actor ? names.actors : names.days;
      counts.addMany(runs[k + 1]!, runs[k + 2]!);
    }
    if (this.#findHash !== undefined && this.foundLine === null) {
      const t = this.#table;
      const bytes = this.#bytes;
      for (let row = runs[at + RunField.FirstRow]!, last = runs[at + RunField.LastRow]!; row <= last; row++) {
        if (t.kind[row] !== LineKind.Fast) continue;
        if (equalsAscii(bytes, t.hashAt[row]!, t.hashAt[row]! + HASH_HEX_DIGITS, this.#findHash)) {
          this.foundLine = this.#lineBase + row + 1;
          break;
        }
      }
    }
  }

  /**
   * Counts a fast line: by the scanner's interned ids where it gave one,
   * else by the string (escaped, too long, a full name table, a signed
   * entry's actor), after handing the counts so far to the tally so the
   * tally's first-seen order is the ledger's.
   */
  #countFast(row: number, outcome: SignatureOutcome): void {
    const t = this.#table;
    const tally = this.tally;
    const names = this.#scratch.names;
    tally.entries++;
    const actionId = t.actionId[row]!;
    if (actionId !== -1) names.actions.add(actionId);
    else if (t.actionAt[row] !== -1) {
      names.actions.flush(this.#countAction);
      tally.countAction(this.#string(t.actionAt[row]!, t.actionEnd[row]!, (t.escapes[row]! & ESCAPED_ACTION) !== 0, true)!, 1);
    }
    const actorId = t.actorId[row]!;
    if (actorId !== -1 && outcome === 'unsigned') names.actors.add(actorId);
    else if (t.actorAt[row] !== -1) {
      names.actors.flush(this.#countActor);
      tally.countActor(this.#actorOf(row)!, outcome);
    }
    const dayId = t.dayId[row]!;
    if (dayId !== -1) names.days.add(dayId);
    else if (t.tsAt[row] !== -1) {
      const day = this.#dayOf(row);
      if (day !== undefined) {
        names.days.flush(this.#countDay);
        tally.countDay(day, 1);
      }
    }
  }

  /** The day of a fast line's ts when the scanner gave no id for it (escaped, or not a day). */
  #dayOf(row: number): string | undefined {
    const t = this.#table;
    const tsAt = t.tsAt[row]!;
    if ((t.escapes[row]! & ESCAPED_TS) !== 0) return dayOf(decodeEscaped(this.#bytes, tsAt, t.tsEnd[row]!));
    if (t.tsEnd[row]! - tsAt - 2 >= DAY_LENGTH && isDayPrefix(this.#bytes, tsAt + 1)) return this.#names.get(this.#bytes, tsAt + 1, tsAt + 1 + DAY_LENGTH);
    return undefined;
  }

  readonly #countAction = (id: number, count: number): void => this.tally.countAction(this.#scratch.scanner.name(id), count);
  readonly #countActor = (id: number, count: number): void => this.tally.countUnsignedActor(this.#scratch.scanner.name(id), count);
  readonly #countDay = (id: number, count: number): void => this.tally.countDay(this.#scratch.scanner.name(id), count);

  /** Hands every count by id to the tally (before a count by string, and at the end of each chunk). */
  #flushNames(): void {
    const names = this.#scratch.names;
    names.actions.flush(this.#countAction);
    names.actors.flush(this.#countActor);
    names.days.flush(this.#countDay);
  }

  #sigOf(row: number): SigValue {
    const t = this.#table;
    if (t.sigMemberAt[row] === -1) return undefined;
    if (t.sigValueAt[row] === -1) return SIG_NOT_A_STRING;
    return this.#string(t.sigValueAt[row]!, t.sigMemberEnd[row]!, (t.escapes[row]! & ESCAPED_SIG) !== 0, false);
  }

  /** The bytes `sig` signs: the line without its entry_hash and sig members (it is canonical), as a view into the batch's scratch. */
  #signedBytes(row: number): Uint8Array {
    const t = this.#table;
    const scratch = this.#scratch;
    const [hashCut, sigCut] = scratch.signedCuts;
    hashCut.memberStart = t.hashMemberAt[row]!;
    hashCut.memberEnd = t.hashMemberEnd[row]!;
    sigCut.memberStart = t.sigMemberAt[row]!;
    sigCut.memberEnd = t.sigMemberEnd[row]!;
    const at = scratch.signedUsed;
    const length = copyWithoutMembers(this.#bytes, t.start[row]!, t.end[row]!, scratch.signedCuts, scratch.signed, at);
    scratch.signedUsed = at + length;
    return scratch.signed.subarray(at, at + length);
  }

  /** Phase 1: scans the chunk's lines (the reader read it into the scanner) and checks the canonical ones' hashes. */
  #scanChunk(chunk: Chunk): ScannedLines {
    const scratch = this.#scratch;
    const scanner = scratch.scanner;
    const scanned = scanner.scan(chunk.filled, chunk.atEnd);
    this.#bytes = scanner.bytes;
    this.#table = scanner.columns;
    scratch.ensureSigned(scanned.consumed);
    this.lines += scanned.rows;
    return scanned;
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
  const scratch = takeScratch(getLedgerKernel(task.kernel));
  try {
    const checker = new RangeChecker(scratch, task.ed25519Backend, task.trust, task.findHash);
    let fd: number;
    try {
      fd = openSync(task.file, 'r');
    } catch (e) {
      throw new BluxError('file-unreadable', `cannot open the ledger: ${String(e)}`, { file: task.file, cause: e });
    }
    try {
      const reader = new RangeLineReader(fd, task.start, task.end, scratch.scanner, task.chunkSize, task.file);
      for (let chunk = reader.next(); chunk !== null; chunk = reader.next()) {
        const more = await checker.checkChunk(chunk);
        reader.consume(checker.consumed);
        if (!more) break;
      }
    } finally {
      closeSync(fd);
    }
    return checker.reply();
  } finally {
    // A scanner grown for a very long line keeps its memory (a WebAssembly memory never shrinks): let it go.
    if (idleScratches.length < MAX_IDLE_SCRATCHES && scratch.scanner.capacity <= MAX_KEPT_CHUNK_BYTES) idleScratches.push(scratch);
  }
}
