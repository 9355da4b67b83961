/**
 * Worker tasks of the Merkle tree (re-exported by engine/worker.ts): each
 * worker takes one line-aligned byte range of the ledger. Counting comes
 * first because a compact range depends on the absolute index of its first
 * leaf, which a worker cannot know without the line counts before it.
 */
import { getBackend } from '../engine/index.js';
import type { BackendName } from '../engine/types.js';
import { scanLeaves } from './leaf-reader.js';
import { CompactRange, hashLeaves, type CompactRangeState } from './merkle.js';
import { collectBlockOffsets, collectTileNodes, emptyTileParts, type TileParts } from './tiles.js';

export interface MerkleCountTask {
  file: string;
  start: number;
  end: number;
}

/** Worker task: the number of complete lines in [start, end). */
export function merkleCountLines(task: MerkleCountTask): number {
  return scanLeaves(task.file, () => {}, { start: task.start, end: task.end }).leaves;
}

export interface MerkleRangeTask extends MerkleCountTask {
  /** Index of the first line of the range in the whole ledger. */
  beginLeaf: number;
  /** Lines of the range to take (the tree may end inside the range). */
  maxLeaves: number;
  backend: BackendName;
  /** Also gather the tree tiles of the range (tiles.ts). */
  collectTiles?: boolean;
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

/** The compact range of leaves [beginLeaf, beginLeaf + n) of one byte range, hashed in one batch per read. */
export function compactRangeOfBytes(task: MerkleRangeTask): ByteRangeTree {
  const backend = getBackend(task.backend);
  const sha256Many = (items: readonly Uint8Array[]): Uint8Array[] => backend.sha256Many(items);
  const range = new CompactRange(task.beginLeaf, sha256Many);
  const tiles = task.collectTiles === true ? emptyTileParts() : undefined;
  if (tiles !== undefined) range.onNode = collectTileNodes(tiles);
  let endOffset = task.start;
  scanLeaves(
    task.file,
    (batch) => {
      if (tiles !== undefined) collectBlockOffsets(tiles, range.end, batch.offsets);
      range.appendLeafHashes(hashLeaves(batch.lines, sha256Many));
      const batchEnd = batch.offsets[batch.offsets.length - 1]! + batch.lines[batch.lines.length - 1]!.length + 1;
      if (task.progress !== undefined) Atomics.add(task.progress, 0, BigInt(batchEnd - endOffset));
      endOffset = batchEnd;
      task.onBatch?.();
    },
    { start: task.start, end: task.end, maxLeaves: task.maxLeaves },
  );
  return { state: range.state(), endOffset, ...(tiles !== undefined ? { tiles } : {}) };
}

/** Worker task: compactRangeOfBytes (its hashes are small and cloned). */
export function merkleRange(task: MerkleRangeTask): ByteRangeTree {
  return compactRangeOfBytes(task);
}
