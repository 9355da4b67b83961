/**
 * The Merkle tree of a ledger file, computed by streaming: the root of any
 * prefix (one pass, O(log n) memory, on one thread or split over the engine
 * pool), and the subtree hashes a proof is made of (one pass over the leaves
 * the tree covers, never the whole file in memory).
 */
import { rangeCountFor, splitFileIntoLineRanges } from '../audit/ranges.js';
import { BluxError } from '../errors.js';
import { getBackend, type EngineOptions } from '../engine/index.js';
import { defaultJobs, getEnginePool } from '../engine/pool.js';
import { resolveBackendName } from '../engine/backend-name.js';
import type { BackendName } from '../engine/types.js';
import { isBlankLedgerLine } from '../formats/ledger-entry.js';
import { countLines, fileSize, readBytes, scanLeafSpans, scanLeaves, type SpanBatch } from './leaf-reader.js';
import { CompactRange, hashLeaves, type CompactRangeState, type LeafRange, type Sha256Many } from './merkle.js';
import { assembleTiles, BLOCK_LEAVES, collectBlockOffsets, collectTileNodes, emptyTileParts, subtreeHashFromTiles, type BlockReader, type TileParts, type TreeTiles } from './tiles.js';
import { compactRangeOfBytes, type LeafRangeTree, type MerkleCountTask, type MerkleLeafHashTask, type MerkleLeafRangeTask, type RangeLeafHashes } from './worker-tasks.js';

export interface LedgerTreeOptions extends EngineOptions {
  /** Leaves to cover (a prefix); every complete line unless given. */
  treeSize?: number;
  /** Threads; 1 hashes in this thread. `os.availableParallelism()` unless given. */
  jobs?: number;
  /** Also gather the tree tiles (tiles.ts), for fast proofs later. */
  collectTiles?: boolean;
  /** Called now and then with the bytes hashed so far (for a progress bar). */
  onProgress?: (bytesDone: number) => void;
  /** Largest slice a thread takes at once (MAX_SLICE_BYTES unless given; tests make it small to get many slices). */
  maxSliceBytes?: number;
  /** Most leaves one task hashes (MAX_LEAVES_PER_TASK unless given; tests make it small to force continuations). */
  maxLeavesPerTask?: number;
}

/** How often the main thread reads the workers' shared byte counter. */
const PROGRESS_INTERVAL_MS = 200;

/** A counter the hashing threads add to, reported to `onProgress` until stopped. */
function progressCounter(onProgress: ((bytesDone: number) => void) | undefined): { cells: BigInt64Array | undefined; stop: () => void } {
  if (onProgress === undefined) return { cells: undefined, stop: () => {} };
  const cells = new BigInt64Array(new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT));
  const report = (): void => onProgress(Number(Atomics.load(cells, 0)));
  const timer = setInterval(report, PROGRESS_INTERVAL_MS);
  timer.unref();
  return { cells, stop: () => { clearInterval(timer); report(); } };
}

export interface LedgerTreeHead {
  size: number;
  root: Uint8Array;
  /** The compact range of [0, size): enough to extend the tree without re-reading it. */
  range: CompactRangeState;
  /** Byte offset just past the last leaf's "\n" (where leaf `size` starts). */
  endOffset: number;
  /** With `collectTiles`. */
  tiles?: TileParts;
}

export function engineSha256Many(opts: EngineOptions = {}): Sha256Many {
  const backend = getBackend(opts.backend);
  return (items) => backend.sha256Many(items);
}

/** Below this, splitting a ledger over threads costs more than it saves. */
const MIN_PARALLEL_BYTES = 4 * 1024 * 1024;

function checkTreeSize(treeSize: number, available: number, file: string): void {
  if (treeSize > available) {
    throw new BluxError('invalid-argument', `the ledger has ${available} complete lines, fewer than the tree size ${treeSize}`, { file });
  }
}

/** The tree head of the ledger (or of its first `treeSize` lines). */
export async function ledgerTreeHead(file: string, opts: LedgerTreeOptions = {}): Promise<LedgerTreeHead> {
  const backend = resolveBackendName(opts.backend);
  const sha256Many = engineSha256Many({ backend });
  const jobs = opts.jobs ?? defaultJobs();
  const size = fileSize(file);
  const wanted = opts.treeSize ?? Number.POSITIVE_INFINITY;
  if (jobs <= 1 || size < MIN_PARALLEL_BYTES) {
    // In this thread the interval never fires while hashing: report per read instead.
    const progress = opts.onProgress === undefined ? undefined : new BigInt64Array(1);
    const { state, endOffset, tiles } = compactRangeOfBytes({
      file, start: 0, end: size, beginLeaf: 0, maxLeaves: wanted, backend, collectTiles: opts.collectTiles === true,
      ...(progress !== undefined ? { progress, onBatch: () => opts.onProgress!(Number(progress[0])) } : {}),
    });
    if (opts.treeSize !== undefined) checkTreeSize(opts.treeSize, state.end, file);
    const range = CompactRange.fromState(state, sha256Many);
    return { size: range.end, root: range.root(), range: state, endOffset, ...(tiles !== undefined ? { tiles } : {}) };
  }
  return parallelTreeHead(file, size, wanted, jobs, backend, sha256Many, opts);
}

/**
 * Slices of at most this many bytes: the leaf hashes waiting between the two
 * steps stay bounded (about 7 MiB per slice of 300-byte lines).
 */
const MAX_SLICE_BYTES = 64 * 1024 * 1024;

/** Slices per thread kept hashing leaves ahead of the compact ranges (bounds the hashes held at once). */
const SLICES_AHEAD_PER_JOB = 2;

/**
 * Most leaves one task hashes: 64 MiB of leaf hashes. A slice's byte size
 * alone does not bound its lines: 64 MiB of blank lines are 64M leaves, 2 GiB
 * of hashes. A task that reaches the cap stops at the end of that line, and
 * the rest of its slice becomes a new task, next in file order.
 */
const MAX_LEAVES_PER_TASK = 2 ** 21;

/** A multiple of `jobs` slices (threads finish together), at least two per thread, none above `maxSliceBytes`. */
function sliceCountFor(size: number, jobs: number, maxSliceBytes: number): number {
  const slices = rangeCountFor(size, jobs * 2, maxSliceBytes);
  return Math.ceil(slices / jobs) * jobs;
}

/**
 * The tree head on the engine pool, in two steps per slice (worker-tasks.ts):
 * the slice's leaf hashes and line count, then, once the counts before it
 * are known, its compact range; the main thread merges the ranges in order.
 * Leaf hashing runs a bounded number of slices ahead, so the hashes held at
 * once stay bounded whatever the ledger's size.
 */
async function parallelTreeHead(file: string, size: number, wanted: number, jobs: number, backend: BackendName, sha256Many: Sha256Many, opts: LedgerTreeOptions): Promise<LedgerTreeHead> {
  const pool = getEnginePool(jobs);
  const slices = splitFileIntoLineRanges(file, size, sliceCountFor(size, jobs, opts.maxSliceBytes ?? MAX_SLICE_BYTES));
  const collectTiles = opts.collectTiles === true;
  // Line starts give the tiles' block offsets and the end of a tree that stops inside a slice.
  const withLineStarts = collectTiles || opts.treeSize !== undefined;
  const counter = progressCounter(opts.onProgress);
  const maxLeaves = opts.maxLeavesPerTask ?? MAX_LEAVES_PER_TASK;
  // Leaf tasks in file order: the slices, each maybe followed by the continuations of a capped task.
  // A task's leaf hashes are dropped once used (slot set to undefined), so they are not held to the end.
  const leafTasks: (Promise<RangeLeafHashes> | undefined)[] = [];
  const leafRanges: { start: number; end: number }[] = [];
  const leafTaskFor = (range: { start: number; end: number }): Promise<RangeLeafHashes> => {
    const task: MerkleLeafHashTask = {
      file, ...range, backend, withLineStarts, maxLeaves, ...(counter.cells !== undefined ? { progress: counter.cells } : {}),
    };
    // A slice that fails while an earlier one is awaited is no unhandled rejection: EnginePool.run handles every task's.
    return pool.run(task, { name: 'merkleLeafHashes' }) as Promise<RangeLeafHashes>;
  };
  let nextSlice = 0;
  const startNextSlice = (): void => {
    const range = slices[nextSlice++]!;
    leafRanges.push(range);
    leafTasks.push(leafTaskFor(range));
  };
  while (nextSlice < Math.min(slices.length, jobs * SLICES_AHEAD_PER_JOB)) startNextSlice();
  const rangeTasks: Promise<LeafRangeTree>[] = [];
  const tiles = collectTiles ? emptyTileParts() : undefined;
  let beginLeaf = 0;
  let endOffset = 0;
  let parts: LeafRangeTree[];
  try {
    for (let i = 0; i < leafTasks.length && beginLeaf < wanted; i++) {
      const leaves = await leafTasks[i]!;
      leafTasks[i] = undefined;
      const range = leafRanges[i]!;
      if (leaves.count === maxLeaves && leaves.endOffset < range.end) {
        // Capped: the rest of the range is hashed next, before any later slice's range can be built.
        const rest = { start: leaves.endOffset, end: range.end };
        leafRanges.splice(i + 1, 0, rest);
        leafTasks.splice(i + 1, 0, leafTaskFor(rest));
      }
      const take = Math.min(leaves.count, wanted - beginLeaf);
      if (take > 0) {
        const task: MerkleLeafRangeTask = { leafHashes: leaves.leafHashes, count: take, beginLeaf, backend, collectTiles };
        rangeTasks.push(pool.run(task, { name: 'merkleRangeOfLeafHashes', transferList: [leaves.leafHashes.buffer] }) as Promise<LeafRangeTree>);
        if (tiles !== undefined) collectBlockOffsets(tiles, beginLeaf, Array.from(leaves.lineStarts!.subarray(0, take)));
        endOffset = take < leaves.count ? leaves.lineStarts![take]! : leaves.endOffset;
        beginLeaf += take;
      }
      if (nextSlice < slices.length && beginLeaf < wanted) startNextSlice();
    }
    parts = await Promise.all(rangeTasks);
  } finally {
    // Slices started past the end of a tree that stops inside the file still run: none outlives this call
    // (the slots of slices already used are undefined: settled).
    await Promise.allSettled([...leafTasks, ...rangeTasks]);
    counter.stop();
  }
  if (opts.treeSize !== undefined) checkTreeSize(opts.treeSize, beginLeaf, file);
  const range = new CompactRange(0, sha256Many);
  if (tiles !== undefined) {
    // Subtrees spanning two slices are made by the merges here.
    range.onNode = collectTileNodes(tiles);
    for (const part of parts) tiles.nodes.push(...part.tiles!.nodes);
  }
  for (const part of parts) range.merge(part.state);
  return { size: range.end, root: range.root(), range: range.state(), endOffset, ...(tiles !== undefined ? { tiles } : {}) };
}

export interface SubtreeScan {
  /** MTH of each requested range, in the order asked. */
  hashes: Uint8Array[];
  /** Copies of the lines asked for by index. */
  leaves: Map<number, Uint8Array>;
  /** Byte offset of each line asked for. */
  leafOffsets: Map<number, number>;
  leavesHashed: number;
  bytesRead: number;
}

export interface SubtreeScanOptions extends EngineOptions {
  /** Line indexes whose bytes to return. */
  wantLeaves?: readonly number[];
  /** Byte offset of leaf `firstLeaf` (0 for leaf 0): scanning can start past a known prefix. */
  startByte?: number;
  firstLeaf?: number;
}

/**
 * MTH(D[begin:end]) of each (disjoint) range, in one pass over the leaves up
 * to the last range's end; leaves outside every range are read but not
 * hashed. What proof generation over a file costs: one read of the prefix.
 */
export function subtreeHashesOfFile(file: string, ranges: readonly LeafRange[], opts: SubtreeScanOptions = {}): SubtreeScan {
  const sha256Many = engineSha256Many(opts);
  const firstLeaf = opts.firstLeaf ?? 0;
  const wanted = new Set(opts.wantLeaves ?? []);
  const stop = Math.max(0, ...ranges.map((r) => r.end), ...[...wanted].map((i) => i + 1)) - firstLeaf;
  const builders = ranges.map((r) => new CompactRange(r.begin, sha256Many));
  const leaves = new Map<number, Uint8Array>();
  const leafOffsets = new Map<number, number>();
  let next = firstLeaf;
  let leavesHashed = 0;
  const scan = scanLeaves(
    file,
    (batch) => {
      const batchBegin = next;
      const batchEnd = next + batch.lines.length;
      for (const index of wanted) {
        if (index >= batchBegin && index < batchEnd) {
          leaves.set(index, Uint8Array.from(batch.lines[index - batchBegin]!));
          leafOffsets.set(index, batch.offsets[index - batchBegin]!);
        }
      }
      ranges.forEach((r, i) => {
        const from = Math.max(r.begin, batchBegin);
        const to = Math.min(r.end, batchEnd);
        if (from >= to) return;
        builders[i]!.appendLeafHashes(hashLeaves(batch.lines.slice(from - batchBegin, to - batchBegin), sha256Many));
        leavesHashed += to - from;
      });
      next = batchEnd;
    },
    { start: opts.startByte ?? 0, maxLeaves: stop },
  );
  if (next - firstLeaf < stop) {
    throw new BluxError('invalid-argument', `the ledger has only ${next} complete lines, fewer than the ${stop + firstLeaf} needed`, { file });
  }
  return { hashes: builders.map((b) => b.fold()), leaves, leafOffsets, leavesHashed, bytesRead: scan.bytesRead };
}

/** Complete lines in the ledger (one cheap pass; split over the pool for big files). */
export async function countLedgerLeaves(file: string, opts: LedgerTreeOptions = {}): Promise<number> {
  const jobs = opts.jobs ?? defaultJobs();
  const size = fileSize(file);
  if (jobs <= 1 || size < MIN_PARALLEL_BYTES) return countLines(file, { end: size });
  const pool = getEnginePool(jobs);
  const slices = splitFileIntoLineRanges(file, size, jobs);
  const counts = (await Promise.all(slices.map((s) => pool.run({ file, ...s } satisfies MerkleCountTask, { name: 'merkleCountLines' })))) as number[];
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * What a checkpoint saves beside itself so that later audits and proofs need
 * not re-read the ledger up to it: the compact range of the leaves before a
 * short tail, and where the tail lies. The tail is the last line, or, when
 * the last lines are blank, the last entry (non-blank line) and the blank
 * lines after it: the next entry chains onto that entry's entry_hash, so the
 * audit must read it. Folding `before` with the tail's leaf hashes gives the
 * checkpoint's root, so the saved state is authenticated by the signed
 * checkpoint, and so is the tail (and the entry_hash in it).
 */
export interface LedgerTreeState {
  size: number;
  root: Uint8Array;
  /** Compact range of [0, tail start): [0, size - 1) unless the last lines are blank; null for an empty tree. */
  before: CompactRangeState | null;
  /** Byte offset of the tail's first leaf, leaf `before.end` (0 for an empty tree). */
  lastLeafOffset: number;
  /** Byte offset just past leaf size - 1. */
  endOffset: number;
  /** With `collectTiles`. */
  tiles?: TreeTiles;
}

/** Bytes read backwards per step when looking for the last entry before trailing blank lines. */
const BACKWARD_READ_BYTES = 64 * 1024;

/**
 * How many blank lines (isBlankLedgerLine: whitespace only) end just before
 * byte `offset` (a line start), and whether they reach the file's start
 * (no entry before them). Reads backwards a window at a time.
 */
export function blankLinesBefore(file: string, offset: number): { blank: number; reachedStart: boolean } {
  let window = BACKWARD_READ_BYTES;
  for (;;) {
    const from = Math.max(0, offset - window);
    const bytes = readBytes(file, from, offset);
    // Lines of the window, last first; the first one is complete only when the window starts the file.
    const lines = bytes.toString('utf8').split('\n');
    lines.pop(); // what follows the "\n" just before `offset`: nothing
    let blank = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      if (i === 0 && from > 0) break; // a cut line: read a bigger window
      if (!isBlankLedgerLine(lines[i]!)) return { blank, reachedStart: false };
      blank++;
    }
    if (from === 0) return { blank, reachedStart: true };
    window *= 2;
  }
}

export async function ledgerTreeState(file: string, opts: LedgerTreeOptions = {}): Promise<LedgerTreeState> {
  const sha256Many = engineSha256Many(opts);
  const size = opts.treeSize ?? (await countLedgerLeaves(file, opts));
  if (size === 0) return { size: 0, root: CompactRange.fromState({ begin: 0, end: 0, nodes: [] }, sha256Many).root(), before: null, lastLeafOffset: 0, endOffset: 0 };
  const before = await ledgerTreeHead(file, { ...opts, treeSize: size - 1 });
  const last = readLeafAt(file, before.endOffset);
  if (last === null) throw new BluxError('invalid-argument', `the ledger has fewer than ${size} complete lines`, { file });
  const range = CompactRange.fromState(before.range, sha256Many);
  const parts = before.tiles;
  if (parts !== undefined) {
    range.onNode = collectTileNodes(parts);
    collectBlockOffsets(parts, size - 1, [before.endOffset]);
  }
  range.appendLeafHashes(hashLeaves([last], sha256Many));
  const tiles = parts !== undefined ? { tiles: assembleTiles(size, parts) } : {};
  const endOffset = before.endOffset + last.length + 1;
  if (!isBlankLedgerLine(Buffer.from(last).toString('utf8'))) {
    return { size, root: range.root(), before: before.range, lastLeafOffset: before.endOffset, endOffset, ...tiles };
  }
  // The last line is blank: the tail starts at the last entry before it. Finding that
  // entry's leaf index and offset costs a second pass, only in this (rare) case.
  const { blank, reachedStart } = blankLinesBefore(file, before.endOffset);
  const tailStart = reachedStart ? 0 : size - 2 - blank;
  const head = tailStart === 0 ? { range: { begin: 0, end: 0, nodes: [] }, endOffset: 0 } : await ledgerTreeHead(file, { ...opts, treeSize: tailStart, collectTiles: false });
  return { size, root: range.root(), before: head.range, lastLeafOffset: head.endOffset, endOffset, ...tiles };
}

/** The complete line starting at `offset` (a copy), or null when there is none. */
export function readLeafAt(file: string, offset: number): Uint8Array | null {
  let line: Uint8Array | null = null;
  scanLeaves(file, (batch) => {
    line = Uint8Array.from(batch.lines[0]!);
  }, { start: offset, maxLeaves: 1, chunkBytes: 64 * 1024 });
  return line;
}

/** The batch's lines as views of one copy of their bytes (one copy per read, not per line). */
function copyLines(batch: SpanBatch): Uint8Array[] {
  const base = batch.starts[0]!;
  const bytes = Uint8Array.prototype.slice.call(batch.buffer, base, batch.ends[batch.count - 1]);
  const lines: Uint8Array[] = new Array(batch.count);
  for (let i = 0; i < batch.count; i++) lines[i] = bytes.subarray(batch.starts[i]! - base, batch.ends[i]! - base);
  return lines;
}

/** Read size for the last block, whose end no saved offset gives. */
const BLOCK_READ_BYTES = 256 * 1024;

export interface TiledProof {
  hashes: Uint8Array[];
  /** Copies of the leaves asked for. */
  leaves: Map<number, Uint8Array>;
  /** Blocks of at most 256 lines read from the ledger. */
  blocksRead: number;
}

/**
 * The hashes of the given proof ranges from saved tiles: each range is a
 * tile lookup or is hashed from the one block it lies in, so the ledger is
 * read a block at a time (at most a few blocks per proof).
 */
export function subtreeHashesFromTiles(file: string, tiles: TreeTiles, ranges: readonly LeafRange[], wantLeaves: readonly number[], opts: EngineOptions = {}): TiledProof {
  const sha256Many = engineSha256Many(opts);
  const blockLines = new Map<number, Uint8Array[]>();
  const linesOf = (block: number, offset: number, count: number): Uint8Array[] => {
    let lines = blockLines.get(block);
    if (lines === undefined) {
      const read: Uint8Array[] = [];
      // The next block's offset bounds the read to this block's bytes (one read; the last block reads to its end).
      const next = tiles.blockOffsets[block + 1];
      const bounds = next !== undefined && next > offset ? { end: next, chunkBytes: next - offset } : { chunkBytes: BLOCK_READ_BYTES };
      scanLeafSpans(file, (batch) => read.push(...copyLines(batch)), { start: offset, maxLeaves: count, ...bounds });
      if (read.length !== count) throw new BluxError('ledger-corrupt', `block ${block} of the saved tiles has ${read.length} lines, expected ${count}: the ledger changed since the checkpoint`, { file });
      lines = read;
      blockLines.set(block, lines);
    }
    return lines;
  };
  const leafHashCache = new Map<number, Uint8Array[]>();
  const readBlock: BlockReader = (block, offset, count) => {
    let hashes = leafHashCache.get(block);
    if (hashes === undefined) {
      hashes = hashLeaves(linesOf(block, offset, count), sha256Many);
      leafHashCache.set(block, hashes);
    }
    return hashes;
  };
  const hashes = ranges.map((r) => subtreeHashFromTiles(tiles, r.begin, r.end, readBlock, sha256Many));
  const leaves = new Map<number, Uint8Array>();
  for (const index of wantLeaves) {
    const block = Math.floor(index / BLOCK_LEAVES);
    const lines = linesOf(block, tiles.blockOffsets[block]!, Math.min(BLOCK_LEAVES, tiles.size - block * BLOCK_LEAVES));
    leaves.set(index, lines[index - block * BLOCK_LEAVES]!);
  }
  return { hashes, leaves, blocksRead: blockLines.size };
}
