// The Merkle tree against a naive reference (the RFC 6962 definition, recursively, in memory):
// compact ranges (appended in random batches, merged at random cuts), inclusion and consistency
// proofs, and the streaming tree of a ledger file on one thread and on the worker pool.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { closeEnginePool } from '../src/engine/index.js';
import { countLines, scanLeaves } from '../src/transparency/leaf-reader.js';
import { ledgerTreeHead, ledgerTreeState, subtreeHashesFromTiles, subtreeHashesOfFile } from '../src/transparency/ledger-tree.js';
import { decodeTiles, encodeTiles } from '../src/transparency/tiles.js';
import { nodePairHasherFor } from '../src/transparency/flat-hash.js';
import { compactRangeOfBytes } from '../src/transparency/worker-tasks.js';
import { BACKEND_NAMES } from '../src/engine/backend-name.js';
import {
  allocFlatLevel,
  CompactRange,
  consistencyProofRanges,
  FLAT_LEAD,
  hashLeaves,
  inclusionProofRanges,
  largestPowerOfTwoBelow,
  verifyConsistency,
  verifyInclusion,
  type Sha256Many,
} from '../src/transparency/merkle.js';
import { writeFileSync } from 'node:fs';
import { rejection } from './helpers/errors.js';
import { mulberry32 } from './helpers/random.js';
import { sha256Many, writeChainedLines } from './transparency-helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** node:crypto's one-shot hash: the same SHA-256, fewer objects per call, for the half-million-proof loop. */
const fastSha256Many: Sha256Many = (items) => items.map((item) => new Uint8Array(hash('sha256', item, 'buffer')));

/** MTH(D[begin:end]) straight from RFC 6962 2.1, memoized: the reference. */
function naiveTree(leafHashes: readonly Uint8Array[], many: Sha256Many) {
  const memo = new Map<string, Uint8Array>();
  const mth = (begin: number, end: number): Uint8Array => {
    const key = `${begin}:${end}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let value: Uint8Array;
    if (end - begin === 0) value = many([new Uint8Array(0)])[0]!;
    else if (end - begin === 1) value = leafHashes[begin]!;
    else {
      const k = largestPowerOfTwoBelow(end - begin);
      value = many([Buffer.concat([Buffer.from([1]), mth(begin, begin + k), mth(begin + k, end)])])[0]!;
    }
    memo.set(key, value);
    return value;
  };
  return mth;
}

/** PATH(m, D[n]) from the RFC's recursive definition, as hashes. */
function naivePath(m: number, begin: number, end: number, mth: (b: number, e: number) => Uint8Array): Uint8Array[] {
  if (end - begin === 1) return [];
  const k = largestPowerOfTwoBelow(end - begin);
  return m < k
    ? [...naivePath(m, begin, begin + k, mth), mth(begin + k, end)]
    : [...naivePath(m - k, begin + k, end, mth), mth(begin, begin + k)];
}

function randomLeaves(random: () => number, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
}

describe('compact ranges and proofs vs the naive reference', () => {
  it('random trees: roots by batches and merges, inclusion proofs, consistency proofs (seed 6962)', () => {
    const random = mulberry32(6962);
    for (let trial = 0; trial < 60; trial++) {
      const size = 1 + Math.floor(random() * 300);
      const leafHashes = hashLeaves(randomLeaves(random, size), sha256Many);
      const mth = naiveTree(leafHashes, sha256Many);

      // Random batches, random merge points.
      const cuts = [0, ...Array.from({ length: 4 }, () => Math.floor(random() * size)).sort((a, b) => a - b), size];
      const merged = new CompactRange(0, sha256Many);
      for (let c = 0; c + 1 < cuts.length; c++) {
        const part = new CompactRange(cuts[c]!, sha256Many);
        for (let at = cuts[c]!; at < cuts[c + 1]!; ) {
          const take = Math.min(cuts[c + 1]! - at, 1 + Math.floor(random() * 20));
          part.appendLeafHashes(leafHashes.slice(at, at + take));
          at += take;
        }
        merged.merge(part);
      }
      expect(hex(merged.root()), `size ${size}`).toBe(hex(mth(0, size)));

      const leaf = Math.floor(random() * size);
      const proof = inclusionProofRanges(leaf, size).map((r) => mth(r.begin, r.end));
      expect(proof.map(hex)).toEqual(naivePath(leaf, 0, size, mth).map(hex));
      expect(verifyInclusion(leaf, size, leafHashes[leaf]!, proof, mth(0, size), sha256Many).ok).toBe(true);
      if (proof.length > 0) {
        const bad = proof.map((h) => Uint8Array.from(h));
        bad[Math.floor(random() * bad.length)]![0]! ^= 1;
        expect(verifyInclusion(leaf, size, leafHashes[leaf]!, bad, mth(0, size), sha256Many)).toMatchObject({ ok: false, failure: 'root-mismatch' });
      }
      const oldSize = 1 + Math.floor(random() * size);
      const consistency = consistencyProofRanges(oldSize, size).map((r) => mth(r.begin, r.end));
      expect(verifyConsistency(oldSize, size, consistency, mth(0, oldSize), mth(0, size), sha256Many).ok).toBe(true);
      const forkedOldRoot = Uint8Array.from(mth(0, oldSize));
      forkedOldRoot[31]! ^= 0x80;
      expect(verifyConsistency(oldSize, size, consistency, forkedOldRoot, mth(0, size), sha256Many).ok).toBe(false);
    }
  });
});

describe('the flat hot path (leaf hashes in one buffer, node pairs hashed in place)', () => {
  const asFlat = (hashes: readonly Uint8Array[]): Buffer => {
    const flat = allocFlatLevel(hashes.length);
    flat[0] = 0xa5; // the spare byte: whatever it holds must not leak into a hash
    hashes.forEach((h, j) => flat.set(h, FLAT_LEAD + 32 * j));
    return flat;
  };

  it('random begins and batches, every backend\'s pair hasher: the same compact range, tile nodes and root as the generic path, and the input buffers are left as they were', () => {
    const random = mulberry32(2026);
    for (let trial = 0; trial < 80; trial++) {
      const backend = BACKEND_NAMES[trial % BACKEND_NAMES.length]!;
      const begin = Math.floor(random() * 1500);
      const size = Math.floor(random() * 1200);
      const leafHashes = hashLeaves(randomLeaves(random, size), sha256Many);
      const generic = new CompactRange(begin, sha256Many);
      const flat = new CompactRange(begin, sha256Many);
      const genericNodes: string[] = [];
      const flatNodes: string[] = [];
      generic.onNode = (n) => { if (n.level >= 2) genericNodes.push(`${n.level}/${n.index}/${hex(n.hash)}`); };
      flat.onNode = (n) => flatNodes.push(`${n.level}/${n.index}/${hex(n.hash)}`);
      flat.onNodeFromLevel = 2;
      for (let at = 0; at < size; ) {
        const take = Math.min(size - at, 1 + Math.floor(random() * 70));
        const batch = leafHashes.slice(at, at + take);
        generic.appendLeafHashes(batch);
        const buffer = asFlat(batch);
        const before = Buffer.from(buffer);
        flat.appendFlatLeafHashes(buffer, take, nodePairHasherFor(backend));
        expect(buffer.equals(before)).toBe(true);
        at += take;
      }
      expect(flat.state(), `${backend}: begin ${begin}, size ${size}`).toEqual(generic.state());
      expect(flatNodes).toEqual(genericNodes);
      if (begin === 0) expect(hex(flat.root())).toBe(hex(rootOfLeafHashesNaive(leafHashes)));
    }
  });

  it('a file with blank lines and lines longer than the read size: on every backend and read size, the same root as the RFC definition', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-merkle-flat-'));
    try {
      const random = mulberry32(62);
      const lines = Array.from({ length: 700 }, (_, i) => (i % 9 === 4 ? '' : i % 97 === 3 ? 'x'.repeat(5000 + i) : `{"n":${i},"pad":"${'y'.repeat(Math.floor(random() * 300))}"}`));
      const file = path.join(dir, 'ledger.jsonl');
      writeFileSync(file, `\n${lines.join('\n')}\n`);
      const leaves = ['', ...lines].map((l) => new TextEncoder().encode(l));
      const expected = hex(rootOfLeafHashesNaive(hashLeaves(leaves, sha256Many)));
      const size = statSync(file).size;
      for (const backend of BACKEND_NAMES) {
        for (const chunkBytes of [64, 4096, 1 << 20]) {
          const tree = compactRangeOfBytes({ file, start: 0, end: size, beginLeaf: 0, maxLeaves: Number.POSITIVE_INFINITY, backend, chunkBytes });
          expect(hex(CompactRange.fromState(tree.state, sha256Many).root()), `${backend}, reads of ${chunkBytes}`).toBe(expected);
          expect(tree.endOffset).toBe(size);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('countLines (the count pass of a parallel tree)', () => {
  it('counts the complete lines of a file and of line-aligned sub-ranges: blank lines yes, a torn tail no', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-count-'));
    try {
      const file = path.join(dir, 'ledger.jsonl');
      writeFileSync(file, `a\n\n${'b'.repeat(3 << 20)}\n\nc\ntorn`);
      const size = statSync(file).size;
      expect(countLines(file)).toBe(5);
      expect(countLines(file, { start: 2, end: size })).toBe(4);
      expect(countLines(file, { start: 0, end: 2 })).toBe(1);
      expect(countLines(file)).toBe(scanLeaves(file, () => {}).leaves);
      expect(() => countLines(path.join(dir, 'missing.jsonl'))).toThrow(expect.objectContaining({ code: 'file-not-found' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function rootOfLeafHashesNaive(leafHashes: readonly Uint8Array[]): Uint8Array {
  return naiveTree(leafHashes, sha256Many)(0, leafHashes.length);
}

describe('a 1,000-entry ledger file', () => {
  // Made in beforeAll, not while collecting: a run that filters these tests out runs no afterAll and would leave the folder.
  let dir: string;
  let ledger: string;
  let lines: Uint8Array[];
  let leafHashes: Uint8Array[];
  let mth: ReturnType<typeof naiveTree>;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'blux-merkle-'));
    ledger = path.join(dir, 'ledger.jsonl');
    writeChainedLines(ledger, 1000);
    lines = [];
    scanLeaves(ledger, (batch) => lines.push(...batch.lines.map((l) => Uint8Array.from(l))));
    leafHashes = hashLeaves(lines, fastSha256Many);
    mth = naiveTree(leafHashes, fastSha256Many);
  });
  afterAll(async () => {
    await closeEnginePool();
    rmSync(dir, { recursive: true, force: true });
  });

  it('consistency proofs between every pair of sizes 1 <= m <= n <= 1000 verify; with the old root of another size they fail', () => {
    let checked = 0;
    for (let n = 1; n <= 1000; n++) {
      const newRoot = mth(0, n);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProofRanges(m, n).map((r) => mth(r.begin, r.end));
        const check = verifyConsistency(m, n, proof, mth(0, m), newRoot, fastSha256Many);
        if (!check.ok) throw new Error(`consistency ${m} -> ${n}: ${check.message}`);
        checked++;
      }
      // A fork: the same proof against a wrong old root is refused (one per new size keeps this fast).
      const m = 1 + ((n * 7919) % n);
      if (m < n) {
        const proof = consistencyProofRanges(m, n).map((r) => mth(r.begin, r.end));
        expect(verifyConsistency(m, n, proof, leafHashes[n - 1]!, newRoot, fastSha256Many).ok).toBe(false);
      }
    }
    expect(checked).toBe((1000 * 1001) / 2);
  });

  it('the streamed root of every 37th prefix equals the reference, on one thread and on 2 workers', async () => {
    for (let size = 0; size <= 1000; size += 37) {
      const head = await ledgerTreeHead(ledger, { treeSize: size, jobs: 1, backend: 'native' });
      expect(hex(head.root), `size ${size}`).toBe(hex(mth(0, size)));
    }
    const whole = await ledgerTreeHead(ledger, { jobs: 1 });
    expect(whole.size).toBe(1000);
    expect(hex(whole.root)).toBe(hex(mth(0, 1000)));
  });

  it('subtreeHashesOfFile gives the proof hashes and the leaf bytes', () => {
    const ranges = inclusionProofRanges(613, 1000);
    const scan = subtreeHashesOfFile(ledger, ranges, { wantLeaves: [613] });
    expect(scan.hashes.map(hex)).toEqual(naivePath(613, 0, 1000, mth).map(hex));
    expect(Buffer.from(scan.leaves.get(613)!).toString()).toBe(Buffer.from(lines[613]!).toString());
    expect(scan.leavesHashed).toBe(999);
  });

  it('a torn last line is not a leaf; a tree size beyond the complete lines is refused', async () => {
    const torn = path.join(dir, 'torn.jsonl');
    writeChainedLines(torn, 10);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(torn, '{"action":"ev');
    const head = await ledgerTreeHead(torn, { jobs: 1 });
    expect(head.size).toBe(10);
    await expect(ledgerTreeHead(torn, { jobs: 1, treeSize: 11 })).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});

describe('tree tiles (saved with checkpoints for fast proofs)', () => {
  it('on 5,000 entries: every tile is the naive subtree hash; inclusion and consistency proofs from tiles equal the naive ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-tiles-'));
    try {
      const ledger = path.join(dir, 'ledger.jsonl');
      writeChainedLines(ledger, 5000);
      const lines: Uint8Array[] = [];
      scanLeaves(ledger, (batch) => lines.push(...batch.lines.map((l) => Uint8Array.from(l))));
      const mth = naiveTree(hashLeaves(lines, fastSha256Many), fastSha256Many);
      for (const size of [5000, 4096, 257, 256, 255, 1]) {
        const state = await ledgerTreeState(ledger, { treeSize: size, jobs: 1, collectTiles: true });
        const tiles = decodeTiles(encodeTiles(state.tiles!), size)!;
        expect(tiles).not.toBeNull();
        tiles.levels.forEach((row, l) => row.forEach((h, i) => expect(hex(h)).toBe(hex(mth(i * 2 ** (l + 8), (i + 1) * 2 ** (l + 8))))));
        for (const leaf of [0, size - 1, Math.floor(size / 3), Math.floor(size / 2)]) {
          const proof = subtreeHashesFromTiles(ledger, tiles, inclusionProofRanges(leaf, size), [leaf]);
          expect(proof.hashes.map(hex), `leaf ${leaf} of ${size}`).toEqual(naivePath(leaf, 0, size, mth).map(hex));
          expect(Buffer.from(proof.leaves.get(leaf)!).equals(Buffer.from(lines[leaf]!))).toBe(true);
          expect(proof.blocksRead).toBeLessThanOrEqual(2);
        }
        if (size > 1) {
          const old = Math.floor(size / 3) || 1;
          const consistency = subtreeHashesFromTiles(ledger, tiles, consistencyProofRanges(old, size), []);
          expect(verifyConsistency(old, size, consistency.hashes, mth(0, old), mth(0, size), sha256Many).ok).toBe(true);
        }
      }
      expect(decodeTiles(encodeTiles((await ledgerTreeState(ledger, { jobs: 1, collectTiles: true })).tiles!), 4999)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the worker pool path', () => {
  it('a 6 MiB ledger: the root on 2 workers equals the one-thread root, for the whole file and a prefix', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-merkle-pool-'));
    try {
      const ledger = path.join(dir, 'ledger.jsonl');
      writeChainedLines(ledger, 22_000);
      for (const treeSize of [undefined, 12_345]) {
        const opts = treeSize === undefined ? {} : { treeSize };
        const one = await ledgerTreeHead(ledger, { ...opts, jobs: 1 });
        const two = await ledgerTreeHead(ledger, { ...opts, jobs: 2 });
        expect(two.size).toBe(treeSize ?? 22_000);
        expect(hex(two.root)).toBe(hex(one.root));
      }
      // Progress: byte counts that grow to the whole file, on 2 workers and on one thread.
      for (const jobs of [1, 2]) {
        const seen: number[] = [];
        await ledgerTreeHead(ledger, { jobs, onProgress: (bytes) => seen.push(bytes) });
        expect(seen.length, `jobs ${jobs}`).toBeGreaterThan(0);
        expect(seen.at(-1)).toBe(statSync(ledger).size);
        expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      }
      // The tiles gathered across workers (and their merges) equal the one-thread tiles.
      const tilesOne = (await ledgerTreeState(ledger, { jobs: 1, collectTiles: true })).tiles!;
      const tilesTwo = (await ledgerTreeState(ledger, { jobs: 2, collectTiles: true })).tiles!;
      expect(Buffer.from(encodeTiles(tilesTwo)).equals(Buffer.from(encodeTiles(tilesOne)))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await closeEnginePool();
    }
  });

  it('slices on the pool with blank lines and lines longer than a slice: the same head as one thread', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-merkle-long-'));
    try {
      const random = mulberry32(4096);
      const lines = Array.from({ length: 3000 }, (_, i) => (i % 11 === 5 ? '' : i % 500 === 7 ? 'z'.repeat(300_000 + i) : `{"n":${i},"pad":"${'p'.repeat(Math.floor(random() * 2000))}"}`));
      const ledger = path.join(dir, 'ledger.jsonl');
      writeFileSync(ledger, `${lines.join('\n')}\n`);
      expect(statSync(ledger).size).toBeGreaterThan(4 * 1024 * 1024); // above the one-thread cut-off
      for (const treeSize of [undefined, 2999, 1500]) {
        const opts = treeSize === undefined ? {} : { treeSize };
        const one = await ledgerTreeHead(ledger, { ...opts, jobs: 1 });
        const pooled = await ledgerTreeHead(ledger, { ...opts, jobs: 2, maxSliceBytes: 64 * 1024 });
        expect(pooled.size).toBe(treeSize ?? 3000);
        expect(hex(pooled.root)).toBe(hex(one.root));
        expect(pooled.endOffset).toBe(one.endOffset);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await closeEnginePool();
    }
  });

  it('tasks capped at a number of leaves (blank-line-heavy ledgers): continuations give the same head, end offset, range and tiles as one thread', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-merkle-capped-'));
    try {
      const random = mulberry32(77);
      // Runs of blank lines (the worst case for leaves per byte) between short entries, and a torn tail.
      const lines = Array.from({ length: 60_000 }, (_, i) => (random() < 0.7 ? '' : `{"n":${i},"pad":"${'p'.repeat(250)}"}`));
      const ledger = path.join(dir, 'ledger.jsonl');
      writeFileSync(ledger, `${lines.join('\n')}\n{"torn":`);
      expect(statSync(ledger).size).toBeGreaterThan(4 * 1024 * 1024); // above the one-thread cut-off
      for (const treeSize of [undefined, 1, 50, 51, 12_345, 59_999]) {
        const opts = treeSize === undefined ? {} : { treeSize };
        const one = await ledgerTreeHead(ledger, { ...opts, jobs: 1 });
        for (const [jobs, maxLeavesPerTask] of [[2, 50], [3, 1000]] as const) {
          const capped = await ledgerTreeHead(ledger, { ...opts, jobs, maxLeavesPerTask, maxSliceBytes: 64 * 1024 });
          const what = `tree size ${treeSize}, jobs ${jobs}, cap ${maxLeavesPerTask}`;
          expect(capped.size, what).toBe(treeSize ?? 60_000);
          expect(hex(capped.root), what).toBe(hex(one.root));
          expect(capped.range, what).toEqual(one.range);
          expect(capped.endOffset, what).toBe(one.endOffset);
        }
      }
      const tilesOne = (await ledgerTreeState(ledger, { jobs: 1, collectTiles: true })).tiles!;
      const tilesCapped = (await ledgerTreeState(ledger, { jobs: 2, maxLeavesPerTask: 300, maxSliceBytes: 64 * 1024, collectTiles: true })).tiles!;
      expect(Buffer.from(encodeTiles(tilesCapped)).equals(Buffer.from(encodeTiles(tilesOne)))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await closeEnginePool();
    }
  }, 120_000);

  it('many small slices (more than the threads hash ahead): the same head, end offset and tiles as one thread, for trees ending anywhere, with a torn tail, on 2 and 3 threads', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-merkle-slices-'));
    try {
      const ledger = path.join(dir, 'ledger.jsonl');
      writeChainedLines(ledger, 22_000);
      // A torn write: an unterminated last line is not a leaf.
      writeFileSync(ledger, '{"torn":', { flag: 'a' });
      const sliceOpts = { maxSliceBytes: 96 * 1024 }; // ~70 slices, ~330 lines each
      for (const treeSize of [undefined, 1, 331, 12_345, 21_999]) {
        const opts = treeSize === undefined ? {} : { treeSize };
        const one = await ledgerTreeHead(ledger, { ...opts, jobs: 1 });
        for (const jobs of [2, 3]) {
          const many = await ledgerTreeHead(ledger, { ...opts, ...sliceOpts, jobs });
          expect(many.size, `tree size ${treeSize}, jobs ${jobs}`).toBe(treeSize ?? 22_000);
          expect(hex(many.root)).toBe(hex(one.root));
          expect(many.range).toEqual(one.range);
          expect(many.endOffset).toBe(one.endOffset);
        }
      }
      const tilesOne = (await ledgerTreeState(ledger, { jobs: 1, collectTiles: true })).tiles!;
      const tilesMany = (await ledgerTreeState(ledger, { ...sliceOpts, jobs: 2, collectTiles: true })).tiles!;
      expect(Buffer.from(encodeTiles(tilesMany)).equals(Buffer.from(encodeTiles(tilesOne)))).toBe(true);
      // A tree larger than the ledger is refused on both paths, naming the file.
      for (const jobs of [1, 2]) {
        const error = await rejection(ledgerTreeHead(ledger, { ...sliceOpts, jobs, treeSize: 22_001 }));
        expect(error.code).toBe('invalid-argument');
        expect(error.file).toBe(ledger);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await closeEnginePool();
    }
  });
});
