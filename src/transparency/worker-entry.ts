/**
 * The Merkle tree's worker tasks as the engine pool's worker module exports
 * them (one re-export line in engine/worker.ts). Each loads worker-tasks.ts
 * on first use: a pool thread that never builds a tree never loads it (the
 * verify-batch threads' start-up stays short).
 */
import type { LeafRangeTree, MerkleLeafHashTask, MerkleLeafRangeTask, RangeLeafHashes } from './worker-tasks.js';

/** Worker task: the leaf hashes of a byte range of a ledger (worker-tasks.ts). */
export async function merkleLeafHashes(task: MerkleLeafHashTask): Promise<RangeLeafHashes> {
  return (await import('./worker-tasks.js')).merkleLeafHashes(task);
}

/** Worker task: the compact range of a byte range's leaf hashes (worker-tasks.ts). */
export async function merkleRangeOfLeafHashes(task: MerkleLeafRangeTask): Promise<LeafRangeTree> {
  return (await import('./worker-tasks.js')).merkleRangeOfLeafHashes(task);
}
