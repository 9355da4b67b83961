/**
 * The log side of transparency: checkpoints of the ledger (signed, saved
 * with their tree state, recorded in the ledger), consistency proofs
 * between two sizes, and the incremental audit that starts from a saved
 * checkpoint instead of re-hashing everything.
 */
import { BluxError } from '../errors.js';
import type { EngineOptions } from '../engine/index.js';
import { encodeBase64, decodeBase64Strict } from '../formats/base64.js';
import { checkLedgerLine, isBlankLedgerLine, parseLedgerObject } from '../formats/ledger-entry.js';
import type { LedgerEntry } from '../formats/ledger-entry.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import { readTextFile, readTreeState, saveCheckpoint, stateFileOf } from '../store/checkpoints.js';
import type { TrustPolicy } from '../formats/trust-policy.js';
import { isVerdict, parseCheckpointNote, refused, signCheckpoint, verifyCheckpointNote, type NoteSigner, type TransparencyVerdict } from './checkpoints.js';
import { scanLeaves } from './leaf-reader.js';
import { countLedgerLeaves, engineSha256Many, ledgerTreeState, subtreeHashesFromTiles, subtreeHashesOfFile, type LedgerTreeOptions } from './ledger-tree.js';
import type { TreeTiles } from './tiles.js';
import { CompactRange, consistencyProofRanges, hashLeaves, verifyConsistency, type Sha256Many, type TreeNode } from './merkle.js';

export interface LogSigner extends NoteSigner {
  fingerprint: string;
}

export interface CreateCheckpointOptions extends LedgerTreeOptions {
  ledger: string;
  /** Folder of checkpoint files (store/checkpoints.ts `checkpointsDir`). */
  dir: string;
  origin: string;
  signer: LogSigner;
  /** Record the checkpoint as a ledger entry (default true). */
  record?: boolean;
}

export interface CreatedCheckpoint {
  file: string;
  note: string;
  origin: string;
  size: number;
  rootHash: string;
  /** The ledger entry recording it (leaf `size` of the next checkpoint), unless not recorded. */
  entry: LedgerEntry | null;
}

/** The action of ledger entries that record a checkpoint. */
export const CHECKPOINT_ACTION = 'checkpoint';

/**
 * Checkpoints the ledger's complete lines as they are now. Appends made
 * meanwhile are simply not covered (the next checkpoint will be); the
 * recording entry itself becomes leaf `size`.
 */
export async function createCheckpoint(opts: CreateCheckpointOptions): Promise<CreatedCheckpoint> {
  const state = await ledgerTreeState(opts.ledger, { ...opts, collectTiles: true });
  const note = signCheckpoint({ origin: opts.origin, size: state.size, rootHash: state.root, extensions: [] }, opts.signer);
  const file = await saveCheckpoint(opts.dir, note, state);
  const rootHash = encodeBase64(state.root);
  const entry = opts.record === false ? null : await appendLedgerEntry(opts.ledger, {
    action: CHECKPOINT_ACTION,
    actor: opts.signer.fingerprint,
    payload_summary: `checkpoint ${opts.origin} ${state.size} ${rootHash}`,
    extra: { tree_size: state.size, root_hash: rootHash },
  });
  return { file, note, origin: opts.origin, size: state.size, rootHash, entry };
}

// ---------------------------------------------------------------------------
// Consistency proofs
// ---------------------------------------------------------------------------

export const CONSISTENCY_PROOF_FORMAT = 'blux-reg-consistency-proof/v1';

export interface ConsistencyProof {
  oldSize: number;
  newSize: number;
  oldRoot: Uint8Array;
  newRoot: Uint8Array;
  proof: Uint8Array[];
}

export function consistencyProofDocument(p: ConsistencyProof): Record<string, unknown> {
  return {
    format: CONSISTENCY_PROOF_FORMAT,
    old_size: p.oldSize,
    new_size: p.newSize,
    old_root: encodeBase64(p.oldRoot),
    new_root: encodeBase64(p.newRoot),
    proof: p.proof.map(encodeBase64),
  };
}

export function readConsistencyProofDocument(value: unknown, file: string): ConsistencyProof {
  const doc = value as Record<string, unknown> | null;
  const fail = (problem: string): never => {
    throw new BluxError('malformed', `not a ${CONSISTENCY_PROOF_FORMAT} document: ${problem}`, { file });
  };
  if (doc === null || typeof doc !== 'object' || doc['format'] !== CONSISTENCY_PROOF_FORMAT) fail('wrong or missing "format"');
  const size = (key: string): number => (Number.isSafeInteger(doc![key]) && (doc![key] as number) >= 0 ? (doc![key] as number) : fail(`"${key}" is not a tree size`));
  const hash = (v: unknown, key: string): Uint8Array => (typeof v === 'string' ? decodeBase64Strict(v, 32) : null) ?? fail(`"${key}" is not base64 of 32 bytes`);
  if (!Array.isArray(doc!['proof'])) fail('"proof" is not an array');
  return {
    oldSize: size('old_size'),
    newSize: size('new_size'),
    oldRoot: hash(doc!['old_root'], 'old_root'),
    newRoot: hash(doc!['new_root'], 'new_root'),
    proof: (doc!['proof'] as unknown[]).map((h, i) => hash(h, `proof/${i}`)),
  };
}

export interface ProveConsistencyOptions extends LedgerTreeOptions {
  /** Tiles of a checkpoint of exactly the new size: the proof then reads a few blocks, not the prefix. */
  tiles?: TreeTiles | null;
}

/** The consistency proof from `oldSize` to `newSize` (all complete lines unless given), with both roots: one pass over the ledger, or tile lookups. */
export async function proveConsistency(ledger: string, oldSize: number, newSize?: number, opts: ProveConsistencyOptions = {}): Promise<ConsistencyProof> {
  const size = newSize ?? (await countLedgerLeaves(ledger, opts));
  if (oldSize < 1 || oldSize > size) {
    throw new BluxError('invalid-argument', `a consistency proof needs 1 <= old size <= new size; got ${oldSize} and ${size}`, { file: ledger });
  }
  const ranges = [{ begin: 0, end: oldSize }, { begin: 0, end: size }, ...consistencyProofRanges(oldSize, size)];
  const scan = opts.tiles !== undefined && opts.tiles !== null && opts.tiles.size === size
    ? subtreeHashesFromTiles(ledger, opts.tiles, ranges, [], opts)
    : subtreeHashesOfFile(ledger, ranges, opts);
  const [oldRoot, newRoot, ...proof] = scan.hashes as [Uint8Array, Uint8Array, ...Uint8Array[]];
  return { oldSize, newSize: size, oldRoot, newRoot, proof };
}

/** Checks a consistency proof, optionally against two checkpoints' sizes and roots. */
export function checkConsistencyProof(p: ConsistencyProof, engine: EngineOptions = {}): TransparencyVerdict {
  const check = verifyConsistency(p.oldSize, p.newSize, p.proof, p.oldRoot, p.newRoot, engineSha256Many(engine));
  if (!check.ok) return refused('consistency-proof-invalid', check.message, { old_size: p.oldSize, new_size: p.newSize });
  return { status: 'valid', reason: 'ok', message: `the tree of ${p.newSize} leaves extends the tree of ${p.oldSize}`, old_size: p.oldSize, new_size: p.newSize };
}

// ---------------------------------------------------------------------------
// Incremental audit
// ---------------------------------------------------------------------------

export interface IncrementalAuditOptions extends EngineOptions {
  /** When given, the checkpoint must also satisfy it (log signature and witness quorum). */
  policy?: TrustPolicy;
  /** The saved tree state; `<checkpoint>.state.json` beside the checkpoint unless given. */
  stateFile?: string;
}

export interface IncrementalAuditResult extends TransparencyVerdict {
  checkpoint_size: number;
  /** Complete lines now (checkpoint size + entries checked), when the audit got that far. */
  tree_size?: number;
  root_hash?: string;
  /** The consistency proof from the checkpoint to tree_size (base64 hashes). */
  consistency_proof?: string[];
  /** Entries after the checkpoint whose chain links and hashes were checked. */
  entries_checked: number;
  /** Leaf hashes computed: the checkpoint's last line plus the new entries, nothing before. */
  leaves_hashed: number;
  bytes_read: number;
  /** 1-based line of the first broken entry. */
  first_bad_line?: number;
}

/** Copies of the `count` complete lines from byte `offset`, and the offset past them; null when there are fewer. */
function readLeavesAt(ledger: string, offset: number, count: number): { lines: Uint8Array[]; endOffset: number } | null {
  const lines: Uint8Array[] = [];
  let endOffset = offset;
  scanLeaves(ledger, (batch) => {
    batch.lines.forEach((line, i) => {
      lines.push(Uint8Array.from(line));
      endOffset = batch.offsets[i]! + line.length + 1;
    });
  }, { start: offset, maxLeaves: count, chunkBytes: TAIL_READ_BYTES });
  return lines.length === count ? { lines, endOffset } : null;
}

/** Read size for the checkpoint's tail (usually one line). */
const TAIL_READ_BYTES = 64 * 1024;

/** The entry_hash of the last non-blank line, or null when every line is blank. */
function lastEntryHash(lines: readonly Uint8Array[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = Buffer.from(lines[i]!).toString('utf8');
    if (isBlankLedgerLine(text)) continue;
    const entryHash = parseLedgerObject(text)?.get('entry_hash');
    return typeof entryHash === 'string' ? entryHash : null;
  }
  return null;
}

/** The MTH of a range of the old tree that is one node of its compact range (which a consistency proof's old part always is). */
function oldNodeHash(nodes: readonly TreeNode[], begin: number, end: number): Uint8Array {
  const node = nodes.find((n) => n.index * 2 ** n.level === begin && (n.index + 1) * 2 ** n.level === end);
  if (node === undefined) throw new BluxError('internal', `the saved tree state has no node for leaves [${begin}, ${end})`);
  return node.hash;
}

function proofFromState(oldNodes: readonly TreeNode[], oldSize: number, newLeafHashes: readonly Uint8Array[], newSize: number, sha256Many: Sha256Many): Uint8Array[] {
  return consistencyProofRanges(oldSize, newSize).map((r) => {
    if (r.end <= oldSize) return oldNodeHash(oldNodes, r.begin, r.end);
    if (r.begin < oldSize) throw new BluxError('internal', `a consistency proof range [${r.begin}, ${r.end}) straddles the old size ${oldSize}`);
    const range = new CompactRange(r.begin, sha256Many);
    range.appendLeafHashes(newLeafHashes.slice(r.begin - oldSize, r.end - oldSize));
    return range.fold();
  });
}

/**
 * Audits only what was appended since a checkpoint: authenticates the saved
 * tree state (it must fold, with the checkpoint's last line, to the
 * checkpoint's root), then checks the hash chain of every later entry and
 * hashes only those leaves, and returns the new root with the consistency
 * proof from the checkpoint (verified). Work and reads grow with the new
 * entries, not with the ledger.
 */
export async function auditSinceCheckpoint(ledger: string, checkpointFile: string, opts: IncrementalAuditOptions = {}): Promise<IncrementalAuditResult> {
  const sha256Many = engineSha256Many(opts);
  const noteText = await readTextFile(checkpointFile);
  const parsed = parseCheckpointNote(noteText);
  const base = { checkpoint_size: 0, entries_checked: 0, leaves_hashed: 0, bytes_read: 0 };
  if (isVerdict(parsed)) return { ...parsed, ...base };
  const { checkpoint } = parsed;
  base.checkpoint_size = checkpoint.size;
  if (opts.policy !== undefined) {
    const verdict = await verifyCheckpointNote(noteText, opts.policy, opts);
    if (verdict.status !== 'valid') return { ...verdict, ...base };
  }
  const state = await readTreeState(opts.stateFile ?? stateFileOf(checkpointFile));
  if (state.size !== checkpoint.size) {
    return { ...refused('size-mismatch', `the saved tree state is for ${state.size} leaves, the checkpoint for ${checkpoint.size}`), ...base };
  }

  // The old tree: the saved compact range plus the checkpoint's last line, which must give the signed root.
  const range = new CompactRange(0, sha256Many, state.before ?? undefined);
  let prevHash: string | null = null;
  let bytesRead = 0;
  let leavesHashed = 0;
  if (checkpoint.size > 0) {
    // The tail: the checkpoint's last line, or its last entry and the blank lines after it (LedgerTreeState).
    const tailLeaves = checkpoint.size - range.end;
    const tail = tailLeaves >= 1 ? readLeavesAt(ledger, state.lastLeafOffset, tailLeaves) : null;
    if (tail === null || tail.endOffset !== state.endOffset) {
      return { ...refused('leaf-mismatch', `line ${checkpoint.size} of the ledger is no longer where the checkpoint saw it (byte ${state.lastLeafOffset}): the ledger was rewritten; run a full audit`), ...base };
    }
    bytesRead += tail.endOffset - state.lastLeafOffset;
    range.appendLeafHashes(hashLeaves(tail.lines, sha256Many));
    leavesHashed += tail.lines.length;
    if (range.root().some((b, i) => b !== checkpoint.rootHash[i])) {
      return { ...refused('root-mismatch', `the ledger up to line ${checkpoint.size} does not give the checkpoint's root: the ledger or the saved state was changed; run a full audit`), ...base, bytes_read: bytesRead, leaves_hashed: leavesHashed };
    }
    // Authenticated by the root now: the last entry's entry_hash is what the next entry must link to
    // (blank lines link nothing; null when there is no entry at all).
    prevHash = lastEntryHash(tail.lines);
    if (prevHash === null && tailLeaves < checkpoint.size) {
      // Saved before tails reached back to the last entry: the entry the next one chains onto is not covered.
      return { ...refused('leaf-mismatch', `the checkpoint's last line is blank and its saved tree state does not cover the entry before it: run a full audit (or make a new checkpoint)`), ...base, bytes_read: bytesRead, leaves_hashed: leavesHashed };
    }
  }
  const oldNodes = range.state().nodes;

  // The new entries: chain links and leaf hashes, batch by batch.
  const newLeafHashes: Uint8Array[] = [];
  let lineNumber = checkpoint.size;
  let broken: IncrementalAuditResult | null = null;
  const scan = scanLeaves(ledger, (batch) => {
    if (broken !== null) return;
    for (const line of batch.lines) {
      lineNumber++;
      const verdict = checkLedgerLine(Buffer.from(line).toString('utf8'), prevHash, opts);
      if (verdict.kind === 'bad') {
        broken = { ...refused(verdict.reason === 'malformed-line' ? 'malformed' : 'leaf-mismatch', `line ${lineNumber}: ${verdict.reason}: ${verdict.detail}`, { chain_reason: verdict.reason }), ...base, first_bad_line: lineNumber };
        return;
      }
      if (verdict.kind === 'entry') prevHash = verdict.entryHash;
    }
    const hashes = hashLeaves(batch.lines, sha256Many);
    newLeafHashes.push(...hashes);
    range.appendLeafHashes(hashes);
  }, { start: state.endOffset });
  bytesRead += scan.bytesRead;
  leavesHashed += newLeafHashes.length;
  const stats = { ...base, entries_checked: newLeafHashes.length, leaves_hashed: leavesHashed, bytes_read: bytesRead };
  if (broken !== null) return { ...(broken as IncrementalAuditResult), ...stats, first_bad_line: (broken as IncrementalAuditResult).first_bad_line! };
  if (scan.unterminatedBytes > 0) {
    return { ...refused('malformed', `the last line (after line ${lineNumber}) is torn: run \`blux-reg audit repair\``, { chain_reason: 'torn-last-line' }), ...stats };
  }

  const newSize = range.end;
  const newRoot = range.root();
  const proof = checkpoint.size === 0 ? [] : proofFromState(oldNodes, checkpoint.size, newLeafHashes, newSize, sha256Many);
  if (checkpoint.size > 0) {
    const check = verifyConsistency(checkpoint.size, newSize, proof, checkpoint.rootHash, newRoot, sha256Many);
    if (!check.ok) throw new BluxError('internal', `the consistency proof built from the saved state does not verify: ${check.message}`);
  }
  return {
    status: 'valid',
    reason: 'ok',
    message: `${newLeafHashes.length} entries after the checkpoint of ${checkpoint.size} chain correctly; the tree of ${newSize} extends it`,
    ...stats,
    tree_size: newSize,
    root_hash: encodeBase64(newRoot),
    consistency_proof: proof.map(encodeBase64),
  };
}
