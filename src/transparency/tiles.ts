/**
 * Tree tiles: the hashes of every complete subtree of 2^8 leaves or more, and
 * the byte offset of every 256-line block, saved with a checkpoint. With
 * them, a proof of any leaf needs one read of one block (at most 256 lines)
 * plus lookups, instead of a pass over the ledger: milliseconds on a
 * million-entry ledger. Pure: collection, encoding, and the subtree lookup
 * (leaf blocks are read through a callback).
 *
 * A stale or damaged tile file cannot forge anything: every proof built from
 * tiles is verified against the signed checkpoint root before it is used.
 */
import { BluxError } from '../errors.js';
import { CompactRange, hashChildren, largestPowerOfTwoBelow, type Sha256Many, type TreeNode } from './merkle.js';

/** Level of the smallest saved subtree: blocks of 2^8 = 256 leaves. */
export const TILE_LEVEL = 8;
export const BLOCK_LEAVES = 2 ** TILE_LEVEL;
const MAGIC = 'BLUXTIL1';
const HASH = 32;
const F64 = 8;

/** What a tree pass gathers for the tiles (plain data: it crosses worker boundaries). */
export interface TileParts {
  nodes: TreeNode[];
  /** [block index, byte offset of its first leaf]. */
  blockOffsets: [number, number][];
}

export function emptyTileParts(): TileParts {
  return { nodes: [], blockOffsets: [] };
}

/** A node callback for CompactRange.onNode that keeps the tile-level ones. */
export function collectTileNodes(parts: TileParts): (node: TreeNode) => void {
  return (node) => {
    if (node.level >= TILE_LEVEL) parts.nodes.push(node);
  };
}

/** Records the offsets of the batch's leaves that start a block. */
export function collectBlockOffsets(parts: TileParts, firstLeaf: number, offsets: readonly number[]): void {
  const firstBlockLeaf = Math.ceil(firstLeaf / BLOCK_LEAVES) * BLOCK_LEAVES;
  for (let leaf = firstBlockLeaf; leaf < firstLeaf + offsets.length; leaf += BLOCK_LEAVES) {
    parts.blockOffsets.push([leaf / BLOCK_LEAVES, offsets[leaf - firstLeaf]!]);
  }
}

export interface TreeTiles {
  size: number;
  /** Byte offset of the first leaf of each block, ceil(size / 256) of them. */
  blockOffsets: number[];
  /** levels[L - TILE_LEVEL][i] = MTH of leaves [i 2^L, (i + 1) 2^L), every complete one. */
  levels: Uint8Array[][];
}

/** Orders what was collected; refuses gaps (a bug, or parts of two different passes). */
export function assembleTiles(size: number, parts: TileParts): TreeTiles {
  const blockCount = Math.ceil(size / BLOCK_LEAVES);
  const blockOffsets: number[] = new Array(blockCount);
  for (const [block, offset] of parts.blockOffsets) if (block < blockCount) blockOffsets[block] = offset;
  const levels: Uint8Array[][] = [];
  for (let level = TILE_LEVEL; 2 ** level <= size; level++) levels.push(new Array(Math.floor(size / 2 ** level)));
  for (const node of parts.nodes) {
    const row = levels[node.level - TILE_LEVEL];
    if (row !== undefined && node.index < row.length) row[node.index] = node.hash;
  }
  // Arrays.from, not .some: `new Array(n)` has holes, which .some skips.
  const hasHole = (row: readonly unknown[]): boolean => Array.from(row).includes(undefined);
  if (levels.some(hasHole) || hasHole(blockOffsets)) throw new BluxError('internal', `the tree pass did not produce every tile of a ${size}-leaf tree`);
  return { size, blockOffsets, levels };
}

export function encodeTiles(tiles: TreeTiles): Uint8Array {
  const hashCount = tiles.levels.reduce((n, row) => n + row.length, 0);
  const out = new Uint8Array(MAGIC.length + 2 * F64 + tiles.blockOffsets.length * F64 + hashCount * HASH);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  let at = MAGIC.length;
  view.setFloat64(at, tiles.size);
  view.setFloat64(at + F64, tiles.blockOffsets.length);
  at += 2 * F64;
  for (const offset of tiles.blockOffsets) {
    view.setFloat64(at, offset);
    at += F64;
  }
  for (const row of tiles.levels) {
    for (const hash of row) {
      out.set(hash, at);
      at += HASH;
    }
  }
  return out;
}

/** Null when the bytes are not a tile file of a tree of `expectedSize` leaves. */
export function decodeTiles(bytes: Uint8Array, expectedSize: number): TreeTiles | null {
  if (bytes.length < MAGIC.length + 2 * F64 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getFloat64(MAGIC.length);
  const blockCount = view.getFloat64(MAGIC.length + F64);
  if (size !== expectedSize || blockCount !== Math.ceil(size / BLOCK_LEAVES)) return null;
  let at = MAGIC.length + 2 * F64;
  // Views of a plain Uint8Array: thousands of them, and a Buffer's subarray() costs several times more.
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blockOffsets: number[] = [];
  for (let b = 0; b < blockCount; b++, at += F64) blockOffsets.push(view.getFloat64(at));
  const levels: Uint8Array[][] = [];
  for (let level = TILE_LEVEL; 2 ** level <= size; level++) {
    const row: Uint8Array[] = [];
    for (let i = 0; i < Math.floor(size / 2 ** level); i++, at += HASH) row.push(plain.subarray(at, at + HASH));
    levels.push(row);
  }
  return at === bytes.length ? { size, blockOffsets, levels } : null;
}

/** Reads the leaf hashes of one block (up to 256 lines starting at `offset`). */
export type BlockReader = (block: number, offset: number, leaves: number) => Uint8Array[];

/**
 * MTH(D[begin:end]) for a range of the RFC recursion (begin aligned to a
 * power of two at least its size): a tile lookup, or the RFC split, down to
 * ranges inside one block, which are hashed from that block's leaves.
 */
export function subtreeHashFromTiles(tiles: TreeTiles, begin: number, end: number, readBlock: BlockReader, sha256Many: Sha256Many): Uint8Array {
  if (end > tiles.size || begin >= end) throw new BluxError('internal', `no subtree [${begin}, ${end}) in a tree of ${tiles.size}`);
  const width = end - begin;
  const level = Math.log2(width);
  if (Number.isInteger(level) && level >= TILE_LEVEL && begin % width === 0) return tiles.levels[level - TILE_LEVEL]![begin / width]!;
  const block = Math.floor(begin / BLOCK_LEAVES);
  if (Math.floor((end - 1) / BLOCK_LEAVES) === block) {
    const blockStart = block * BLOCK_LEAVES;
    const leafHashes = readBlock(block, tiles.blockOffsets[block]!, Math.min(BLOCK_LEAVES, tiles.size - blockStart));
    const range = new CompactRange(begin, sha256Many);
    range.appendLeafHashes(leafHashes.slice(begin - blockStart, end - blockStart));
    return range.fold();
  }
  const k = largestPowerOfTwoBelow(width);
  return hashChildren(subtreeHashFromTiles(tiles, begin, begin + k, readBlock, sha256Many), subtreeHashFromTiles(tiles, begin + k, end, readBlock, sha256Many), sha256Many);
}
