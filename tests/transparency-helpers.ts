// Test helpers for the transparency tests: valid chained ledger lines written directly
// (a million locked appends would take minutes), and the engine's batch SHA-256.
import { hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

import { getBackend } from '../src/engine/index.js';

export const sha256Many = (items: readonly Uint8Array[]): Uint8Array[] => getBackend('native').sha256Many(items);

export interface ChainTail {
  count: number;
  lastHash: string | null;
}

/** Lines per write: big writes, no giant string. */
const LINES_PER_WRITE = 20_000;

/**
 * Appends `count` event entries chained onto `tail`, in the Python-canonical form the ledger writer
 * uses (sorted keys, no spaces), entry_hash = SHA-256 of the entry without entry_hash. Keys are
 * spelled out in sorted order: "entry_hash" sorts between "artifact_hash" and "manifest_hash".
 */
export function writeChainedLines(file: string, count: number, tail: ChainTail = { count: 0, lastHash: null }, fresh = tail.count === 0): ChainTail {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, fresh ? 'w' : 'a');
  let prev = tail.lastHash;
  try {
    for (let done = 0; done < count; ) {
      const parts: string[] = [];
      const stop = Math.min(count, done + LINES_PER_WRITE);
      for (; done < stop; done++) {
        const prevJson = prev === null ? 'null' : `"${prev}"`;
        const head = `{"action":"event","actor":"tester","artifact_hash":null,`;
        const rest = `"manifest_hash":null,"payload_summary":"event ${tail.count + done}","prev_hash":${prevJson},"ts":"2026-01-01T00:00:00+00:00"}`;
        const entryHash = hash('sha256', head + rest, 'hex');
        parts.push(`${head}"entry_hash":"${entryHash}",${rest}\n`);
        prev = entryHash;
      }
      writeSync(fd, parts.join(''));
    }
  } finally {
    closeSync(fd);
  }
  return { count: tail.count + count, lastHash: prev };
}
