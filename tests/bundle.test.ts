// The bundled command line (scripts/build-bundle.mjs, io/bundle-loader.cts,
// io/package-files.ts): the bin runs dist/bundle/cli.cjs, its engine threads
// run dist/bundle/worker.cjs, both with V8's code cache, and a cache that
// does not match is only slower, never wrong.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageFile, packageVersion, readBuiltFile, runningFromBundle, runningFromSources } from '../src/io/package-files.js';
import { workerFilePath } from '../src/engine/pool.js';
import { DEFAULT_POOL_FROM_BYTES } from '../src/audit/prestart.js';
import { generateLedgerLines } from './ledger-audit-fixtures.js';
import { CLI, REPO_ROOT, runCli, tempDir } from './helpers/cli.js';

// The compiled loader (vitest does not load .cts sources; `npm test` builds first).
const { codeCacheAccepted, codeCacheFileOf, loadBundle, writeCodeCache } =
  createRequire(import.meta.url)('../dist/io/bundle-loader.cjs') as typeof import('../src/io/bundle-loader.cjs');

const CLI_BUNDLE = path.join(REPO_ROOT, 'dist', 'bundle', 'cli.cjs');
const WORKER_BUNDLE = path.join(REPO_ROOT, 'dist', 'bundle', 'worker.cjs');

describe('package files', () => {
  it('are found from the package root, from the sources too', () => {
    expect(packageFile('package.json')).toBe(path.join(REPO_ROOT, 'package.json'));
    expect(existsSync(packageFile('schemas/manifest-1.0.schema.json'))).toBe(true);
    expect(existsSync(packageFile('dist/wasm/ledger.wasm'))).toBe(true);
    expect(packageVersion()).toBe((JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    expect(runningFromSources()).toBe(true);
    expect(runningFromBundle()).toBe(false);
    // Outside a bundle the pool runs the compiled ES module worker.
    expect(workerFilePath()).toBe(path.join(REPO_ROOT, 'dist', 'engine', 'worker.js'));
  });

  it('a built file that is missing is an internal error that says what needs it and how to make it', () => {
    expect(readBuiltFile('dist/wasm/ledger.wasm', 'the scanner').subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(() => readBuiltFile('dist/wasm/none.wasm', 'the scanner')).toThrow(
      `the scanner needs ${path.join(REPO_ROOT, 'dist', 'wasm', 'none.wasm')} (run npm run build)`);
  });
});

describe('the bundles the build made', () => {
  it('load with their code caches accepted, and export what the bin (bin.cts) and piscina call', () => {
    expect(codeCacheAccepted(CLI_BUNDLE)).toBe(true);
    expect(codeCacheAccepted(WORKER_BUNDLE)).toBe(true);
    const worker = loadBundle(WORKER_BUNDLE) as Record<string, unknown>;
    for (const task of ['hashFiles', 'verifyEd25519', 'auditLedgerRange', 'warmLedgerAudit', 'merkleLeafHashes', 'readManifests']) {
      expect(typeof worker[task], task).toBe('function');
    }
    const entry = readFileSync(path.join(REPO_ROOT, 'dist', 'bundle', 'worker-entry.cjs'), 'utf8');
    expect(entry).toContain("require.resolve('./worker.cjs')");
  });

  it('are what the bin runs: doctor says the command line was loaded from the bundle with its code cache', async () => {
    const r = await runCli(['--config-dir', tempDir(), 'doctor', '--json']);
    const checks = (r.json as { checks: { check: string; ok: boolean; detail: string }[] }).checks;
    expect(checks.find((c) => c.check === 'command line')?.detail).toBe(`${CLI_BUNDLE}, with its code cache`);
  });

  it('list the licences of the packages bundled into them', () => {
    const notices = readFileSync(path.join(REPO_ROOT, 'dist', 'bundle', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    const bundled = readFileSync(CLI_BUNDLE, 'utf8');
    expect(bundled).toContain('node_modules/commander/');
    expect(notices).toMatch(/^commander \d+\.\d+\.\d+\n-+\n/m);
  });

  it("have piscina's pool bundled into the command line, starting threads on the installed package's worker file", () => {
    const cli = readFileSync(CLI_BUNDLE, 'utf8');
    expect(cli).toContain('// node_modules/piscina/dist/index.js');
    expect(cli).toMatch(/require\.resolve\(["']piscina["']\)\), ["']worker\.js["']\)/);
    expect(cli).not.toMatch(/__dirname, ["']worker\.js["']/);
    // The threads load piscina from node_modules, as piscina's own worker.js does (one copy of its symbols).
    expect(readFileSync(WORKER_BUNDLE, 'utf8')).not.toContain('node_modules/piscina/');
    expect(readFileSync(path.join(REPO_ROOT, 'dist', 'bundle', 'THIRD-PARTY-NOTICES.txt'), 'utf8')).toMatch(/^piscina \d+\.\d+\.\d+\n/m);
  });

  it('run in the pool threads too: a 2-job audit of a ledger big enough for the pool finds a bad line in any part', async () => {
    const dir = tempDir();
    // Over the size from which the audit starts pool threads (DEFAULT_POOL_FROM_BYTES).
    const lines = generateLedgerLines(14_000, { seed: 7 });
    const good = path.join(dir, 'good.jsonl');
    writeFileSync(good, `${lines.join('\n')}\n`);
    expect(statSync(good).size).toBeGreaterThan(DEFAULT_POOL_FROM_BYTES);
    const valid = await runCli(['--config-dir', dir, 'audit', 'verify-chain', '--ledger', good, '--jobs', '2', '--json']);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.json).toMatchObject({ status: 'valid', entries: 14_000, jobs: 2 });

    // The command's thread ran piscina from the bundle: it never loaded the installed package's modules.
    const hook = path.join(dir, 'loaded-piscina.cjs');
    writeFileSync(hook, "if (require('node:worker_threads').isMainThread) process.on('exit', () => " +
      "process.stderr.write('piscina modules loaded: ' + Object.keys(require.cache).filter((f) => f.includes('node_modules/piscina/')).length + '\\n'));\n");
    const traced = spawnSync(process.execPath, ['-r', hook, CLI, '--config-dir', dir, 'audit', 'verify-chain', '--ledger', good, '--jobs', '2'], { encoding: 'utf8' });
    expect(traced.status, traced.stderr).toBe(0);
    expect(traced.stdout).toContain('2 jobs');
    expect(traced.stderr).toContain('piscina modules loaded: 0\n');

    // A tampered entry near the end: the ranges there are checked by the pool thread (bundle/worker.cjs) or this one.
    const tampered = [...lines];
    tampered[13_500] = tampered[13_500]!.replace('"action":"', '"action":"x');
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, `${tampered.join('\n')}\n`);
    const invalid = await runCli(['--config-dir', dir, 'audit', 'verify-chain', '--ledger', bad, '--jobs', '2', '--json']);
    expect(invalid.code).toBe(1);
    expect(invalid.json).toMatchObject({ status: 'invalid', first_bad_line: 13_501, jobs: 2 });
  });
});

describe('a code cache that does not match', () => {
  const makeBundle = (dir: string, body: string): string => {
    const file = path.join(dir, 'sample.cjs');
    writeFileSync(file, body);
    return file;
  };

  it('is rejected by V8 and the bundle still loads from its source', () => {
    const dir = tempDir();
    const bundle = makeBundle(dir, 'exports.answer = () => 42;\n');
    expect((loadBundle(bundle) as { answer(): number }).answer()).toBe(42); // no cache yet: compiled from source
    expect(codeCacheAccepted(bundle)).toBe(false);
    expect(writeCodeCache(bundle)).toBeGreaterThan(0);
    expect(codeCacheAccepted(bundle)).toBe(true);
    expect((loadBundle(bundle) as { answer(): number }).answer()).toBe(42);

    // The source changed after the cache was written, to one of the same length (which V8's own check
    // would let through, running the old code): the cache is not used, the new source runs.
    writeFileSync(bundle, 'exports.answer = () => 43;\n');
    expect(codeCacheAccepted(bundle)).toBe(false);
    expect((loadBundle(bundle) as { answer(): number }).answer()).toBe(43);

    // A damaged cache file, with and without the right source digest: V8 rejects what follows the digest.
    writeFileSync(codeCacheFileOf(bundle), Buffer.from('not a code cache'));
    expect(codeCacheAccepted(bundle)).toBe(false);
    expect((loadBundle(bundle) as { answer(): number }).answer()).toBe(43);
    // (A source this process has not compiled yet: V8 answers a repeated compile from memory without reading any cache.)
    writeFileSync(bundle, 'exports.answer = () => 44;\n');
    const digest = createHash('sha256').update(readFileSync(bundle)).digest();
    writeFileSync(codeCacheFileOf(bundle), Buffer.concat([digest, Buffer.alloc(4096, 7)]));
    expect(codeCacheAccepted(bundle)).toBe(false);
    expect((loadBundle(bundle) as { answer(): number }).answer()).toBe(44);
  });

  it('gives the bundle the usual CommonJS module variables', () => {
    const dir = tempDir();
    const bundle = makeBundle(dir, 'module.exports = { file: __filename, dir: __dirname, resolves: require.resolve("./sample.cjs"), self: this === exports };\n');
    expect(loadBundle(bundle)).toEqual({ file: bundle, dir, resolves: bundle, self: true });
  });
});

describe('the bin', () => {
  it('says what to do when the bundle was not built, run as the bin or as dist/cli/main.js', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'dist', 'cli'), { recursive: true });
    copyFileSync(CLI, path.join(dir, 'dist', 'cli', 'bin.cjs'));
    copyFileSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'), path.join(dir, 'dist', 'cli', 'main.js'));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    for (const entry of ['bin.cjs', 'main.js']) {
      const result = spawnSync(process.execPath, [path.join(dir, 'dist', 'cli', entry), '--version'], { encoding: 'utf8' });
      expect(result.status, entry).toBe(2);
      expect(result.stderr, entry).toContain('dist/bundle/cli.cjs) is missing: run `npm run build`');
    }
  });

  it('is CommonJS, and dist/cli/main.js runs the same command', () => {
    expect(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).bin).toEqual({ 'blux-reg': 'dist/cli/bin.cjs' });
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    for (const entry of [CLI, path.join(REPO_ROOT, 'dist', 'cli', 'main.js')]) {
      const result = spawnSync(process.execPath, [entry, '--version'], { encoding: 'utf8' });
      expect(result.status, entry).toBe(0);
      expect(result.stdout.trim()).toBe(packageVersion());
    }
  });
});
