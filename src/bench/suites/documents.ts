/**
 * Generated documents shared by the suites: ledger entries chained the way the
 * writer chains them, and manifest-shaped objects. Deterministic apart from
 * the hashes they carry, so runs measure the same shapes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

import { buildLedgerEntry, serializeLedgerLine, type LedgerEntry } from '../../formats/ledger-entry.js';
import type { PlainJson } from '../../formats/ledger-entry.js';

const ACTIONS = ['sign', 'revoke-token', 'keygen', 'issue-token'] as const;
const BASE_TIME_MS = Date.UTC(2026, 0, 1);

function hexOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `count` chained ledger entries; entry i is one second after entry i-1. */
export function* ledgerEntries(count: number): Generator<LedgerEntry> {
  let prev: string | null = null;
  for (let i = 0; i < count; i++) {
    const ts = `${new Date(BASE_TIME_MS + i * 1000).toISOString().slice(0, 19)}+00:00`;
    const entry = buildLedgerEntry({
      action: ACTIONS[i % ACTIONS.length]!,
      actor: hexOf(`actor-${i % 7}`).slice(0, 16),
      payload_summary: `artifact-${i}.tar.gz`,
      artifact_hash: hexOf(`artifact-${i}`),
      manifest_hash: hexOf(`manifest-${i}`),
    }, prev, ts);
    prev = entry.entry_hash;
    yield entry;
  }
}

/** The ledger file's text: `count` canonical lines. */
export function ledgerLines(count: number): string[] {
  return Array.from(ledgerEntries(count), serializeLedgerLine);
}

/** A 2.0 manifest as plain JSON: artifact facts, metadata with non-ASCII text and numbers, one signature. */
export function manifestLike(i: number): { [key: string]: PlainJson } {
  return {
    schema_version: '2.0',
    artifact: { path: `release/pkg-${i}/artifact-${i}.tar.gz`, size: 1048576 + i, sha256: hexOf(`artifact-${i}`) },
    created_at: '2026-01-01T00:00:00Z',
    metadata: { name: `paquet-${i}`, version: `1.${i % 10}.0`, description: 'Ünïcödé — release ✓', build: { number: i, ratio: 0.25, flags: [true, false, null] } },
    signatures: [{ key_fingerprint: hexOf(`key-${i % 3}`).slice(0, 16), signed_at: '2026-01-01T00:00:00Z', signature: 'A'.repeat(86) + '==' }],
  };
}

/** Lines per write while generating a ledger file: bounded memory for the 1,000,000-entry ledger. */
const WRITE_BATCH = 5000;

/** Writes a ledger file of `count` chained entries. */
export function writeLedger(file: string, count: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    let pending: string[] = [];
    for (const entry of ledgerEntries(count)) {
      pending.push(serializeLedgerLine(entry));
      if (pending.length === WRITE_BATCH) {
        fs.writeSync(fd, pending.join(''));
        pending = [];
      }
    }
    if (pending.length > 0) fs.writeSync(fd, pending.join(''));
  } finally {
    fs.closeSync(fd);
  }
}
