/**
 * The Merkle tree of RFC 6962 section 2.1 (= RFC 9162 section 2.1) over
 * SHA-256, as pure functions:
 *
 *   MTH({})       = SHA-256()
 *   MTH({d0})     = SHA-256(0x00 || d0)                       leaf hash
 *   MTH(D[n])     = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  node hash,
 *                   k the largest power of two smaller than n
 *
 * A *compact range* holds the hashes of the maximal perfect subtrees that
 * tile a leaf range [begin, end): O(log n) hashes, enough to extend the range
 * with more leaves, to merge it with the range that follows it, and (when
 * begin = 0) to compute the root. That is how the root of a ledger is
 * computed in one streaming pass, and in parallel: each worker builds the
 * compact range of its slice, the main thread merges them in order.
 *
 * Hashing goes through a `MerkleHasher` (the engine's `sha256Many`), always
 * in batches: one call per level per chunk of leaves, because per-call cost,
 * not the 65 bytes of a node, is what a hash of a node costs.
 */
import { BluxError } from '../errors.js';

export const HASH_SIZE = 32;
/** Domain separation of RFC 6962 section 2.1: leaves and nodes can never collide. */
export const LEAF_HASH_PREFIX = 0x00;
export const NODE_HASH_PREFIX = 0x01;

/** The batch SHA-256 the tree uses (the engine's `sha256Many`). */
export type Sha256Many = (items: readonly Uint8Array[]) => Uint8Array[];

/**
 * SHA-256(0x00 || leaf) for each leaf, in one batch. The prefixed inputs are
 * views into one buffer per batch: one allocation, not one per leaf.
 */
export function hashLeaves(leaves: readonly Uint8Array[], sha256Many: Sha256Many): Uint8Array[] {
  let total = 0;
  for (const leaf of leaves) total += 1 + leaf.length;
  const packed = new Uint8Array(total);
  const inputs: Uint8Array[] = new Array(leaves.length);
  let at = 0;
  leaves.forEach((leaf, i) => {
    packed[at] = LEAF_HASH_PREFIX;
    packed.set(leaf, at + 1);
    inputs[i] = packed.subarray(at, at + 1 + leaf.length);
    at += 1 + leaf.length;
  });
  return sha256Many(inputs);
}

/** 0x01 || left || right. */
export const NODE_INPUT_BYTES = 1 + 2 * HASH_SIZE;

/**
 * SHA-256 of `input` as a 32-character latin1 string (one char per byte): the
 * cheapest digest node:crypto hands out, and strings of a batch are joined
 * and written into a flat level with one call (flat-hash.ts).
 */
export type Sha256Latin1 = (input: Uint8Array) => string;

/**
 * Node hashes of adjacent pairs of a flat level: parent p is
 * SHA-256(0x01 || hash first + 2p || hash first + 2p + 1), returned as a new
 * flat level. The level is left as it was.
 */
export type NodePairHasher = (level: Buffer, first: number, pairCount: number) => Buffer;

/**
 * Buffer#latin1Write: what Buffer#write(s, at, n, 'latin1') ends in, without
 * its argument normalization. Node's own code uses it; when a runtime lacks
 * it, write() does the same.
 */
type Latin1Writer = (this: Buffer, text: string, at: number, length: number) => number;
const latin1Write: Latin1Writer =
  (Buffer.prototype as unknown as { latin1Write?: Latin1Writer }).latin1Write ??
  function (this: Buffer, text, at, length) {
    return this.write(text, at, length, 'latin1');
  };

/** Writes the digests (latin1 strings) into `out` from byte `at`, one native call for all of them. */
export function writeDigests(out: Buffer, digests: readonly string[], at: number): void {
  if (digests.length > 0) latin1Write.call(out, digests.join(''), at, digests.length * HASH_SIZE);
}

/**
 * A *flat level* holds the hashes j = 0, 1, ... of a run at byte
 * FLAT_LEAD + 32 j, after one spare byte, so that the byte just before any
 * hash can hold a domain prefix for one call: 0x01 || left || right of two
 * adjacent hashes is then hashed in place, without a copy.
 */
export const FLAT_LEAD = 1;

export function allocFlatLevel(count: number): Buffer {
  return Buffer.allocUnsafe(FLAT_LEAD + count * HASH_SIZE);
}

/** The same bytes as a plain Uint8Array, whose subarray() makes plain views (a Buffer's makes Buffers, slower). */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function flatHashAt(level: Uint8Array, j: number): Uint8Array {
  return Uint8Array.from(level.subarray(FLAT_LEAD + j * HASH_SIZE, FLAT_LEAD + (j + 1) * HASH_SIZE));
}

/** The node inputs of consecutive pairs run[from + 2p], run[from + 2p + 1], as views into one buffer. */
function pairInputs(run: readonly Uint8Array[], from: number, pairCount: number): Uint8Array[] {
  const packed = new Uint8Array(pairCount * NODE_INPUT_BYTES);
  const inputs: Uint8Array[] = new Array(pairCount);
  for (let p = 0; p < pairCount; p++) {
    const at = p * NODE_INPUT_BYTES;
    packed[at] = NODE_HASH_PREFIX;
    packed.set(run[from + 2 * p]!, at + 1);
    packed.set(run[from + 2 * p + 1]!, at + 1 + HASH_SIZE);
    inputs[p] = packed.subarray(at, at + NODE_INPUT_BYTES);
  }
  return inputs;
}

/** The 65 bytes 0x01 || left || right whose SHA-256 is a node hash. */
export function nodeInput(left: Uint8Array, right: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + left.length + right.length);
  out[0] = NODE_HASH_PREFIX;
  out.set(left, 1);
  out.set(right, 1 + left.length);
  return out;
}

export function hashChildren(left: Uint8Array, right: Uint8Array, sha256Many: Sha256Many): Uint8Array {
  return sha256Many([nodeInput(left, right)])[0]!;
}

export function emptyTreeHash(sha256Many: Sha256Many): Uint8Array {
  return sha256Many([new Uint8Array(0)])[0]!;
}

/** Largest power of two strictly smaller than n (n >= 2): the RFC's split point k. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new BluxError('invalid-argument', `${name} must be a non-negative integer, got ${value}`);
  }
}

// ---------------------------------------------------------------------------
// Compact ranges
// ---------------------------------------------------------------------------

/** A perfect subtree: leaves [index * 2^level, (index + 1) * 2^level). */
export interface TreeNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/** Plain data, so it crosses a worker boundary as is. */
export interface CompactRangeState {
  begin: number;
  end: number;
  nodes: TreeNode[];
}

/**
 * The maximal perfect subtrees tiling [begin, end), left to right. Invariant:
 * no two adjacent nodes are siblings (they would have been merged), which
 * makes the tiling the unique maximal one.
 */
export class CompactRange {
  readonly begin: number;
  private endIndex: number;
  private readonly nodes: TreeNode[];
  private readonly sha256Many: Sha256Many;

  /** Called with every interior node the range computes (tree tiles collect the high ones). */
  onNode: ((node: TreeNode) => void) | undefined;
  /** The flat path calls onNode only from this level up (tiles want levels >= 8: no object per low node). */
  onNodeFromLevel = 0;

  constructor(begin: number, sha256Many: Sha256Many, state?: CompactRangeState) {
    checkSize('range begin', begin);
    this.begin = begin;
    this.endIndex = state?.end ?? begin;
    this.nodes = state === undefined ? [] : state.nodes.map((n) => ({ ...n }));
    this.sha256Many = sha256Many;
  }

  static fromState(state: CompactRangeState, sha256Many: Sha256Many): CompactRange {
    return new CompactRange(state.begin, sha256Many, state);
  }

  get end(): number {
    return this.endIndex;
  }

  get size(): number {
    return this.endIndex - this.begin;
  }

  state(): CompactRangeState {
    return { begin: this.begin, end: this.endIndex, nodes: this.nodes.map((n) => ({ ...n })) };
  }

  /** The tiling's hashes, left to right. */
  hashes(): Uint8Array[] {
    return this.nodes.map((n) => n.hash);
  }

  /** Appends the leaves whose leaf hashes are given (leaf indices end, end + 1, ...), hashing each level in one batch. */
  appendLeafHashes(leafHashes: readonly Uint8Array[]): void {
    if (leafHashes.length === 0) return;
    const first = this.endIndex;
    this.endIndex += leafHashes.length;
    this.appendLevel(0, first, [...leafHashes]);
  }

  /**
   * Adds a run of consecutive nodes of one level, starting at node `index`,
   * to the right of the range. Pairs that are siblings become the next
   * level's run (hashed in one batch); an unpaired node at either end stays.
   */
  private appendLevel(level: number, index: number, run: Uint8Array[]): void {
    let start = index;
    // The first node of the run may complete a sibling pair with the range's last node.
    const last = this.nodes[this.nodes.length - 1];
    if (start % 2 === 1 && last !== undefined && last.level === level && last.index === start - 1) {
      this.nodes.pop();
      run.unshift(last.hash);
      start -= 1;
    }
    let from = 0;
    if (start % 2 === 1) {
      // A right child whose left sibling lies before `begin`: it stays as it is.
      this.nodes.push({ level, index: start, hash: run[0]! });
      from = 1;
    }
    const pairCount = Math.floor((run.length - from) / 2);
    if (pairCount > 0) {
      const parents = this.sha256Many(pairInputs(run, from, pairCount));
      const firstParent = (start + from) / 2;
      if (this.onNode !== undefined) parents.forEach((hash, p) => this.onNode!({ level: level + 1, index: firstParent + p, hash }));
      this.appendLevel(level + 1, firstParent, parents);
    }
    const leftover = run.length - from - 2 * pairCount;
    if (leftover === 1) this.nodes.push({ level, index: start + run.length - 1, hash: run[run.length - 1]! });
  }

  /** appendLeafHashes for leaf hashes in a flat level (FLAT_LEAD layout), node pairs hashed a level at a time by `hashPairs`. */
  appendFlatLeafHashes(level0: Buffer, count: number, hashPairs: NodePairHasher): void {
    if (count === 0) return;
    const first = this.endIndex;
    this.endIndex += count;
    this.appendFlatLevel(0, first, level0, count, hashPairs);
  }

  /** appendLevel over a flat level: the same pairing, all pairs of the level hashed in one call. */
  private appendFlatLevel(level: number, start: number, flat: Buffer, count: number, hashPairs: NodePairHasher): void {
    let run = flat;
    let runStart = start;
    let runCount = count;
    const last = this.nodes[this.nodes.length - 1];
    if (start % 2 === 1 && last !== undefined && last.level === level && last.index === start - 1) {
      // The run's first node completes a pair with the range's last node: the run starts one node earlier.
      this.nodes.pop();
      run = allocFlatLevel(count + 1);
      run.set(last.hash, FLAT_LEAD);
      flat.copy(run, FLAT_LEAD + HASH_SIZE, FLAT_LEAD, FLAT_LEAD + count * HASH_SIZE);
      runStart -= 1;
      runCount += 1;
    }
    let i = 0;
    if (runStart % 2 === 1) {
      // A right child whose left sibling lies before `begin`: it stays as it is.
      this.nodes.push({ level, index: runStart, hash: flatHashAt(run, 0) });
      i = 1;
    }
    const pairCount = Math.floor((runCount - i) / 2);
    if (pairCount > 0) {
      const parents = hashPairs(run, i, pairCount);
      const firstParent = (runStart + i) / 2;
      if (this.onNode !== undefined && level + 1 >= this.onNodeFromLevel) {
        for (let p = 0; p < pairCount; p++) this.onNode({ level: level + 1, index: firstParent + p, hash: flatHashAt(parents, p) });
      }
      this.appendFlatLevel(level + 1, firstParent, parents, pairCount, hashPairs);
    }
    if (i + 2 * pairCount < runCount) this.nodes.push({ level, index: runStart + runCount - 1, hash: flatHashAt(run, runCount - 1) });
  }

  /** Appends one node (which must start at `end`), merging siblings as they complete. */
  private appendNode(node: TreeNode): void {
    let current = node;
    for (;;) {
      const last = this.nodes[this.nodes.length - 1];
      const isRightChildOfLast = current.index % 2 === 1 && last !== undefined && last.level === current.level && last.index === current.index - 1;
      if (!isRightChildOfLast) break;
      this.nodes.pop();
      current = { level: current.level + 1, index: (current.index - 1) / 2, hash: hashChildren(last.hash, current.hash, this.sha256Many) };
      this.onNode?.(current);
    }
    this.nodes.push(current);
  }

  /** Appends the range that starts where this one ends (its nodes are taken over). */
  merge(next: CompactRange | CompactRangeState): void {
    if (next.begin !== this.endIndex) {
      throw new BluxError('internal', `cannot merge a compact range starting at ${next.begin} onto one ending at ${this.endIndex}`);
    }
    const nodes = next instanceof CompactRange ? next.nodes : next.nodes;
    const end = next.end;
    for (const node of nodes) this.appendNode(node);
    this.endIndex = end;
  }

  /**
   * Folds the tiling right to left: H(n0, H(n1, ... H(n_{k-2}, n_{k-1}))).
   * For a range whose begin is a multiple of a power of two at least its
   * size (a prefix, or any subtree of the RFC's recursion) this is MTH of
   * the range; an empty range has the empty-tree hash.
   */
  fold(): Uint8Array {
    if (this.nodes.length === 0) return emptyTreeHash(this.sha256Many);
    let hash = this.nodes[this.nodes.length - 1]!.hash;
    for (let i = this.nodes.length - 2; i >= 0; i--) hash = hashChildren(this.nodes[i]!.hash, hash, this.sha256Many);
    return hash;
  }

  /** The tree head of leaves [0, end). */
  root(): Uint8Array {
    if (this.begin !== 0) throw new BluxError('internal', 'only a range starting at leaf 0 has a root');
    return this.fold();
  }
}

/** MTH of leaves already hashed, through a compact range (a convenience for small in-memory trees). */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[], sha256Many: Sha256Many): Uint8Array {
  const range = new CompactRange(0, sha256Many);
  range.appendLeafHashes(leafHashes);
  return range.root();
}

// ---------------------------------------------------------------------------
// Which subtrees a proof is made of (RFC 9162 2.1.3.1 and 2.1.4.1)
// ---------------------------------------------------------------------------

/** A subtree of the RFC recursion: MTH(D[begin:end]). */
export interface LeafRange {
  begin: number;
  end: number;
}

/** PATH(m, D[n]): the subtrees whose hashes form the inclusion proof, leaf end first. */
export function inclusionProofRanges(leafIndex: number, treeSize: number): LeafRange[] {
  checkSize('leaf index', leafIndex);
  checkSize('tree size', treeSize);
  if (leafIndex >= treeSize) {
    throw new BluxError('invalid-argument', `leaf index ${leafIndex} is not in a tree of ${treeSize} leaves`);
  }
  const path: LeafRange[] = [];
  // Walk down from the root, then reverse: the RFC lists the deepest sibling first.
  let base = 0;
  let size = treeSize;
  let m = leafIndex;
  while (size > 1) {
    const k = largestPowerOfTwoBelow(size);
    if (m < k) {
      path.push({ begin: base + k, end: base + size });
      size = k;
    } else {
      path.push({ begin: base, end: base + k });
      base += k;
      m -= k;
      size -= k;
    }
  }
  return path.reverse();
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true): the subtrees of a consistency proof, in the RFC's order. */
export function consistencyProofRanges(oldSize: number, newSize: number): LeafRange[] {
  checkSize('old size', oldSize);
  checkSize('new size', newSize);
  if (oldSize > newSize) throw new BluxError('invalid-argument', `old size ${oldSize} is larger than new size ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const proof: LeafRange[] = [];
  let base = 0;
  let size = newSize;
  let m = oldSize;
  let wholeOldTreeKnown = true; // the RFC's b: the verifier already has MTH(D[0:m]) of this subtree
  const tail: LeafRange[] = [];
  while (m !== size) {
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) {
      tail.push({ begin: base + k, end: base + size });
      size = k;
    } else {
      tail.push({ begin: base, end: base + k });
      base += k;
      m -= k;
      size -= k;
      wholeOldTreeKnown = false;
    }
  }
  if (!wholeOldTreeKnown) proof.push({ begin: base, end: base + size });
  return [...proof, ...tail.reverse()];
}

// ---------------------------------------------------------------------------
// Verification (RFC 9162 2.1.3.2 and 2.1.4.2, step by step)
// ---------------------------------------------------------------------------

export type ProofFailure =
  | 'leaf-index-out-of-range'
  | 'wrong-proof-length'
  | 'wrong-hash-length'
  | 'root-mismatch'
  | 'bad-size-order';

export type ProofCheck = { ok: true } | { ok: false; failure: ProofFailure; message: string };

const OK: ProofCheck = { ok: true };

function fail(failure: ProofFailure, message: string): ProofCheck {
  return { ok: false, failure, message };
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The RFC verifiers' (fn, sn): the node's index and the last index at the current level. */
interface Position {
  fn: number;
  sn: number;
}

/** fn >>= 1, sn >>= 1 (division, not >>: sizes pass 2^32). */
function shiftRight(at: Position): void {
  at.fn = Math.floor(at.fn / 2);
  at.sn = Math.floor(at.sn / 2);
}

/** "Right-shift fn and sn equally until either LSB(fn) is set or fn is 0." */
function shiftUntilOddOrZero(at: Position): void {
  while (at.fn % 2 === 0 && at.fn !== 0) shiftRight(at);
}

function allHashSized(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h.length === HASH_SIZE);
}

/** RFC 9162 2.1.3.2: does `proof` show leaf `leafIndex` (hash `leafHash`) in the tree of `treeSize` leaves with root `root`? */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  sha256Many: Sha256Many,
): ProofCheck {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) {
    return fail('leaf-index-out-of-range', `leaf index ${leafIndex} is not in a tree of ${treeSize} leaves`);
  }
  if (!allHashSized([leafHash, root, ...proof])) return fail('wrong-hash-length', `a hash is not ${HASH_SIZE} bytes`);
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof, sha256Many);
  if (computed === null) {
    return fail('wrong-proof-length', `an inclusion proof of ${proof.length} hashes does not fit leaf ${leafIndex} of ${treeSize}`);
  }
  if (!bytesEqual(computed, root)) return fail('root-mismatch', 'the inclusion proof leads to a different root');
  return OK;
}

/**
 * RFC 9162 2.1.3.2 steps 1-4: the root an inclusion proof leads to, or null
 * when the proof has the wrong length for the position. Callers check the
 * index range first.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  sha256Many: Sha256Many,
): Uint8Array | null {
  // 1-2: fn = leaf_index, sn = tree_size - 1, r = hash.
  const at: Position = { fn: leafIndex, sn: treeSize - 1 };
  let r = leafHash;
  // 3: for each p in the proof.
  for (const p of proof) {
    if (at.sn === 0) return null;
    if (at.fn % 2 === 1 || at.fn === at.sn) {
      r = hashChildren(p, r, sha256Many);
      shiftUntilOddOrZero(at);
    } else {
      r = hashChildren(r, p, sha256Many);
    }
    shiftRight(at);
  }
  // 4: a proof of the right length ends with sn = 0.
  return at.sn === 0 ? r : null;
}

/**
 * RFC 9162 2.1.4.2: does `proof` show the tree of `newSize` leaves (root
 * `newRoot`) extends the one of `oldSize` (root `oldRoot`)? Like the C2SP
 * ecosystem (transparency-dev/merkle), size 0 is refused: the RFC defines
 * the check for 0 < first < second, plus equal sizes with an empty proof.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  sha256Many: Sha256Many,
): ProofCheck {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || newSize < oldSize) {
    return fail('bad-size-order', `no consistency proof goes from size ${oldSize} to size ${newSize}`);
  }
  if (oldSize === newSize) {
    // Nothing to compute: the same tree must have the same root, byte for byte.
    if (proof.length !== 0) return fail('wrong-proof-length', 'equal sizes need an empty proof');
    return bytesEqual(oldRoot, newRoot) ? OK : fail('root-mismatch', 'equal sizes with different roots (a fork)');
  }
  if (!allHashSized([oldRoot, newRoot, ...proof])) return fail('wrong-hash-length', `a hash is not ${HASH_SIZE} bytes`);
  // 2: if first is an exact power of two, prepend first_hash to the proof.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  if (path.length === 0) return fail('wrong-proof-length', 'the consistency proof is empty');
  // 3-4: fn = first - 1, sn = second - 1; right-shift both while fn is odd (LSB set).
  const at: Position = { fn: oldSize - 1, sn: newSize - 1 };
  while (at.fn % 2 === 1) shiftRight(at);
  // 5: fr = sr = the first value of the path.
  let fr = path[0]!;
  let sr = path[0]!;
  // 6: for each subsequent value c.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (at.sn === 0) return fail('wrong-proof-length', 'the consistency proof is too long');
    if (at.fn % 2 === 1 || at.fn === at.sn) {
      fr = hashChildren(c, fr, sha256Many);
      sr = hashChildren(c, sr, sha256Many);
      shiftUntilOddOrZero(at);
    } else {
      sr = hashChildren(sr, c, sha256Many);
    }
    shiftRight(at);
  }
  // 7: sn must be 0, fr the old root and sr the new root.
  if (at.sn !== 0) return fail('wrong-proof-length', 'the consistency proof is too short');
  if (!bytesEqual(fr, oldRoot)) return fail('root-mismatch', `the proof does not lead to the old root (size ${oldSize})`);
  if (!bytesEqual(sr, newRoot)) return fail('root-mismatch', `the proof does not lead to the new root (size ${newSize})`);
  return OK;
}

/** Exact for every safe integer (bitwise operators would cut at 32 bits). */
function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}
