/**
 * The ledger under real concurrency and real crashes: separate processes
 * (tests/helpers/ledger-appender.mjs, running the compiled library in dist/)
 * appending to one ledger at once, and appenders killed with SIGKILL at random
 * moments. `npm test` builds dist/ first; when running this file alone, run
 * `npx tsc -p tsconfig.json` before.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyLedgerChain } from '../src/audit/verify-chain.js';
import { appendLedgerEntry, repairLedger } from '../src/store/ledger-file.js';
import { assertFreshBuild, startNode } from './helpers/processes.js';
import { mulberry32 } from './helpers/random.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APPENDER = path.join(ROOT, 'tests', 'helpers', 'ledger-appender.mjs');

let scratch: string;
beforeAll(async () => {
  assertFreshBuild(['src/store/ledger-file.ts', 'src/formats/ledger-entry.ts', 'src/store/file-lock.ts']);
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'blux-ledger-concurrency-'));
});
afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

interface Appender {
  /** Resolves once the child has loaded the library and is about to append. */
  ready: Promise<void>;
  /** Resolves when the child is gone and its stdout fully read: the hashes it reported, in order. */
  finished: Promise<{ hashes: string[]; code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(): void;
}

function startAppender(ledger: string, count: number | 'forever', actor: string): Appender {
  const { child, marked, closed } = startNode([APPENDER, ledger, String(count), actor], 'ready\n', { stdio: ['ignore', 'pipe', 'pipe'] });
  const finished = closed.then(({ code, signal, stdout, stderr }) => {
    // Only whole lines count: a hash cut off by the kill was never fully reported.
    const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
    const hashes = complete.split('\n').filter((line) => /^[0-9a-f]{64}$/.test(line));
    return { hashes, code, signal, stderr };
  });
  return { ready: marked, finished, kill: () => child.kill('SIGKILL') };
}

/** Every entry_hash in the ledger, skipping blank lines and an unparseable (torn) last line. */
async function hashesInLedger(ledger: string): Promise<Set<string>> {
  const hashes = new Set<string>();
  for (const line of (await fs.readFile(ledger, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    try {
      hashes.add((JSON.parse(line) as { entry_hash: string }).entry_hash);
    } catch {
      // torn tail: checked separately
    }
  }
  return hashes;
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ledger across processes', () => {
  it('16 processes x 200 appends at once give one valid chain of 3,200 entries', async () => {
    const ledger = path.join(scratch, 'parallel', 'ledger.jsonl');
    const appenders = Array.from({ length: 16 }, (_, i) => startAppender(ledger, 200, `proc-${i}`));
    const results = await Promise.all(appenders.map((a) => a.finished));
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });

    const reported = results.flatMap((r) => r.hashes);
    expect(reported.length).toBe(3200);
    const audit = await verifyLedgerChain(ledger);
    expect(audit).toMatchObject({ status: 'valid', entries: 3200, torn_last_line: false });
    for (let i = 0; i < 16; i++) expect(audit.actors[`proc-${i}`]).toBe(200);
    const inLedger = await hashesInLedger(ledger);
    expect(inLedger.size).toBe(3200);
    for (const hash of reported) expect(inLedger.has(hash)).toBe(true);
  }, 55_000);

  it('survives appenders killed with SIGKILL at random moments: no lost append, at worst a repairable torn tail', async () => {
    const ITERATIONS = 50;
    const random = mulberry32(0x1ed6e5);
    const ledger = path.join(scratch, 'killed', 'ledger.jsonl');
    const confirmed: string[] = [];
    let repairs = 0;

    for (let i = 0; i < ITERATIONS; i++) {
      const delay = 5 + Math.floor(random() * 56); // 5..60 ms
      const appender = startAppender(ledger, 'forever', `victim-${i}`);
      await appender.ready; // the delay is meant to land in the appending, not in Node's start-up
      await sleep(delay);
      appender.kill();
      const { hashes, signal } = await appender.finished;
      expect(signal, `iteration ${i}`).toBe('SIGKILL');
      confirmed.push(...hashes);

      let audit = await verifyLedgerChain(ledger);
      if (audit.status === 'invalid') {
        // The only acceptable damage is the line the kill interrupted.
        expect(audit, `iteration ${i} (delay ${delay} ms)`).toMatchObject({ reason: 'malformed-line', torn_last_line: true });
        const repair = await repairLedger(ledger);
        expect(repair.repaired).toBe(true);
        repairs++;
        audit = await verifyLedgerChain(ledger);
      }
      expect(audit.status, `iteration ${i} (delay ${delay} ms): ${audit.detail ?? ''}`).toBe('valid');

      const inLedger = await hashesInLedger(ledger);
      for (const hash of hashes) expect(inLedger.has(hash), `iteration ${i}: reported ${hash} missing`).toBe(true);
    }

    // The kills must have hit a working appender, or the test proves nothing.
    expect(confirmed.length).toBeGreaterThan(ITERATIONS);
    const final = await verifyLedgerChain(ledger);
    expect(final.status).toBe('valid');
    expect(final.entries).toBeGreaterThanOrEqual(confirmed.length);
    // A kill between the write and the print leaves one unreported entry; more would mean a stray write.
    expect(final.entries - confirmed.length).toBeLessThanOrEqual(ITERATIONS);
    void repairs; // torn tails are rare with small lines (the kernel finishes most writes); both paths are allowed
  }, 55_000);

  it('reports a hand-made torn tail as malformed-line with torn_last_line, and repairs it', async () => {
    const ledger = path.join(scratch, 'hand-torn', 'ledger.jsonl');
    for (let i = 0; i < 5; i++) await appendLedgerEntry(ledger, { action: 'event', actor: 'me', payload_summary: `n${i}` });
    const healthy = await fs.readFile(ledger);
    const lastLineStart = healthy.lastIndexOf(0x0a, healthy.length - 2) + 1;
    const lastLine = healthy.subarray(lastLineStart);
    // Half of a line, no newline: what a crash in the middle of a write leaves.
    await fs.appendFile(ledger, lastLine.subarray(0, Math.floor(lastLine.length / 2)));

    const torn = await verifyLedgerChain(ledger);
    expect(torn).toMatchObject({ status: 'invalid', reason: 'malformed-line', first_bad_line: 6, torn_last_line: true, entries: 5 });

    const repair = await repairLedger(ledger);
    expect(repair).toMatchObject({ repaired: true, removedBytes: Math.floor(lastLine.length / 2), newlineAdded: false });
    expect(repair.backup).not.toBeNull();
    expect((await fs.readFile(ledger)).equals(healthy)).toBe(true);
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 5, torn_last_line: false });
  });
});
