/**
 * Worker tasks of the Merkle tree (re-exported by engine/worker.ts): each
 * worker takes one line-aligned byte range of the ledger. Counting comes
 * first because a compact range depends on the absolute index of its first
 * leaf, which a worker cannot know without the line counts before it.
 */
import { getBackend } from '../engine/index.js';
import type { BackendName } from '../engine/types.js';
import { hashLeafSpans, nodePairHasherFor, sha256Latin1For } from './flat-hash.js';
import { countLines, scanLeafSpans, type SpanBatch } from './leaf-reader.js';
import { CompactRange, type CompactRangeState } from './merkle.js';
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

/**
 * The compact range of leaves [beginLeaf, beginLeaf + n) of one byte range:
 * per read, the leaf hashes go into one flat level and each level above is
 * hashed pair by pair in place (flat-hash.ts, merkle.ts).
 */
export function compactRangeOfBytes(task: MerkleRangeTask): ByteRangeTree {
  const backend = getBackend(task.backend);
  const sha256 = sha256Latin1For(task.backend);
  const hashPairs = nodePairHasherFor(task.backend);
  const range = new CompactRange(task.beginLeaf, (items) => backend.sha256Many(items));
  const tiles = task.collectTiles === true ? emptyTileParts() : undefined;
  if (tiles !== undefined) {
    range.onNode = collectTileNodes(tiles);
    range.onNodeFromLevel = TILE_LEVEL;
  }
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

/** Worker task: compactRangeOfBytes (its hashes are small and cloned). */
export function merkleRange(task: MerkleRangeTask): ByteRangeTree {
  return compactRangeOfBytes(task);
}
