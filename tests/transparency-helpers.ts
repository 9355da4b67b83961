// Test helpers for the transparency tests: valid chained ledger lines written directly
// (a million locked appends would take minutes), and the engine's batch SHA-256.
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';

import { getBackend } from '../src/engine/index.js';

export const sha256Many = (items: readonly Uint8Array[]): Uint8Array[] => getBackend('native').sha256Many(items);

export interface ChainTail {
  count: number;
  lastHash: string | null;
}

/**
 * Appends `count` event entries chained onto `tail`, in the Python-canonical form the ledger writer
 * uses (sorted keys, no spaces), entry_hash = SHA-256 of the entry without entry_hash. Keys are
 * spelled out in sorted order: "entry_hash" sorts between "artifact_hash" and "manifest_hash".
 */
export function writeChainedLines(file: string, count: number, tail: ChainTail = { count: 0, lastHash: null }, fresh = tail.count === 0): ChainTail {
  let prev = tail.lastHash;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = tail.count + i;
    const prevJson = prev === null ? 'null' : `"${prev}"`;
    const head = `{"action":"event","actor":"tester","artifact_hash":null,`;
    const rest = `"manifest_hash":null,"payload_summary":"event ${n}","prev_hash":${prevJson},"ts":"2026-01-01T00:00:00+00:00"}`;
    const entryHash = createHash('sha256').update(head + rest).digest('hex');
    parts.push(`${head}"entry_hash":"${entryHash}",${rest}\n`);
    prev = entryHash;
  }
  const text = parts.join('');
  if (fresh) writeFileSync(file, text);
  else appendFileSync(file, text);
  return { count: tail.count + count, lastHash: prev };
}
