// RFC 6962 / RFC 9162 vectors (tests/vectors/rfc6962-merkle, see SOURCE.md): reference roots 0..8,
// node hashes, hasher vectors, and every inclusion and consistency probe through the library.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { getBackend } from '../src/engine/index.js';
import {
  CompactRange,
  consistencyProofRanges,
  emptyTreeHash,
  hashChildren,
  hashLeaves,
  inclusionProofRanges,
  verifyConsistency,
  verifyInclusion,
} from '../src/transparency/merkle.js';

const DIR = path.join(import.meta.dirname, 'vectors/rfc6962-merkle');
const sha256Many = (items: readonly Uint8Array[]): Uint8Array[] => getBackend('native').sha256Many(items);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const fromB64 = (b: string | null | undefined): Uint8Array => new Uint8Array(Buffer.from(b ?? '', 'base64'));

interface ReferenceTree {
  leafInputs: string[];
  nodeHashes: { levels: string[][] };
  rootHashes: { bySize: string[] };
  hasherVectors: { operation: string; leafHex?: string; leftHex?: string; rightHex?: string; want: string }[];
}
const reference = JSON.parse(readFileSync(path.join(DIR, 'reference-tree.json'), 'utf8')) as ReferenceTree;
const leaves = reference.leafInputs.map(fromHex);
const leafHashes = hashLeaves(leaves, sha256Many);

function probeFiles(kind: 'inclusion' | 'consistency'): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.json')) out.push(full);
    }
  };
  walk(path.join(DIR, kind));
  return out;
}

/** MTH(D[begin:end]) of the reference leaves, through a compact range (the library's own path). */
function subtreeHash(begin: number, end: number): Uint8Array {
  const range = new CompactRange(begin, sha256Many);
  range.appendLeafHashes(leafHashes.slice(begin, end));
  return range.fold();
}

describe('RFC 6962 reference tree', () => {
  it('hasher vectors: empty tree, leaf hashes, node hash', () => {
    for (const v of reference.hasherVectors) {
      const got =
        v.operation === 'emptyRoot' ? emptyTreeHash(sha256Many)
        : v.operation === 'hashLeaf' ? hashLeaves([fromHex(v.leafHex!)], sha256Many)[0]!
        : hashChildren(fromHex(v.leftHex!), fromHex(v.rightHex!), sha256Many);
      expect(hex(got), v.operation).toBe(v.want);
    }
  });

  it('roots of sizes 0..8 by appending one leaf at a time and in one batch', () => {
    reference.rootHashes.bySize.forEach((want, size) => {
      const batch = new CompactRange(0, sha256Many);
      batch.appendLeafHashes(leafHashes.slice(0, size));
      expect(hex(batch.root()), `size ${size}`).toBe(want);
      const oneByOne = new CompactRange(0, sha256Many);
      for (const h of leafHashes.slice(0, size)) oneByOne.appendLeafHashes([h]);
      expect(hex(oneByOne.root())).toBe(want);
    });
  });

  it('roots of sizes 0..8 from every split into two merged ranges', () => {
    reference.rootHashes.bySize.forEach((want, size) => {
      for (let cut = 0; cut <= size; cut++) {
        const left = new CompactRange(0, sha256Many);
        left.appendLeafHashes(leafHashes.slice(0, cut));
        const right = new CompactRange(cut, sha256Many);
        right.appendLeafHashes(leafHashes.slice(cut, size));
        left.merge(right.state());
        expect(hex(left.root()), `size ${size} cut ${cut}`).toBe(want);
      }
    });
  });

  it('every complete subtree hash of the 8-leaf tree', () => {
    reference.nodeHashes.levels.forEach((level, l) => {
      level.forEach((want, i) => expect(hex(subtreeHash(i * 2 ** l, (i + 1) * 2 ** l))).toBe(want));
    });
  });
});

describe('inclusion probes', () => {
  const files = probeFiles('inclusion');
  it('has all 98 probe files', () => expect(files).toHaveLength(98));
  it.each(files.map((f) => [path.relative(DIR, f), f]))('%s', (_name, file) => {
    const p = JSON.parse(readFileSync(file, 'utf8')) as { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; wantErr: boolean };
    const check = verifyInclusion(p.leafIdx, p.treeSize, fromB64(p.leafHash), (p.proof ?? []).map(fromB64), fromB64(p.root), sha256Many);
    expect(check.ok).toBe(!p.wantErr);
  });
});

describe('consistency probes', () => {
  const files = probeFiles('consistency');
  it('has all 98 probe files', () => expect(files).toHaveLength(98));
  it.each(files.map((f) => [path.relative(DIR, f), f]))('%s', (_name, file) => {
    const p = JSON.parse(readFileSync(file, 'utf8')) as { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; wantErr: boolean };
    const check = verifyConsistency(p.size1, p.size2, (p.proof ?? []).map(fromB64), fromB64(p.root1), fromB64(p.root2), sha256Many);
    expect(check.ok).toBe(!p.wantErr);
  });
});

describe('proof generation reproduces the happy paths', () => {
  it('inclusion proofs', () => {
    for (const file of probeFiles('inclusion').filter((f) => /\/\d\/happy-path\.json$/.test(f))) {
      const p = JSON.parse(readFileSync(file, 'utf8')) as { leafIdx: number; treeSize: number; proof: string[] | null };
      const proof = inclusionProofRanges(p.leafIdx, p.treeSize).map((r) => Buffer.from(subtreeHash(r.begin, r.end)).toString('base64'));
      expect(proof, file).toEqual(p.proof ?? []);
    }
  });
  it('consistency proofs', () => {
    for (const file of probeFiles('consistency').filter((f) => /\/\d\/happy-path\.json$/.test(f))) {
      const p = JSON.parse(readFileSync(file, 'utf8')) as { size1: number; size2: number; proof: string[] | null };
      const proof = consistencyProofRanges(p.size1, p.size2).map((r) => Buffer.from(subtreeHash(r.begin, r.end)).toString('base64'));
      expect(proof, file).toEqual(p.proof ?? []);
    }
  });
});
