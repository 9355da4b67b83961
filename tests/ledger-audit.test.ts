import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Ajv } from 'ajv';

import { auditLedger, prestartLedgerAudit, type AuditLedgerOptions } from '../src/audit/audit-ledger.js';
import { auditLedgerSequential } from '../src/audit/sequential.js';
import { LEDGER_KERNELS } from '../src/audit/kernels.js';
import type { LedgerAuditReport } from '../src/audit/report.js';
import { NO_TRUST, type AuditTrust } from '../src/audit/signature-policy.js';
import { closeEnginePool, getEnginePool, isEnginePoolWarm } from '../src/engine/pool.js';
import { entryLine, generateLedgerLines, makeSigner, trustOf, type TestSigner } from './ledger-audit-fixtures.js';
import { FIXTURE_DIR } from './helpers/cli.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-audit-'));
afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true });
  await closeEnginePool();
});

let fileCounter = 0;
function writeLedger(content: string | Buffer): string {
  const file = path.join(scratch, `ledger-${fileCounter++}.jsonl`);
  fs.writeFileSync(file, content);
  return file;
}

/** The report without the fields that depend on how and how fast it was produced. */
function verdictOf(report: LedgerAuditReport): Omit<LedgerAuditReport, 'throughput' | 'backend' | 'jobs' | 'slow_path_lines'> {
  const { throughput: _t, backend: _b, jobs: _j, slow_path_lines: _s, ...rest } = report;
  return rest;
}

/** Many ranges and chunks even on small files: every line-boundary path is exercised in-thread. */
const SMALL_PIECES: AuditLedgerOptions = { chunkSize: 97, rangeBytes: 700, poolFromBytes: Number.POSITIVE_INFINITY };

async function expectSameAsSequential(file: string, opts: AuditLedgerOptions = {}): Promise<LedgerAuditReport> {
  const reference = await auditLedgerSequential(file, {
    ...(opts.trust !== undefined ? { trust: opts.trust } : {}),
    ...(opts.expectHead !== undefined ? { expectHead: opts.expectHead } : {}),
  });
  for (const kernel of LEDGER_KERNELS) {
    for (const pieces of [{}, SMALL_PIECES]) {
      const fast = await auditLedger(file, { ...opts, kernel, ...pieces });
      expect(verdictOf(fast)).toEqual(verdictOf(reference));
    }
  }
  return reference;
}

const joinLines = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

// ---------------------------------------------------------------------------

interface LedgerCase { file: string; expected: 'valid' | 'invalid'; reason: string; first_bad_line: number | null; entries?: number; last_hash?: string }
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'expected.json'), 'utf8')) as { ledgers: LedgerCase[] };

describe('seed-v0.2 ledgers (written by the Python original)', () => {
  const modes: Array<[string, AuditLedgerOptions]> = [
    ['native, in-thread', { kernel: 'native' }],
    ['native, in-thread, tiny chunks and ranges', { kernel: 'native', ...SMALL_PIECES }],
    ['native, pool of 2', { kernel: 'native', jobs: 2, poolFromBytes: 0, rangeBytes: 600 }],
    ['wasm, in-thread', { kernel: 'wasm' }],
    ['wasm, in-thread, tiny chunks and ranges', { kernel: 'wasm', ...SMALL_PIECES }],
    ['wasm, pool of 2', { kernel: 'wasm', jobs: 2, poolFromBytes: 0, rangeBytes: 600 }],
  ];
  describe.each(modes)('%s', (_name, opts) => {
    it.each(expected.ledgers.map((c) => [c.file, c] as const))('%s', async (_file, c) => {
      const report = await auditLedger(path.join(FIXTURE_DIR, c.file), opts);
      expect(report).toMatchObject({ status: c.expected, reason: c.reason, first_bad_line: c.first_bad_line });
      if (c.expected === 'valid') expect(report).toMatchObject({ entries: c.entries, last_hash: c.last_hash });
      expect(verdictOf(report)).toEqual(verdictOf(await auditLedgerSequential(path.join(FIXTURE_DIR, c.file))));
    });
  });
});

describe('fast path == slow path on generated ledgers', () => {
  const lines = generateLedgerLines(40, { seed: 7 });
  const tamper = (line: string): string => line.replace('"event ', '"Event ');

  const cases: Array<[string, () => string | Buffer]> = [
    ['intact', () => joinLines(lines)],
    ['tampered first line', () => joinLines([tamper(lines[0]!), ...lines.slice(1)])],
    ['tampered middle line', () => joinLines(lines.map((l, i) => (i === 20 ? tamper(l) : l)))],
    ['tampered last line', () => joinLines(lines.map((l, i) => (i === 39 ? tamper(l) : l)))],
    ['two tampered lines (the earlier wins)', () => joinLines(lines.map((l, i) => (i === 9 || i === 33 ? tamper(l) : l)))],
    ['reordered lines', () => joinLines([...lines.slice(0, 10), lines[11]!, lines[10]!, ...lines.slice(12)])],
    ['a deleted line', () => joinLines([...lines.slice(0, 15), ...lines.slice(16)])],
    ['a deleted first line', () => joinLines(lines.slice(1))],
    ['a torn last line', () => joinLines(lines.slice(0, 39)) + lines[39]!.slice(0, 100)],
    ['a whole last line without newline', () => joinLines(lines.slice(0, 39)) + lines[39]!],
    ['a pretty-printed line', () => joinLines(lines.map((l, i) => (i === 5 ? JSON.stringify(JSON.parse(l), null, 1).replace(/\n/g, ' ') : l)))],
    ['spaces after the separators', () => joinLines(lines.map((l, i) => (i === 7 ? l.replace(/","/g, '", "') : l)))],
    ['CRLF line endings', () => lines.map((l) => `${l}\r\n`).join('')],
    ['blank lines', () => joinLines(lines.flatMap((l, i) => (i % 9 === 0 ? ['', '   ', l] : [l])))],
    ['blank lines then a tampered one', () => joinLines(lines.flatMap((l, i) => (i % 9 === 0 ? ['', i === 27 ? tamper(l) : l] : [l])))],
    ['invalid UTF-8', () => Buffer.concat([Buffer.from(joinLines(lines.slice(0, 12))), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(joinLines(lines.slice(12)))])],
    ['garbage line', () => joinLines([...lines.slice(0, 30), 'not json', ...lines.slice(30)])],
    ['an empty file', () => ''],
    ['only blank lines', () => '\n \n\t\n'],
    ['a line that is a JSON array', () => joinLines([...lines.slice(0, 3), '[1,2]', ...lines.slice(3)])],
  ];

  it.each(cases)('%s', async (_name, make) => {
    await expectSameAsSequential(writeLedger(make()));
  });

  it('takes the fast path for canonical lines and the slow path only for the others', async () => {
    const pretty = lines.map((l, i) => (i === 5 ? JSON.stringify(JSON.parse(l), null, 1).replace(/\n/g, ' ') : l));
    expect(await auditLedger(writeLedger(joinLines(lines)), SMALL_PIECES)).toMatchObject({ status: 'valid', slow_path_lines: 0 });
    expect(await auditLedger(writeLedger(joinLines(pretty)), SMALL_PIECES)).toMatchObject({ status: 'valid', slow_path_lines: 1 });
    const signer = makeSigner();
    const signed = generateLedgerLines(20, { seed: 1, signers: [signer] });
    const trust: AuditTrust = { keys: trustOf([signer]), revokedAt: [], requireSigned: false };
    expect(await auditLedger(writeLedger(joinLines(signed)), { ...SMALL_PIECES, trust })).toMatchObject({ signatures: { valid: 20 }, slow_path_lines: 0 });
  });

  it('non-ASCII content, nested entry_hash keys, escapes, floats and big integers', async () => {
    const tricky = generateLedgerLines(30, {
      seed: 3,
      extra: (i) => ({
        note: ['café ☕', 'tab\there', 'quote " and \\ back', '\u0001 ctrl', '𝄞 astral', 'x'][i % 6]!,
        nested: { entry_hash: 'f'.repeat(64), deeper: [{ entry_hash: null, prev_hash: 'x' }] },
        'z"entry_hash"': i,
        count: [0, -1, 12345678901234567890, 1.5, 1e-7, -0.25][i % 6]!,
      }),
    });
    const report = await expectSameAsSequential(writeLedger(joinLines(tricky)));
    expect(report).toMatchObject({ status: 'valid', entries: 30 });
    // Tampering with a nested entry_hash is still caught at that line.
    const bad = tricky.map((l, i) => (i === 13 ? l.replace(`"entry_hash":"${'f'.repeat(64)}"`, `"entry_hash":"${'e'.repeat(64)}"`) : l));
    expect(await expectSameAsSequential(writeLedger(joinLines(bad)))).toMatchObject({ reason: 'entry-hash-mismatch', first_bad_line: 14 });
  });

  it('finds a tampered line that straddles a chunk and a range boundary', async () => {
    const many = generateLedgerLines(200, { seed: 11 });
    const text = joinLines(many);
    // The line that holds byte 8,192 (a multiple of the chunk size below).
    const index = text.slice(0, 8192).split('\n').length - 1;
    const tampered = many.map((l, i) => (i === index ? tamper(l) : l));
    const file = writeLedger(joinLines(tampered));
    const report = await expectSameAsSequential(file, { chunkSize: 4096, rangeBytes: 8192 });
    expect(report).toMatchObject({ status: 'invalid', reason: 'entry-hash-mismatch', first_bad_line: index + 1 });
  });

  it('gives the same verdicts through the worker pool, with this thread checking ranges too', async () => {
    const many = generateLedgerLines(300, { seed: 5 });
    for (const jobs of [2, 3]) {
      for (const text of [joinLines(many), joinLines(many.map((l, i) => (i === 250 ? tamper(l) : l))), joinLines([...many.slice(0, 120), ...many.slice(121)])]) {
        const file = writeLedger(text);
        await closeEnginePool();
        const run = vi.spyOn(getEnginePool(jobs - 1), 'run');
        const fast = await auditLedger(file, { jobs, poolFromBytes: 0, rangeBytes: 5000, chunkSize: 1000 });
        expect(fast.jobs).toBe(jobs);
        expect(verdictOf(fast)).toEqual(verdictOf(await auditLedgerSequential(file)));
        // ~25 ranges: the pool checked some, this thread the others.
        const onPool = run.mock.calls.filter(([, options]) => options.name === 'auditLedgerRange').length;
        if (fast.status === 'valid') expect(onPool).toBeGreaterThan(0);
        if (fast.status === 'valid') expect(onPool).toBeLessThan(fs.statSync(file).size / 5000 - 2);
        run.mockRestore();
      }
    }
  });

  it('counts a range\'s error only in its turn: a bad line earlier in the file wins, an error earlier is thrown', async () => {
    // ~240 ranges: with its thread started first, the pool surely gets some past byte 20,000.
    const many = generateLedgerLines(3000, { seed: 5 });
    const tampered = writeLedger(joinLines(many.map((l, i) => (i === 10 ? tamper(l) : l))));
    const clean = writeLedger(joinLines(many));
    await closeEnginePool();
    const pool = getEnginePool(1);
    await pool.run(64 * 1024, { name: 'warmLedgerAudit' });
    const original = pool.run.bind(pool);
    // Every range the pool is given past byte 20,000 fails (line 11 is in the first 5,000 bytes).
    const run = vi.spyOn(pool, 'run').mockImplementation((task, options) =>
      options.name === 'auditLedgerRange' && (task as { start: number }).start > 20_000 ? Promise.reject(new Error('injected range failure')) : original(task, options));
    try {
      const report = await auditLedger(tampered, { jobs: 2, poolFromBytes: 0, rangeBytes: 5000 });
      expect(report).toMatchObject({ status: 'invalid', first_bad_line: 11 });
      await expect(auditLedger(clean, { jobs: 2, poolFromBytes: 0, rangeBytes: 5000 })).rejects.toThrow('injected range failure');
      expect(run.mock.calls.some(([task, options]) => options.name === 'auditLedgerRange' && (task as { start: number }).start > 20_000)).toBe(true);
    } finally {
      run.mockRestore();
    }
  });

  it('property: random ledgers with random mutations give the slow path verdict', async () => {
    const base = generateLedgerLines(25, { seed: 9 });
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), line: fc.nat(24), at: fc.nat(400), byte: fc.integer({ min: 0x20, max: 0x7e }) }),
      fc.record({ kind: fc.constant('delete' as const), line: fc.nat(24) }),
      fc.record({ kind: fc.constant('swap' as const), line: fc.nat(23) }),
      fc.record({ kind: fc.constant('blank' as const), line: fc.nat(24) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(12_000) }),
      fc.record({ kind: fc.constant('crlf' as const), line: fc.nat(24) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(mutation, { maxLength: 3 }), fc.integer({ min: 16, max: 3000 }), async (mutations, chunk) => {
      const lines = [...base];
      let text: string | null = null;
      for (const m of mutations) {
        if (m.kind === 'flip') {
          const l = lines[m.line % lines.length];
          if (l !== undefined && l.length > 0) {
            const at = m.at % l.length;
            lines[m.line % lines.length] = l.slice(0, at) + String.fromCharCode(m.byte) + l.slice(at + 1);
          }
        } else if (m.kind === 'delete') lines.splice(m.line % Math.max(lines.length, 1), 1);
        else if (m.kind === 'swap' && lines.length > 1) {
          const i = m.line % (lines.length - 1);
          [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
        } else if (m.kind === 'blank') lines.splice(m.line % Math.max(lines.length, 1), 0, '');
        else if (m.kind === 'crlf') lines[m.line % lines.length] += '\r';
        else if (m.kind === 'truncate') text = joinLines(lines).slice(0, m.at);
      }
      const file = writeLedger(text ?? joinLines(lines));
      const reference = await auditLedgerSequential(file);
      const fast = await auditLedger(file, { kernel: chunk % 2 === 0 ? 'native' : 'wasm', chunkSize: chunk, rangeBytes: chunk * 3, poolFromBytes: Number.POSITIVE_INFINITY });
      expect(verdictOf(fast)).toEqual(verdictOf(reference));
    }), { numRuns: 150 });
  });
});

describe('job count', () => {
  it('checks a ledger in this thread with one job, whatever its size (no worker to start)', async () => {
    const file = writeLedger(joinLines(generateLedgerLines(40, { seed: 21 })));
    await closeEnginePool();
    const one = await auditLedger(file, { jobs: 1, poolFromBytes: 0, rangeBytes: 600 });
    expect(isEnginePoolWarm(1)).toBe(false);
    expect(one).toMatchObject({ status: 'valid', entries: 40, jobs: 1 });
    const two = await auditLedger(file, { jobs: 2, poolFromBytes: 0, rangeBytes: 600 });
    expect(two.jobs).toBe(2);
    expect(verdictOf(two)).toEqual(verdictOf(one));
  });

  it('prestarts the pool only for an audit that will use it', async () => {
    const file = writeLedger(joinLines(generateLedgerLines(40, { seed: 22 })));
    await closeEnginePool();
    expect(prestartLedgerAudit(file, 1, 0)).toBe(false);
    expect(prestartLedgerAudit(file, 2)).toBe(false); // under 4 MiB: checked in-thread
    expect(prestartLedgerAudit(path.join(scratch, 'missing.jsonl'), 2, 0)).toBe(false);
    expect(isEnginePoolWarm(1)).toBe(false);
    expect(prestartLedgerAudit(file, 2, 0)).toBe(true);
    // Two jobs: this thread and one pool thread.
    expect(isEnginePoolWarm(1)).toBe(true);
    const report = await auditLedger(file, { jobs: 2, poolFromBytes: 0, rangeBytes: 600 });
    expect(report).toMatchObject({ status: 'valid', entries: 40, jobs: 2 });
  });

  it('readies a thread for range checks ahead of the first one: a scanner with room for a chunk, once (the warm-up task)', async () => {
    // A fresh copy of the module: no scratch left by the audits above.
    vi.resetModules();
    const fresh = await import('../src/audit/range-check.js');
    expect(fresh.idleScratchChunkSizes()).toEqual([]);
    fresh.prepareRangeChecks(16 * 1024 * 1024); // more than an idle scratch may keep: nothing reserved
    expect(fresh.idleScratchChunkSizes()).toEqual([]);
    fresh.prepareRangeChecks(256 * 1024);
    fresh.prepareRangeChecks(512 * 1024);
    expect(fresh.idleScratchChunkSizes()).toEqual([256 * 1024]);
    const file = writeLedger(joinLines(generateLedgerLines(40, { seed: 23 })));
    const task = { file, start: 0, end: fs.statSync(file).size, chunkSize: 256 * 1024, kernel: 'native' as const, ed25519Backend: 'native' as const, trust: NO_TRUST };
    expect(await fresh.checkLedgerRange(task)).toMatchObject({ lines: 40, bad: null });
    expect(fresh.idleScratchChunkSizes()).toEqual([256 * 1024]); // the range took the prepared scratch and gave it back
    // The pool's warm-up task, on a fresh thread.
    await closeEnginePool();
    await expect(getEnginePool(2).run(64 * 1024, { name: 'warmLedgerAudit' })).resolves.toBe(0);
  });

  it('a thread checks the ranges queued on it one after another: one scratch, not one per waiting range', async () => {
    // A fresh copy of the modules: no scratch left by the audits above.
    vi.resetModules();
    const worker = await import('../src/engine/worker.js');
    const fresh = await import('../src/audit/range-check.js');
    const file = writeLedger(joinLines(generateLedgerLines(40, { seed: 25 })));
    const task = { file, start: 0, end: fs.statSync(file).size, chunkSize: 64 * 1024, kernel: 'native' as const, ed25519Backend: 'native' as const, trust: NO_TRUST };
    // Three at once, as piscina hands them to a thread with a queue: started together, they took turns
    // chunk by chunk with a scratch each (two kept idle afterwards).
    const replies = await Promise.all([worker.auditLedgerRange(task), worker.auditLedgerRange(task), worker.auditLedgerRange(task)]);
    expect(replies.map((r) => r.lines)).toEqual([40, 40, 40]);
    expect(fresh.idleScratchChunkSizes()).toEqual([64 * 1024]);
    // A failed range does not stop the ones queued after it.
    const missing = { ...task, file: path.join(scratch, 'gone.jsonl') };
    const [gone, after] = await Promise.allSettled([worker.auditLedgerRange(missing), worker.auditLedgerRange(task)]);
    expect(gone.status).toBe('rejected');
    expect(after).toMatchObject({ status: 'fulfilled', value: { lines: 40 } });
  });

  it('warms a pool once: the CLI prestarts from its early start and again from the command', async () => {
    const file = writeLedger(joinLines(generateLedgerLines(40, { seed: 24 })));
    await closeEnginePool();
    const pool = getEnginePool(2);
    const run = vi.spyOn(pool, 'run');
    expect(prestartLedgerAudit(file, 3, 0)).toBe(true);
    expect(prestartLedgerAudit(file, 3, 0)).toBe(true);
    // Three jobs: this thread and two pool threads, each warmed once.
    expect(run.mock.calls.map(([, options]) => options.name)).toEqual(['warmLedgerAudit', 'warmLedgerAudit']);
    await Promise.all(run.mock.results.map((r) => r.value as Promise<unknown>));
    run.mockRestore();
  });
});

describe('signed ledgers', () => {
  let alice: TestSigner;
  let bob: TestSigner;
  let mallory: TestSigner;
  let trust: AuditTrust;
  beforeAll(() => {
    [alice, bob, mallory] = [makeSigner(), makeSigner(), makeSigner()];
    trust = { keys: trustOf([alice, bob]), revokedAt: [], requireSigned: false };
  });

  it('verifies every signature and summarises the signers', async () => {
    const file = writeLedger(joinLines(generateLedgerLines(60, { seed: 2, signers: [alice, bob] })));
    const report = await expectSameAsSequential(file, { trust });
    expect(report).toMatchObject({ status: 'valid', entries: 60, signatures: { signed: 60, unsigned: 0, valid: 60, invalid: 0, unverified: 0 } });
    expect(report.signatures.signers).toEqual(expect.arrayContaining([
      { actor: alice.fingerprint, entries: 30, signed: 30, key: 'trusted', valid: 30, invalid: 0, unverified: 0 },
    ]));
  });

  it('mixed ledgers (a few signed entries among unsigned ones) count the same line by line and in runs, a forged signature included', async () => {
    // The native scanner counts stretches of verified unsigned lines in one step (runs, line-scanner.ts); a
    // signed line, a slow line or a blank line interrupts or sits inside them. Each variant: every kernel
    // and piece size against the sequential audit (counts, first-seen order, time range, signers).
    const build = (forgeAt: number | null): string[] => {
      const out: string[] = [];
      let prev: string | null = null;
      for (let i = 0; i < 90; i++) {
        const fields = { action: ['sign', 'verify', 'event'][i % 3]!, actor: i % 7 === 3 ? alice.fingerprint : `local-${i % 4}`, ts: `2026-01-${String(20 + Math.floor(i / 30)).padStart(2, '0')}T00:00:${String(i % 60).padStart(2, '0')}+00:00` };
        let entry = entryLine(fields, prev, i % 7 === 3 ? (i === forgeAt ? mallory : alice) : undefined);
        if (i === forgeAt) {
          // A forged entry: mallory's signature under alice's name, hashed and linked as it stands.
          const { entry_hash: _h, prev_hash: _p, ...signed } = JSON.parse(entry.line) as Record<string, never>;
          entry = entryLine({ ...signed, actor: alice.fingerprint as never }, prev);
        }
        out.push(entry.line);
        if (i % 11 === 5) out.push('');
        prev = entry.hash;
      }
      return out;
    };
    const intact = await expectSameAsSequential(writeLedger(joinLines(build(null))), { trust });
    expect(intact).toMatchObject({ status: 'valid', entries: 90, signatures: { signed: 13, valid: 13, unsigned: 77 } });
    const forged = await expectSameAsSequential(writeLedger(joinLines(build(52))), { trust });
    expect(forged).toMatchObject({ status: 'invalid', reason: 'signature-invalid', entries: 52 });
    const required = await expectSameAsSequential(writeLedger(joinLines(build(null))), { trust: { ...trust, requireSigned: true } });
    expect(required).toMatchObject({ status: 'invalid', reason: 'entry-unsigned', first_bad_line: 1 });
  });

  it('fails at a forged signature, also through the pool', async () => {
    const lines = generateLedgerLines(60, { seed: 2, signers: [alice, bob] });
    // Line 34 re-signed by mallory but still claiming bob: the chain is intact, the signature is not.
    const forgedEntry = JSON.parse(lines[33]!) as Record<string, unknown>;
    const { entry_hash: _h, sig: _s, prev_hash: prev, ...fields } = forgedEntry;
    const forged = entryLine(fields as never, prev as string, mallory);
    const withBobActor = JSON.parse(forged.line) as Record<string, unknown>;
    withBobActor['actor'] = bob.fingerprint;
    const { entry_hash: _h2, prev_hash: _p2, ...rest } = withBobActor;
    const relinked = relinkFrom([...lines.slice(0, 33), JSON.stringify(rest)], lines.slice(34));
    const file = writeLedger(joinLines(relinked));
    const report = await expectSameAsSequential(file, { trust });
    expect(report).toMatchObject({ status: 'invalid', reason: 'signature-invalid', first_bad_line: 34, entries: 33 });
    const pooled = await auditLedger(file, { trust, jobs: 2, poolFromBytes: 0, rangeBytes: 4000 });
    expect(verdictOf(pooled)).toEqual(verdictOf(report));
  });

  it('reports an untrusted signer as unknown, and fails it with --require-signed', async () => {
    const file = writeLedger(joinLines(generateLedgerLines(30, { seed: 4, signers: [alice, mallory] })));
    const report = await expectSameAsSequential(file, { trust });
    expect(report).toMatchObject({ status: 'valid', signatures: { valid: 15, unverified: 15 } });
    expect(report.signatures.signers.find((s) => s.actor === mallory.fingerprint)).toMatchObject({ key: 'unknown', unverified: 15 });
    const strict = await expectSameAsSequential(file, { trust: { ...trust, requireSigned: true } });
    expect(strict).toMatchObject({ status: 'invalid', reason: 'entry-unsigned', first_bad_line: 2, entries: 1 });
  });

  it('fails --require-signed at the first unsigned entry', async () => {
    const signed = generateLedgerLines(10, { seed: 4, signers: [alice] });
    const file = writeLedger(joinLines(relinkFrom(signed.slice(0, 6), [stripSig(signed[6]!)])));
    expect(await expectSameAsSequential(file, { trust })).toMatchObject({ status: 'valid', signatures: { signed: 6, unsigned: 1 } });
    expect(await expectSameAsSequential(file, { trust: { ...trust, requireSigned: true } })).toMatchObject({ reason: 'entry-unsigned', first_bad_line: 7 });
  });

  it('fails an entry signed after its key was revoked, not the ones before', async () => {
    const lines = generateLedgerLines(20, { seed: 6, signers: [alice, bob] });
    // Entries are 7 h apart from 2026-01-20T00:00: entry 11 (line 11) is at +70 h.
    const revokedAt = '2026-01-22T20:00:00+00:00';
    const revoked: AuditTrust = { ...trust, revokedAt: [[alice.fingerprint, revokedAt]] };
    const report = await expectSameAsSequential(writeLedger(joinLines(lines)), { trust: revoked });
    expect(report).toMatchObject({ status: 'invalid', reason: 'signer-revoked', first_bad_line: 11 });
    expect(report.signatures.signers.find((s) => s.actor === alice.fingerprint)).toMatchObject({ key: 'revoked' });
  });

  it('accepts an entry in the same second as the revocation (keygen then revoke within a second), fails the next one', async () => {
    const lines = generateLedgerLines(20, { seed: 6, signers: [alice, bob] });
    // Line 11 (alice) is at +70 h = 2026-01-22T22:00:00: exactly revoked_at. Her next entry, line 13, is after it.
    const revoked: AuditTrust = { ...trust, revokedAt: [[alice.fingerprint, '2026-01-22T22:00:00+00:00']] };
    const report = await expectSameAsSequential(writeLedger(joinLines(lines)), { trust: revoked });
    expect(report).toMatchObject({ status: 'invalid', reason: 'signer-revoked', first_bad_line: 13, entries: 12 });
    const upToEqual = await expectSameAsSequential(writeLedger(joinLines(lines.slice(0, 12))), { trust: revoked });
    expect(upToEqual).toMatchObject({ status: 'valid', entries: 12 });
  });
});

/** Re-chains `head` (entries possibly edited, entry_hash/prev_hash recomputed) then `tail` after it, re-signing nothing. */
function relinkFrom(head: string[], tail: string[]): string[] {
  const out: string[] = [];
  let prev: string | null = null;
  for (const line of [...head, ...tail]) {
    const { entry_hash: _h, prev_hash: _p, ...fields } = JSON.parse(line) as Record<string, never>;
    const next = entryLine(fields, prev);
    out.push(next.line);
    prev = next.hash;
  }
  return out;
}

function stripSig(line: string): string {
  const { sig: _s, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify(rest);
}

describe('--expect-head', () => {
  const lines = generateLedgerLines(20, { seed: 8 });
  const hashAt = (i: number): string => (JSON.parse(lines[i]!) as { entry_hash: string }).entry_hash;

  it('passes when the ledger still holds the entry (at that line)', async () => {
    const file = writeLedger(joinLines(lines));
    expect(await expectSameAsSequential(file, { expectHead: { hash: hashAt(9), line: 10 } })).toMatchObject({ status: 'valid', expect_head: { found: true } });
    expect(await expectSameAsSequential(file, { expectHead: { hash: hashAt(9), line: null } })).toMatchObject({ status: 'valid' });
  });

  it('fails with head-mismatch when the tail was cut or the entry moved', async () => {
    const cut = writeLedger(joinLines(lines.slice(0, 8)));
    expect(await expectSameAsSequential(cut, { expectHead: { hash: hashAt(9), line: 10 } }))
      .toMatchObject({ status: 'invalid', reason: 'head-mismatch', first_bad_line: 10, expect_head: { found: false } });
    const moved = writeLedger(`\n${joinLines(lines)}`);
    expect(await expectSameAsSequential(moved, { expectHead: { hash: hashAt(9), line: 10 } })).toMatchObject({ reason: 'head-mismatch' });
  });
});

describe('report schema', () => {
  it('accepts real reports, valid and invalid', async () => {
    const ajv = new Ajv({ strict: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'schemas', 'ledger-audit-report.schema.json'), 'utf8')) as object);
    const signer = makeSigner();
    const lines = generateLedgerLines(12, { seed: 1, signers: [signer] });
    const trust: AuditTrust = { keys: trustOf([signer]), revokedAt: [], requireSigned: false };
    const reports = [
      await auditLedger(writeLedger(joinLines(lines)), { trust, expectHead: { hash: 'a'.repeat(64), line: 3 } }),
      await auditLedger(writeLedger(joinLines(lines.slice(0, 11)) + 'torn'), { trust }),
      await auditLedger(writeLedger('')),
    ];
    for (const report of reports) {
      expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
    }
  });
});

describe('errors', () => {
  it('throws file-not-found for a missing ledger', async () => {
    await expect(auditLedger(path.join(scratch, 'nope.jsonl'))).rejects.toMatchObject({ code: 'file-not-found' });
  });
  it('refuses bad options', async () => {
    const file = writeLedger('');
    await expect(auditLedger(file, { jobs: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(auditLedger(file, { kernel: 'gpu' })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(auditLedger(file, { chunkSize: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
