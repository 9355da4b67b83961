/**
 * `--shard K/N`: a deterministic subset of a tree, chosen by a hash of each
 * entry's path, so N machines (a CI matrix, a Kubernetes Indexed Job) split a
 * huge tree with no coordinator, and `report merge` puts the parts together.
 */
import { createHash } from 'node:crypto';
import { BluxError } from '../errors.js';

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new BluxError('invalid-argument', `--shard must be K/N with 1 <= K <= N, e.g. 2/4; got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * Which shard (1-based) a path belongs to. The path's SHA-256 is spread evenly
 * whatever the names look like; this is a partition function, not a security
 * boundary, so node:crypto is used directly rather than the engine.
 */
export function shardOf(displayPath: string, count: number): number {
  const digest = createHash('sha256').update(displayPath, 'utf8').digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function inShard(displayPath: string, shard: Shard | null): boolean {
  return shard === null || shardOf(displayPath, shard.count) === shard.index;
}
