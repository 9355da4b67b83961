/**
 * The RFC 6962 Merkle tree over ledger lines (`transparency/`): the root of
 * 4,096 leaves and inclusion-proof verification per backend, each against the
 * same SHA-256 work done one node:crypto hash at a time (a power-of-two tree
 * is plain pairwise levels, so the reference needs no tree code); and end to
 * end, the tree head of a generated ledger file against sha256sum of it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { BluxError } from '../../errors.js';
import { readyBackends } from '../backends.js';
import {
  LEAF_HASH_PREFIX, NODE_HASH_PREFIX, hashLeaves, inclusionProofRanges, rootOfLeafHashes, verifyInclusion,
} from '../../transparency/merkle.js';
import { engineSha256Many, ledgerTreeHead } from '../../transparency/ledger-tree.js';
import { SCENARIO_SIZES } from '../scenario-sizes.js';
import { fileHashReference } from '../tools.js';
import type { BenchCase, BenchSuite } from '../types.js';
import { ledgerLines, writeLedger } from './documents.js';

/** A power of two, so that the reference's pairwise levels are the RFC tree. */
const TREE_LEAVES = 4096;
/** Inclusion proofs verified per timed operation. */
const PROOFS = 256;
const LEDGER_FILE = 'ledger.jsonl';

function nodeCryptoSha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const LEAF_PREFIX = Uint8Array.of(LEAF_HASH_PREFIX);
const NODE_PREFIX = Uint8Array.of(NODE_HASH_PREFIX);

/** The root by pairwise levels, one node:crypto hash per node (valid for a power-of-two leaf count). */
function referenceRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const levels = subtreeLevels(leaves.map((leaf) => nodeCryptoSha256(LEAF_PREFIX, leaf)));
  return levels[levels.length - 1]![0]!;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** levels[k][j]: the hash of the j-th perfect subtree of 2^k leaves (a power-of-two tree has no others). */
function subtreeLevels(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  const levels = [leafHashes.slice()];
  for (let level = levels[0]!; level.length > 1; levels.push(level)) {
    const below = level;
    level = [];
    for (let i = 0; i < below.length; i += 2) level.push(nodeCryptoSha256(NODE_PREFIX, below[i]!, below[i + 1]!));
  }
  return levels;
}

/** Proofs of PROOFS leaves spread over the tree: each proof range is an aligned perfect subtree, read off the levels. */
function inclusionProofs(leafHashes: readonly Uint8Array[]) {
  const levels = subtreeLevels(leafHashes);
  return Array.from({ length: PROOFS }, (_, i) => {
    const index = Math.floor((i * leafHashes.length) / PROOFS) + (i % 7);
    const proof = inclusionProofRanges(index, leafHashes.length).map((r) => {
      const height = Math.log2(r.end - r.begin);
      return levels[height]![r.begin >> height]!;
    });
    return { index, leafHash: leafHashes[index]!, proof };
  });
}

export const merkleSuite: BenchSuite = {
  id: 'merkle',
  title: 'Merkle tree (RFC 6962)',
  async prepare(ctx) {
    const encoder = new TextEncoder();
    const leaves = ledgerLines(TREE_LEAVES).map((line) => encoder.encode(line.slice(0, -1)));
    const expectedRoot = referenceRoot(leaves);
    const leafHashes = hashLeaves(leaves, engineSha256Many({ backend: 'native' }));
    const proofs = inclusionProofs(leafHashes);

    const rootOn = (backend: string) => {
      const sha = engineSha256Many({ backend });
      return (): Uint8Array => {
        const root = rootOfLeafHashes(hashLeaves(leaves, sha), sha);
        if (!sameBytes(root, expectedRoot)) throw new BluxError('internal', `bench: Merkle root on ${backend} differs from the reference`);
        return root;
      };
    };
    const verifyOn = (backend: string) => {
      const sha = engineSha256Many({ backend });
      return (): number => {
        for (const p of proofs) {
          const check = verifyInclusion(p.index, TREE_LEAVES, p.leafHash, p.proof, expectedRoot, sha);
          if (!check.ok) throw new BluxError('internal', `bench: inclusion proof of leaf ${p.index} rejected on ${backend}: ${check.message}`);
        }
        return proofs.length;
      };
    };
    // The hash work of a proof check alone: one node hash per proof step.
    const referenceProofs = (): number => {
      let n = 0;
      for (const p of proofs) {
        let hash = p.leafHash;
        for (const sibling of p.proof) hash = nodeCryptoSha256(NODE_PREFIX, hash, sibling);
        n += hash[0]!;
      }
      return n;
    };

    const backends = await readyBackends();
    const entries = SCENARIO_SIZES[ctx.settings.size].ledgerEntries;
    const dir = path.join(ctx.workDir, 'merkle');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LEDGER_FILE);
    writeLedger(file, entries);
    const headOn = (backend: string) => async (): Promise<void> => {
      const head = await ledgerTreeHead(file, { backend });
      if (head.size !== entries) throw new BluxError('internal', `bench: tree head covers ${head.size} of ${entries} lines`);
    };

    const cases: BenchCase[] = [
      {
        id: 'merkle/root',
        title: `Merkle root of ${TREE_LEAVES.toLocaleString('en-US')} ledger lines`,
        unit: 'leaf',
        unitsPerOp: TREE_LEAVES,
        reference: { backend: 'reference', label: 'node:crypto, one hash per node', fn: () => referenceRoot(leaves) },
        variants: backends.map(({ name, label }) => ({ backend: name, label, fn: rootOn(name) })),
      },
      {
        id: 'merkle/inclusion',
        title: `Merkle inclusion proofs (tree of ${TREE_LEAVES.toLocaleString('en-US')})`,
        unit: 'proof',
        unitsPerOp: PROOFS,
        reference: { backend: 'reference', label: 'node:crypto, one hash per proof step', fn: referenceProofs },
        variants: backends.map(({ name, label }) => ({ backend: name, label, fn: verifyOn(name) })),
      },
      {
        id: 'merkle/ledger-head',
        title: `Ledger tree head, ${entries.toLocaleString('en-US')} entries`,
        unit: 'line',
        unitsPerOp: entries,
        heavy: true,
        reference: fileHashReference(ctx.tools, dir, [LEDGER_FILE]),
        variants: backends.map(({ name, label }) => ({ backend: name, label: `ledgerTreeHead --backend ${label}`, fn: headOn(name) })),
      },
    ];
    return { cases };
  },
};
