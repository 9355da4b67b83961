/**
 * Shared and exclusive locks (src/store/file-lock.ts), and the ledger readers
 * that take the shared one. A second process holds the lock where it matters:
 * it runs the compiled library (dist/), so `npm run build` first when running
 * this file alone.
 */
import fs from 'node:fs/promises';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyLedgerChain } from '../src/audit/verify-chain.js';
import { appendLedgerEntry, ledgerLockPath, openLedgerLines, readLedgerTail } from '../src/store/ledger-file.js';
import { withExclusiveLock, withSharedLock } from '../src/store/file-lock.js';
import { startNode } from './helpers/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILT_LOCK = path.join(ROOT, 'dist/store/file-lock.js');
const FIXTURE_LEDGER = path.join(ROOT, 'tests/fixtures/seed-v0.2/config/trust/ledger.jsonl');

let scratch: string;
beforeAll(async () => {
  const built = statSync(BUILT_LOCK, { throwIfNoEntry: false });
  if (built === undefined || statSync(path.join(ROOT, 'src/store/file-lock.ts')).mtimeMs > built.mtimeMs) {
    throw new Error('dist/store/file-lock.js is missing or stale: run `npm run build`');
  }
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'blux-file-lock-'));
});
afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

let copies = 0;
async function scratchLedger(): Promise<string> {
  const dir = path.join(scratch, `case-${++copies}`);
  await fs.mkdir(dir);
  const ledger = path.join(dir, 'ledger.jsonl');
  await fs.copyFile(FIXTURE_LEDGER, ledger);
  return ledger;
}

/**
 * Another process holding a lock on `lockPath`. With `halves`, it appends the
 * first half to `file` while holding the lock (an append in progress), then
 * the second half when released.
 */
function lockHolder(lockPath: string, mode: 'shared' | 'exclusive', halves?: { file: string; first: string; second: string }) {
  const script = `
    import fs from 'node:fs';
    const { withExclusiveLock, withSharedLock } = await import(${JSON.stringify(pathToFileURL(BUILT_LOCK).href)});
    const [lockPath, mode, file, first, second] = process.argv.slice(1);
    const lock = mode === 'shared' ? withSharedLock : withExclusiveLock;
    await lock(lockPath, async () => {
      if (file) fs.appendFileSync(file, first);
      process.stdout.write('holding\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      if (file) fs.appendFileSync(file, second);
    });
    process.stdout.write('released\\n');
  `;
  const args = halves === undefined ? [] : [halves.file, halves.first, halves.second];
  const { child, marked, closed } = startNode(['--input-type=module', '-e', script, lockPath, mode, ...args], 'holding\n');
  return { holding: marked, exited: closed.then((r) => r.code), release: () => child.stdin?.end('go\n') };
}

/** Whether `promise` is still pending after `ms`. */
async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = Symbol('pending');
  return (await Promise.race([promise.then(() => null, () => null), new Promise((r) => setTimeout(() => r(timeout), ms))])) === timeout;
}

/** The next line the fixture ledger would get, split in two as a crash (or a slow write) could leave it. */
async function nextLineHalves(ledger: string): Promise<{ first: string; second: string; hash: string }> {
  const probe = path.join(path.dirname(ledger), 'probe.jsonl');
  await fs.copyFile(ledger, probe);
  const entry = await appendLedgerEntry(probe, { action: 'event', actor: 'slow-writer', payload_summary: 'half now, half later' });
  const text = await fs.readFile(probe, 'utf8');
  const line = text.slice((await fs.readFile(ledger, 'utf8')).length);
  return { first: line.slice(0, 40), second: line.slice(40), hash: entry.entry_hash };
}

describe('withSharedLock / withExclusiveLock', () => {
  it('readers share; a writer waits for them', async () => {
    const lockPath = path.join(scratch, 'shared.lock');
    await fs.writeFile(lockPath, '');
    const other = lockHolder(lockPath, 'shared');
    await other.holding;
    expect(await withSharedLock(lockPath, async () => 'in')).toBe('in');
    const writer = withExclusiveLock(lockPath, async () => 'written');
    expect(await stillPending(writer, 300)).toBe(true);
    other.release();
    expect(await writer).toBe('written');
    expect(await other.exited).toBe(0);
  });

  it('a reader never creates the lock file', async () => {
    const lockPath = path.join(scratch, 'absent.lock');
    expect(await withSharedLock(lockPath, async () => 'read unlocked')).toBe('read unlocked');
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('ledger readers', () => {
  it('the tail waits for an append in progress, then sees its whole line', async () => {
    const ledger = await scratchLedger();
    const { first, second, hash } = await nextLineHalves(ledger);
    const writer = lockHolder(ledgerLockPath(ledger), 'exclusive', { file: ledger, first, second });
    await writer.holding;
    const tail = readLedgerTail(ledger, 1);
    expect(await stillPending(tail, 300)).toBe(true);
    writer.release();
    expect((await tail)[0]?.get('entry_hash')).toBe(hash);
    expect(await writer.exited).toBe(0);
  });

  it('the audit waits for an append in progress instead of calling it a torn line', async () => {
    const ledger = await scratchLedger();
    const { first, second, hash } = await nextLineHalves(ledger);
    const writer = lockHolder(ledgerLockPath(ledger), 'exclusive', { file: ledger, first, second });
    await writer.holding;
    const audit = verifyLedgerChain(ledger);
    expect(await stillPending(audit, 300)).toBe(true);
    writer.release();
    expect(await audit).toMatchObject({ status: 'valid', torn_last_line: false, last_hash: hash, entries: 16 });
    expect(await writer.exited).toBe(0);
  });

  it('the audit holds the lock only to note the size: appends proceed meanwhile and are not read', { timeout: 10_000 }, async () => {
    const ledger = await scratchLedger();
    await fs.writeFile(ledgerLockPath(ledger), ''); // as any earlier append leaves it
    const seen: number[] = [];
    for await (const line of openLedgerLines(ledger, { chunkSize: 64 })) {
      // Would never finish if the reader still held its shared lock.
      if (line.lineNumber === 1) await appendLedgerEntry(ledger, { action: 'event', actor: 'meanwhile', payload_summary: null });
      seen.push(line.lineNumber);
    }
    expect(seen).toHaveLength(15);
    expect((await verifyLedgerChain(ledger)).entries).toBe(16);
  });

  it('do not create a lock file, for a missing ledger or one no writer has touched', async () => {
    const missing = path.join(scratch, 'nowhere', 'ledger.jsonl');
    await expect(readLedgerTail(missing, 1)).rejects.toMatchObject({ code: 'file-not-found' });
    await expect(verifyLedgerChain(missing)).rejects.toMatchObject({ code: 'file-not-found' });
    await expect(fs.stat(path.dirname(missing))).rejects.toMatchObject({ code: 'ENOENT' });

    const ledger = await scratchLedger();
    expect(await readLedgerTail(ledger, 2)).toHaveLength(2);
    expect((await verifyLedgerChain(ledger)).status).toBe('valid');
    await expect(fs.stat(ledgerLockPath(ledger))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('loading the lock addon', () => {
  it('loads fs-native-extensions only once a lock file is opened (a reader that finds none does not pay for it)', async () => {
    const lockPath = path.join(scratch, `lazy-${++copies}.lock`);
    const script = `
      import { createRequire } from 'node:module';
      const { withExclusiveLock, withSharedLock } = await import(${JSON.stringify(pathToFileURL(BUILT_LOCK).href)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('fs-native-extensions'));
      const [lockPath] = process.argv.slice(1);
      const seen = [loaded()];
      await withSharedLock(lockPath, async () => undefined);
      seen.push(loaded());
      await withExclusiveLock(lockPath, async () => undefined);
      seen.push(loaded());
      process.stdout.write(JSON.stringify(seen) + '\\n');
    `;
    const { closed } = startNode(['--input-type=module', '-e', script, lockPath], '\n');
    const { code, stdout, stderr } = await closed;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // No lock file: the shared lock reads unlocked without the addon; the exclusive lock creates the file and needs it.
    expect(JSON.parse(stdout)).toEqual([false, false, true]);
  });
});
