/**
 * Worker tasks of the Merkle tree (run through engine/worker.ts and
 * worker-entry.ts): each takes one line-aligned byte range of the ledger.
 * A compact range depends on the absolute index of its first leaf, which a
 * worker cannot know without the line counts before it, so a parallel tree
 * is built in two steps: the leaf hashes of each range (no index needed,
 * the count comes with them), then the compact range of each range's leaf
 * hashes once the counts before it are in. (Counting first, then hashing,
 * read the file twice: a count pass was ~70 ms of CPU per 1M entries.)
 */
import { Buffer } from 'node:buffer';

import { getBackend } from '../engine/index.js';
import type { BackendName } from '../engine/types.js';
import { hashLeafSpans, nodePairHasherFor, sha256Latin1For, writeLeafHashes } from './flat-hash.js';
import { countLines, scanLeafSpans, type SpanBatch } from './leaf-reader.js';
import { allocFlatLevel, CompactRange, FLAT_LEAD, HASH_SIZE, type CompactRangeState } from './merkle.js';
import { collectBlockOffsets, collectTileNodes, emptyTileParts, TILE_LEVEL, type TileParts } from './tiles.js';

export interface MerkleCountTask {
  file: string;
  start: number;
  end: number;
}

/** Worker task: the number of complete lines in [start, end). */
export function merkleCountLines(task: MerkleCountTask): number {
  return countLines(task.file, { start: task.start, end: task.end });
}

export interface MerkleRangeTask extends MerkleCountTask {
  /** Index of the first line of the range in the whole ledger. */
  beginLeaf: number;
  /** Lines of the range to take (the tree may end inside the range). */
  maxLeaves: number;
  backend: BackendName;
  /** Also gather the tree tiles of the range (tiles.ts). */
  collectTiles?: boolean;
  /** Read size (leaf-reader's default unless given; small ones put batch edges everywhere). */
  chunkBytes?: number;
  /** Bytes hashed so far, shared with the main thread (cell 0, added to per read) for a progress bar. */
  progress?: BigInt64Array;
  /** In-thread only: called after each read (functions do not cross to a worker). */
  onBatch?: () => void;
}

export interface ByteRangeTree {
  state: CompactRangeState;
  tiles?: TileParts;
  /** Byte offset just past the "\n" of the last leaf taken. */
  endOffset: number;
}

/** File offsets of a batch's lines (only the tiles need them). */
function lineOffsets(batch: SpanBatch): number[] {
  const offsets: number[] = new Array(batch.count);
  for (let i = 0; i < batch.count; i++) offsets[i] = batch.fileOffset + batch.starts[i]!;
  return offsets;
}

/** A compact range starting at leaf `begin`, gathering the tile-level nodes it computes when asked to. */
function emptyCompactRange(begin: number, backendName: BackendName, collectTiles: boolean): { range: CompactRange; tiles: TileParts | undefined } {
  const backend = getBackend(backendName);
  const range = new CompactRange(begin, (items) => backend.sha256Many(items));
  const tiles = collectTiles ? emptyTileParts() : undefined;
  if (tiles !== undefined) {
    range.onNode = collectTileNodes(tiles);
    range.onNodeFromLevel = TILE_LEVEL;
  }
  return { range, tiles };
}

/**
 * The compact range of leaves [beginLeaf, beginLeaf + n) of one byte range:
 * per read, the leaf hashes go into one flat level and each level above is
 * hashed pair by pair in place (flat-hash.ts, merkle.ts).
 */
export function compactRangeOfBytes(task: MerkleRangeTask): ByteRangeTree {
  const sha256 = sha256Latin1For(task.backend);
  const hashPairs = nodePairHasherFor(task.backend);
  const { range, tiles } = emptyCompactRange(task.beginLeaf, task.backend, task.collectTiles === true);
  let endOffset = task.start;
  scanLeafSpans(
    task.file,
    (batch) => {
      if (tiles !== undefined) collectBlockOffsets(tiles, range.end, lineOffsets(batch));
      range.appendFlatLeafHashes(hashLeafSpans(batch, sha256), batch.count, hashPairs);
      const batchEnd = batch.fileOffset + batch.ends[batch.count - 1]! + 1;
      if (task.progress !== undefined) Atomics.add(task.progress, 0, BigInt(batchEnd - endOffset));
      endOffset = batchEnd;
      task.onBatch?.();
    },
    { start: task.start, end: task.end, maxLeaves: task.maxLeaves, ...(task.chunkBytes !== undefined ? { chunkBytes: task.chunkBytes } : {}) },
  );
  return { state: range.state(), endOffset, ...(tiles !== undefined ? { tiles } : {}) };
}

/** What the merkleLeafHashes worker task hashes: a line-aligned byte range of the ledger. */
export interface MerkleLeafHashTask extends MerkleCountTask {
  backend: BackendName;
  /** Also return the file offset of each line (for tree tiles, and for a tree that ends inside the range). */
  withLineStarts?: boolean;
  /** Stop after this many lines (endOffset then says where): bounds the hashes returned whatever the lines' lengths. */
  maxLeaves?: number;
  /** Read size (leaf-reader's default unless given). */
  chunkBytes?: number;
  /** Bytes hashed so far, shared with the main thread (cell 0) for a progress bar. */
  progress?: BigInt64Array;
}

export interface RangeLeafHashes {
  /** Complete lines in the range. */
  count: number;
  /** Their leaf hashes as a flat level (merkle.ts: FLAT_LEAD spare byte, then 32 bytes per leaf), exactly sized. */
  leafHashes: Uint8Array<ArrayBuffer>;
  /** Byte offset just past the last line's "\n" (the range's start when it has none). */
  endOffset: number;
  /** With withLineStarts: the file offset of each line. */
  lineStarts?: Float64Array;
}

/** A first guess at the lines of a range (the ledger's entries are ~300 bytes); the arrays double when it is short. */
const GUESSED_LINE_BYTES = 128;

function grownLevel(level: Buffer, leaves: number, needed: number): Buffer {
  if (FLAT_LEAD + needed * HASH_SIZE <= level.length) return level;
  const bigger = allocFlatLevel(Math.max(needed, leaves * 2));
  level.copy(bigger, 0, 0, FLAT_LEAD + leaves * HASH_SIZE);
  return bigger;
}

function grownStarts(starts: Float64Array<ArrayBuffer>, needed: number): Float64Array<ArrayBuffer> {
  if (needed <= starts.length) return starts;
  const bigger = new Float64Array(Math.max(needed, starts.length * 2));
  bigger.set(starts);
  return bigger;
}

/** Worker task, first step of a parallel tree: the leaf hashes of the complete lines of [start, end). */
export function merkleLeafHashes(task: MerkleLeafHashTask): RangeLeafHashes {
  const sha256 = sha256Latin1For(task.backend);
  const guess = Math.max(1, Math.min(Math.ceil((task.end - task.start) / GUESSED_LINE_BYTES), task.maxLeaves ?? Number.POSITIVE_INFINITY));
  let level = allocFlatLevel(guess);
  let starts = task.withLineStarts === true ? new Float64Array(guess) : undefined;
  let count = 0;
  let endOffset = task.start;
  scanLeafSpans(
    task.file,
    (batch) => {
      level = grownLevel(level, count, count + batch.count);
      writeLeafHashes(batch, sha256, level, FLAT_LEAD + count * HASH_SIZE);
      if (starts !== undefined) {
        const grown = grownStarts(starts, count + batch.count);
        for (let i = 0; i < batch.count; i++) grown[count + i] = batch.fileOffset + batch.starts[i]!;
        starts = grown;
      }
      count += batch.count;
      const batchEnd = batch.fileOffset + batch.ends[batch.count - 1]! + 1;
      if (task.progress !== undefined) Atomics.add(task.progress, 0, BigInt(batchEnd - endOffset));
      endOffset = batchEnd;
    },
    {
      start: task.start, end: task.end,
      ...(task.maxLeaves !== undefined ? { maxLeaves: task.maxLeaves } : {}),
      ...(task.chunkBytes !== undefined ? { chunkBytes: task.chunkBytes } : {}),
    },
  );
  // Exactly sized copies: a view would carry its whole (over-allocated) buffer across the thread boundary.
  return {
    count,
    leafHashes: new Uint8Array(level.buffer, level.byteOffset, FLAT_LEAD + count * HASH_SIZE).slice(),
    endOffset,
    ...(starts !== undefined ? { lineStarts: starts.slice(0, count) } : {}),
  };
}

export interface MerkleLeafRangeTask {
  /** Leaf hashes as a flat level (RangeLeafHashes.leafHashes); the first `count` are taken. */
  leafHashes: Uint8Array;
  count: number;
  /** Index of the first leaf in the whole ledger. */
  beginLeaf: number;
  backend: BackendName;
  /** Also gather the tree-tile nodes of the range (block offsets come from the line starts, on the main thread). */
  collectTiles?: boolean;
}

export interface LeafRangeTree {
  state: CompactRangeState;
  tiles?: TileParts;
}

/** Worker task, second step of a parallel tree: the compact range of the given leaf hashes. */
export function merkleRangeOfLeafHashes(task: MerkleLeafRangeTask): LeafRangeTree {
  const { range, tiles } = emptyCompactRange(task.beginLeaf, task.backend, task.collectTiles === true);
  const level = Buffer.from(task.leafHashes.buffer, task.leafHashes.byteOffset, task.leafHashes.byteLength);
  range.appendFlatLeafHashes(level, task.count, nodePairHasherFor(task.backend));
  return { state: range.state(), ...(tiles !== undefined ? { tiles } : {}) };
}
