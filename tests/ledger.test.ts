/**
 * The hash-chained ledger: the Python 0.2 fixtures (format compatibility and
 * every tampering case), append / tail / repair on copies in a temp folder
 * (never in tests/fixtures), and the streaming audit.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyLedgerChain } from '../src/audit/verify-chain.js';
import { parseJson, type JsonObject } from '../src/formats/canonical/json-value.js';
import {
  buildLedgerEntry,
  checkLedgerLine,
  formatLedgerTimestamp,
  serializeLedgerLine,
} from '../src/formats/ledger-entry.js';
import { appendLedgerEntry, ledgerLockPath, openLedgerLines, readLedgerTail, repairLedger } from '../src/store/ledger-file.js';

const SEED = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'seed-v0.2');
const FIXTURE_LEDGER = path.join(SEED, 'config', 'trust', 'ledger.jsonl');

interface LedgerCase {
  file: string;
  expected: 'valid' | 'invalid';
  reason: string;
  first_bad_line: number | null;
  entries?: number;
  last_hash?: string;
  actions?: string[];
  note: string;
}

const expectedJson = JSON.parse(await fs.readFile(path.join(SEED, 'expected.json'), 'utf8')) as { ledgers: LedgerCase[] };
const ledgerCases = expectedJson.ledgers;

let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'blux-ledger-test-'));
});
afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

let copies = 0;
/** A private copy of a fixture ledger (or of given text) in the scratch folder. */
async function scratchLedger(source: string | { text: string | Buffer }): Promise<string> {
  const dir = path.join(scratch, `case-${++copies}`);
  await fs.mkdir(dir, { recursive: true });
  const target = path.join(dir, 'ledger.jsonl');
  if (typeof source === 'string') await fs.copyFile(source, target);
  else await fs.writeFile(target, source.text);
  return target;
}

function lineHashes(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { entry_hash: string }).entry_hash);
}

function countOf(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

async function expectBluxError(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'BluxError', code });
}

describe('ledger fixtures from the Python original', () => {
  it('has ledger cases to check', () => {
    expect(ledgerCases.length).toBeGreaterThanOrEqual(8);
  });

  // A tiny chunk size forces lines across chunk boundaries through the same checks.
  describe.each([{ chunkSize: undefined }, { chunkSize: 7 }])('read in chunks of $chunkSize', ({ chunkSize }) => {
    it.each(ledgerCases)('$file: $reason at line $first_bad_line ($note)', async (c) => {
      const result = await verifyLedgerChain(path.join(SEED, c.file), chunkSize === undefined ? {} : { chunkSize });
      expect(result.status).toBe(c.expected);
      expect(result.reason).toBe(c.reason);
      expect(result.first_bad_line).toBe(c.first_bad_line);
      if (c.expected === 'valid') {
        expect(result.entries).toBe(c.entries);
        expect(result.last_hash).toBe(c.last_hash);
        expect(result.actions).toEqual(countOf(c.actions ?? []));
        expect(result.detail).toBeUndefined();
      } else {
        expect(result.detail).toEqual(expect.any(String));
        // The intact prefix is what the report counts.
        expect(result.entries).toBeLessThan(c.first_bad_line ?? 0);
      }
    });
  });

  it('reports a torn last line as malformed-line with torn_last_line', async () => {
    const result = await verifyLedgerChain(path.join(SEED, 'ledgers', 'torn-last-line.jsonl'));
    expect(result).toMatchObject({ status: 'invalid', reason: 'malformed-line', first_bad_line: 15, torn_last_line: true, entries: 14 });
  });

  it('summarises the valid ledger', async () => {
    const result = await verifyLedgerChain(FIXTURE_LEDGER);
    expect(result).toMatchObject({
      file: FIXTURE_LEDGER,
      torn_last_line: false,
      first_ts: '2026-01-20T14:00:44+00:00',
      actors: expect.objectContaining({ anonymous: expect.any(Number) }),
    });
    expect(result.last_ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(Object.values(result.actors).reduce((a, b) => a + b, 0)).toBe(15);
  });

  it('rebuilds the original entries byte for byte (same canonical form, same hashes)', async () => {
    const lines = (await fs.readFile(FIXTURE_LEDGER, 'utf8')).split('\n').filter((l) => l !== '');
    for (const line of lines) {
      const original = JSON.parse(line) as Record<string, string | null>;
      const { ts, action, actor, payload_summary, artifact_hash, manifest_hash, prev_hash, entry_hash, ...extra } = original;
      void entry_hash;
      const rebuilt = buildLedgerEntry(
        { action: action!, actor: actor!, payload_summary: payload_summary ?? null, artifact_hash: artifact_hash ?? null, manifest_hash: manifest_hash ?? null, extra },
        prev_hash ?? null,
        ts!,
      );
      expect(serializeLedgerLine(rebuilt)).toBe(`${line}\n`);
    }
  });
});

describe('ledger entry format', () => {
  it('formats timestamps like Python isoformat(timespec="seconds") in UTC', () => {
    expect(formatLedgerTimestamp(new Date('2026-01-20T14:00:44.987Z'))).toBe('2026-01-20T14:00:44+00:00');
  });

  it('refuses extras that would overwrite a core field, and bad field types', () => {
    const base = { action: 'event', actor: 'me', payload_summary: 'x' };
    for (const key of ['prev_hash', 'entry_hash', 'ts', 'action']) {
      expect(() => buildLedgerEntry({ ...base, extra: { [key]: 'forged' } }, null, 'now')).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
    }
    expect(() => buildLedgerEntry({ ...base, action: '' }, null, 'now')).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => buildLedgerEntry({ ...base, artifact_hash: 5 as unknown as string }, null, 'now')).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('judges single lines', () => {
    const first = buildLedgerEntry({ action: 'event', actor: 'me', payload_summary: 'x', extra: { n: 3 } }, null, 'T');
    const line = serializeLedgerLine(first).trimEnd();
    expect(checkLedgerLine(line, null)).toMatchObject({ kind: 'entry', entryHash: first.entry_hash });
    expect(checkLedgerLine('   ', null)).toEqual({ kind: 'blank' });
    expect(checkLedgerLine(line, 'f'.repeat(64))).toMatchObject({ kind: 'bad', reason: 'prev-hash-mismatch' });
    expect(checkLedgerLine(line.replace('"x"', '"y"'), null)).toMatchObject({ kind: 'bad', reason: 'entry-hash-mismatch' });
    expect(checkLedgerLine('[1,2]', null)).toMatchObject({ kind: 'bad', reason: 'malformed-line' });
    expect(checkLedgerLine('{"a":1}', null)).toMatchObject({ kind: 'bad', reason: 'malformed-line' });
    expect(checkLedgerLine(line.slice(0, 40), null)).toMatchObject({ kind: 'bad', reason: 'malformed-line' });
    // Duplicate keys are ambiguous (which one was hashed?): refused.
    expect(checkLedgerLine(line.replace('{', '{"n":4,'), null)).toMatchObject({ kind: 'bad', reason: 'malformed-line' });
    // Re-formatting does not change what is hashed.
    const pretty = JSON.stringify(JSON.parse(line), null, 1).replace(/\n/g, ' ');
    expect(checkLedgerLine(pretty, null)).toMatchObject({ kind: 'entry' });
  });
});

describe('appendLedgerEntry', () => {
  it('chains onto a copy of the fixture ledger', async () => {
    const ledger = await scratchLedger(FIXTURE_LEDGER);
    const before = await verifyLedgerChain(ledger);
    const now = new Date('2026-02-01T09:30:15.500Z');
    const entry = await appendLedgerEntry(
      ledger,
      { action: 'token-revoke', actor: 'alice', payload_summary: 'token:abc', extra: { token_hash: 'ab'.repeat(32), reason: 'lost' } },
      { now },
    );
    expect(entry).toMatchObject({
      ts: '2026-02-01T09:30:15+00:00',
      prev_hash: before.last_hash,
      artifact_hash: null,
      manifest_hash: null,
      token_hash: 'ab'.repeat(32),
      reason: 'lost',
    });
    const after = await verifyLedgerChain(ledger);
    expect(after).toMatchObject({ status: 'valid', entries: 16, last_hash: entry.entry_hash });
    const text = await fs.readFile(ledger, 'utf8');
    expect(text.endsWith(serializeLedgerLine(entry))).toBe(true);
    expect(text.startsWith(await fs.readFile(FIXTURE_LEDGER, 'utf8'))).toBe(true);
    // The lock file stays: deleting it while others hold it open would break the lock.
    await expect(fs.stat(ledgerLockPath(ledger))).resolves.toBeDefined();
  });

  it('creates a missing ledger and its folder; the first entry links to null', async () => {
    const ledger = path.join(scratch, 'fresh', 'trust', 'ledger.jsonl');
    const first = await appendLedgerEntry(ledger, { action: 'keygen', actor: 'k', payload_summary: 'key:k' });
    const second = await appendLedgerEntry(ledger, { action: 'event', actor: 'k', payload_summary: null });
    expect(first.prev_hash).toBeNull();
    expect(second.prev_hash).toBe(first.entry_hash);
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 2, last_hash: second.entry_hash });
  });

  it('chains onto the last entry across a trailing blank line and a re-formatted line', async () => {
    const ledger = await scratchLedger(path.join(SEED, 'ledgers', 'reformatted-line.jsonl'));
    await fs.appendFile(ledger, '\n  \n');
    const entry = await appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'after blanks' });
    expect(entry.prev_hash).toBe('44dbbcd855d50310eef6c715bc27eac50e5622451b125680032d8a7ba63709cc');
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 16 });
  });

  it('serialises concurrent appends from one process (no fork in the chain, no deadlock)', async () => {
    const ledger = await scratchLedger({ text: '' });
    const entries = await Promise.all(
      Array.from({ length: 40 }, (_, i) => appendLedgerEntry(ledger, { action: 'event', actor: `a${i % 3}`, payload_summary: `n${i}` })),
    );
    const result = await verifyLedgerChain(ledger);
    expect(result).toMatchObject({ status: 'valid', entries: 40, actors: { a0: 14, a1: 13, a2: 13 } });
    expect(new Set(lineHashes(await fs.readFile(ledger, 'utf8')))).toEqual(new Set(entries.map((e) => e.entry_hash)));
  });

  it('refuses a torn ledger and changes nothing', async () => {
    const ledger = await scratchLedger(path.join(SEED, 'ledgers', 'torn-last-line.jsonl'));
    const bytes = await fs.readFile(ledger);
    await expectBluxError(appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'y' }), 'ledger-torn');
    await expect(appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'y' })).rejects.toThrow(/audit repair/);
    expect((await fs.readFile(ledger)).equals(bytes)).toBe(true);
  });

  it('refuses a ledger whose last line has no usable entry_hash and changes nothing', async () => {
    for (const lastLine of ['not json at all', '{"action":"event"}', '["entry_hash"]']) {
      const text = `${await fs.readFile(FIXTURE_LEDGER, 'utf8')}${lastLine}\n`;
      const ledger = await scratchLedger({ text });
      await expectBluxError(appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'y' }), 'ledger-corrupt');
      expect(await fs.readFile(ledger, 'utf8')).toBe(text);
    }
  });

  it('refuses invalid fields before touching the file', async () => {
    const ledger = await scratchLedger(FIXTURE_LEDGER);
    await expectBluxError(
      appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'y', extra: { prev_hash: null } }),
      'invalid-argument',
    );
    expect(await fs.readFile(ledger, 'utf8')).toBe(await fs.readFile(FIXTURE_LEDGER, 'utf8'));
  });
});

describe('repairLedger', () => {
  it('cuts a torn last line after backing the file up; append works again', async () => {
    const ledger = await scratchLedger(path.join(SEED, 'ledgers', 'torn-last-line.jsonl'));
    const original = await fs.readFile(ledger);
    const completeEnd = original.lastIndexOf(0x0a) + 1;

    const result = await repairLedger(ledger);
    expect(result).toMatchObject({ repaired: true, removedBytes: original.length - completeEnd, newlineAdded: false });
    expect(result.backup).toMatch(/ledger\.jsonl\.bak-\d{8}T\d{6}Z(-\d+)?$/);
    expect((await fs.readFile(result.backup!)).equals(original)).toBe(true);
    expect((await fs.readFile(ledger)).equals(original.subarray(0, completeEnd))).toBe(true);
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 14, torn_last_line: false });

    const entry = await appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'after repair' });
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 15, last_hash: entry.entry_hash });

    // A second repair the same second never overwrites the first backup.
    await fs.appendFile(ledger, '{"half":');
    const again = await repairLedger(ledger);
    expect(again.backup).not.toBe(result.backup);
    expect((await fs.readFile(result.backup!)).equals(original)).toBe(true);
  });

  it('adds the missing newline to a whole last entry instead of dropping it', async () => {
    const text = (await fs.readFile(FIXTURE_LEDGER, 'utf8')).trimEnd();
    const ledger = await scratchLedger({ text });
    const before = await verifyLedgerChain(ledger);
    expect(before).toMatchObject({ status: 'valid', entries: 15, torn_last_line: true });
    await expectBluxError(appendLedgerEntry(ledger, { action: 'event', actor: 'x', payload_summary: 'y' }), 'ledger-torn');

    expect(await repairLedger(ledger)).toEqual({ repaired: true, removedBytes: 0, newlineAdded: true, backup: null });
    expect(await fs.readFile(ledger, 'utf8')).toBe(`${text}\n`);
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 15, torn_last_line: false });
  });

  it('leaves a healthy ledger (and one ending in blank space) alone', async () => {
    for (const suffix of ['', '\n', '   ']) {
      const text = `${await fs.readFile(FIXTURE_LEDGER, 'utf8')}${suffix}`;
      const ledger = await scratchLedger({ text });
      expect(await repairLedger(ledger)).toEqual({ repaired: false, removedBytes: 0, newlineAdded: false, backup: null });
      expect(await fs.readFile(ledger, 'utf8')).toBe(text);
    }
  });

  it('does not hide chain problems in the middle', async () => {
    const ledger = await scratchLedger(path.join(SEED, 'ledgers', 'tampered-field.jsonl'));
    const text = await fs.readFile(ledger, 'utf8');
    expect((await repairLedger(ledger)).repaired).toBe(false);
    expect(await fs.readFile(ledger, 'utf8')).toBe(text);
  });

  it('reports a missing ledger', async () => {
    await expectBluxError(repairLedger(path.join(scratch, 'nope', 'ledger.jsonl')), 'file-not-found');
    await expect(fs.stat(path.join(scratch, 'nope'))).rejects.toThrow();
  });
});

describe('readLedgerTail', () => {
  const hashOf = (entry: JsonObject): unknown => entry.get('entry_hash');

  it('returns the last N entries, oldest first', async () => {
    const all = lineHashes(await fs.readFile(FIXTURE_LEDGER, 'utf8'));
    expect((await readLedgerTail(FIXTURE_LEDGER, 3)).map(hashOf)).toEqual(all.slice(-3));
    expect((await readLedgerTail(FIXTURE_LEDGER, 1)).map(hashOf)).toEqual(all.slice(-1));
    expect((await readLedgerTail(FIXTURE_LEDGER, 100)).map(hashOf)).toEqual(all);
    expect(await readLedgerTail(FIXTURE_LEDGER, 0)).toEqual([]);
  });

  it('skips blank lines and a torn last line', async () => {
    const reformatted = lineHashes(await fs.readFile(path.join(SEED, 'ledgers', 'reformatted-line.jsonl'), 'utf8'));
    expect((await readLedgerTail(path.join(SEED, 'ledgers', 'reformatted-line.jsonl'), 9)).map(hashOf)).toEqual(reformatted.slice(-9));
    const tornText = await fs.readFile(path.join(SEED, 'ledgers', 'torn-last-line.jsonl'), 'utf8');
    const complete = lineHashes(tornText.slice(0, tornText.lastIndexOf('\n') + 1));
    expect((await readLedgerTail(path.join(SEED, 'ledgers', 'torn-last-line.jsonl'), 2)).map(hashOf)).toEqual(complete.slice(-2));
  });

  it('handles lines longer than its read chunk', async () => {
    const ledger = await scratchLedger({ text: '' });
    const long = 'x'.repeat(100_000);
    await appendLedgerEntry(ledger, { action: 'event', actor: 'a', payload_summary: long });
    const last = await appendLedgerEntry(ledger, { action: 'event', actor: 'a', payload_summary: long + 'y' });
    const tail = await readLedgerTail(ledger, 5);
    expect(tail.length).toBe(2);
    expect(tail[1]?.get('entry_hash')).toBe(last.entry_hash);
    expect(tail[0]?.get('payload_summary')).toBe(long);
  });

  it('refuses a bad count and a corrupt line, reports a missing file', async () => {
    await expectBluxError(readLedgerTail(FIXTURE_LEDGER, -1), 'invalid-argument');
    await expectBluxError(readLedgerTail(FIXTURE_LEDGER, 1.5), 'invalid-argument');
    const ledger = await scratchLedger({ text: `${await fs.readFile(FIXTURE_LEDGER, 'utf8')}garbage\n` });
    await expectBluxError(readLedgerTail(ledger, 2), 'ledger-corrupt');
    await expectBluxError(readLedgerTail(path.join(scratch, 'missing.jsonl'), 2), 'file-not-found');
  });
});

describe('verifyLedgerChain and openLedgerLines', () => {
  it('reports a missing file as file-not-found', async () => {
    await expectBluxError(verifyLedgerChain(path.join(scratch, 'missing', 'ledger.jsonl')), 'file-not-found');
  });

  it('accepts an empty ledger', async () => {
    const ledger = await scratchLedger({ text: '' });
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 0, last_hash: null, first_ts: null, actions: {} });
  });

  it('reports progress up to the file size', async () => {
    const size = (await fs.stat(FIXTURE_LEDGER)).size;
    const calls: Array<[number, number]> = [];
    await verifyLedgerChain(FIXTURE_LEDGER, { chunkSize: 1000, onProgress: (read, total) => calls.push([read, total]) });
    expect(calls.length).toBe(Math.ceil(size / 1000));
    expect(calls.at(-1)).toEqual([size, size]);
    expect(calls.every(([, total]) => total === size)).toBe(true);
  });

  it('calls a line with invalid UTF-8 malformed', async () => {
    const text = await fs.readFile(FIXTURE_LEDGER);
    const ledger = await scratchLedger({ text: Buffer.concat([text, Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])]) });
    expect(await verifyLedgerChain(ledger)).toMatchObject({ reason: 'malformed-line', first_bad_line: 16, detail: expect.stringMatching(/UTF-8/) });
  });

  it('keeps names like __proto__ as plain keys in the counts', async () => {
    const ledger = await scratchLedger({ text: '' });
    await appendLedgerEntry(ledger, { action: '__proto__', actor: 'constructor', payload_summary: null });
    const result = await verifyLedgerChain(ledger);
    expect(Object.keys(result.actions)).toEqual(['__proto__']);
    expect(result.actors['constructor']).toBe(1);
  });

  it('yields every line with its number, blank ones included, and flags an unterminated last line', async () => {
    const ledger = await scratchLedger({ text: 'a\n\n  \nbé\nlast' });
    const lines = [];
    for await (const line of openLedgerLines(ledger, { chunkSize: 2 })) lines.push(line);
    expect(lines).toEqual([
      { lineNumber: 1, text: 'a', terminated: true, validUtf8: true },
      { lineNumber: 2, text: '', terminated: true, validUtf8: true },
      { lineNumber: 3, text: '  ', terminated: true, validUtf8: true },
      { lineNumber: 4, text: 'bé', terminated: true, validUtf8: true },
      { lineNumber: 5, text: 'last', terminated: false, validUtf8: true },
    ]);
  });

  it('parses entries with the number-preserving parser (extras survive as written)', async () => {
    const ledger = await scratchLedger({ text: '' });
    const entry = await appendLedgerEntry(ledger, { action: 'event', actor: 'a', payload_summary: null, extra: { big: 12345678901234567890n as unknown as number, f: 1.5 } });
    const text = await fs.readFile(ledger, 'utf8');
    expect(text).toContain('"big":12345678901234567890');
    expect(parseJson(text.trim())).toBeInstanceOf(Map);
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', last_hash: entry.entry_hash });
  });
});
