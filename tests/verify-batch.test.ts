// Acceptance (verify-batch): a generated release tree with every kind of
// problem gets the right verdict per artifact, through the CLI.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyBatch } from '../src/batch/verify-batch.js';
import { closeEnginePool } from '../src/engine/index.js';
import { configPaths } from '../src/store/paths.js';
import { loadTrustContext } from '../src/trust/context.js';
import { REPO_ROOT, runCli, tempDir } from './helpers/cli.js';

const isRoot = process.getuid?.() === 0;
/** As root, permissions don't bite: the unreadable-file case runs the CLI as `nobody` instead. */
const NOBODY = 65534;

let dir: string;
let config: string;
let tree: string;
const cli = (...args: string[]) => runCli(['--config-dir', config, ...args]);

function write(rel: string, content: string | Buffer): string {
  const file = path.join(tree, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

async function sign(rel: string, key: string, ...extra: string[]): Promise<void> {
  const r = await cli('sign', path.join(tree, rel), '--key-name', key, ...extra);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  dir = tempDir('blux-reg-batch-');
  fs.chmodSync(dir, 0o755);
  config = path.join(dir, 'config');
  tree = path.join(dir, 'dist');
  for (const key of ['alice', 'bob', 'carol']) expect((await cli('keygen', '--name', key, '--no-passphrase')).code).toBe(0);

  write('app.tar.gz', Buffer.alloc(3 * 1024 * 1024 + 5, 1));
  write('empty.bin', '');
  write('nested/deep/résumé ✓.bin', 'unicode names work\n');
  write('unsigned.dat', 'nobody signed me');
  write('tampered.bin', 'original content');
  write('manifest-tampered.bin', 'content');
  write('unreadable.bin', 'secret');
  write('revoked.bin', 'signed by carol');
  write('cosigned.bin', 'two signers');
  write('legacy.txt', 'a 1.0 manifest');
  for (const rel of ['app.tar.gz', 'empty.bin', 'nested/deep/résumé ✓.bin', 'tampered.bin', 'manifest-tampered.bin', 'unreadable.bin']) await sign(rel, 'alice');
  await sign('legacy.txt', 'bob', '--format', '1.0');
  await sign('revoked.bin', 'carol');
  await sign('cosigned.bin', 'alice');
  await sign('cosigned.bin', 'bob');
  expect((await cli('key', 'revoke', 'carol', '--reason', 'test', '--revoker', 'ops')).code).toBe(0);

  // Tamper: an artifact byte (same size), and a signed manifest field.
  write('tampered.bin', 'Original content');
  const mt = path.join(tree, 'manifest-tampered.bin.blux-manifest.json');
  fs.writeFileSync(mt, fs.readFileSync(mt, 'utf8').replace('"metadata": {}', '"metadata": {"injected": true}'));
  // A manifest pointing outside the tree.
  fs.writeFileSync(path.join(dir, 'secret.bin'), 'outside');
  fs.writeFileSync(path.join(tree, 'escape.blux-manifest.json'), JSON.stringify({
    schema_version: '1.0', artifact_path: '../secret.bin', artifact_sha256: 'a'.repeat(64), created_at: '2026-01-01T00:00:00+00:00',
    key_fingerprint: 'b'.repeat(64), signature: `${'A'.repeat(86)}==`,
  }));
  // Symlink loops: a folder linking to its parent, and a link to itself.
  fs.symlinkSync('..', path.join(tree, 'nested', 'back-to-top'));
  fs.symlinkSync('self-loop', path.join(tree, 'self-loop'));

  // Everything readable by `nobody` except the unreadable file.
  for (const p of walk(dir)) fs.chmodSync(p, fs.lstatSync(p).isDirectory() ? 0o755 : 0o644);
  fs.chmodSync(path.join(tree, 'unreadable.bin'), 0o000);
  out = path.join(dir, 'out');
  fs.mkdirSync(out);
  fs.chmodSync(out, 0o777);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function walk(root: string): string[] {
  const out: string[] = [root];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    const p = path.join(root, entry.name);
    out.push(...(entry.isDirectory() ? walk(p) : [p]));
  }
  return out;
}

/** Where the runs write reports: writable by `nobody` too. */
let out: string;

async function batch(...extra: string[]) {
  return batchWith([], ...extra);
}

async function batchWith(globals: string[], ...extra: string[]) {
  const env = { HOME: dir };
  const args = ['--config-dir', config, ...globals, 'verify-batch', tree, '--recursive', '--json', ...extra];
  const r = isRoot ? await runAs(NOBODY, args, env) : await runCli(args, { env });
  return r;
}

/** Runs the CLI as another user (only possible as root). */
function runAs(uid: number, args: string[], env: NodeJS.ProcessEnv) {
  return import('node:child_process').then(({ execFile }) => new Promise<{ code: number; stdout: string; stderr: string; json: any }>((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'dist/cli/main.js'), ...args], { uid, gid: uid, env: { ...process.env, ...env }, cwd: dir, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      let json;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr, json });
    });
  }));
}

const rel = (p: string) => `${tree}/${p}`;

describe('verify-batch over a tree with every kind of problem', () => {
  it('gives each artifact the right verdict and reason, and exit 1', async () => {
    const r = await batch();
    expect(r.json, r.stderr).toBeDefined();
    const byPath = new Map<string, { verdict: string; reason: string }>(r.json.results.map((x: { path: string; verdict: string; reason: string }) => [x.path, { verdict: x.verdict, reason: x.reason }]));
    const expected: Record<string, [string, string]> = {
      'app.tar.gz': ['verified', 'ok'],
      'empty.bin': ['verified', 'ok'],
      'nested/deep/résumé ✓.bin': ['verified', 'ok'],
      'legacy.txt': ['verified', 'ok'],
      'cosigned.bin': ['verified', 'ok'],
      'unsigned.dat': ['unsigned', 'unsigned'],
      'tampered.bin': ['failed', 'artifact-hash-mismatch'],
      'manifest-tampered.bin': ['failed', 'bad-signature'],
      'escape.blux-manifest.json': ['failed', 'path-traversal'],
      'nested/back-to-top': ['failed', 'symlink-loop'],
      'self-loop': ['failed', 'symlink-loop'],
      'unreadable.bin': ['failed', 'artifact-unreadable'],
      'revoked.bin': ['failed', 'key-revoked'],
    };
    for (const [p, [verdict, reason]] of Object.entries(expected)) {
      expect(byPath.get(rel(p)), p).toEqual({ verdict, reason });
    }
    expect(r.json.results).toHaveLength(Object.keys(expected).length);
    expect(r.json.totals).toMatchObject({ artifacts: 13, verified: 5, unsigned: 1, failed: 7 });
    expect(r.json.results.map((x: { path: string }) => x.path)).toEqual([...r.json.results.map((x: { path: string }) => x.path)].sort());
    expect(r.code).toBe(1);
  });

  it('--require-signers 2 passes only the co-signed artifact', async () => {
    const r = await batch('--require-signers', '2');
    const verified = r.json.results.filter((x: { verdict: string }) => x.verdict === 'verified').map((x: { path: string }) => x.path);
    expect(verified).toEqual([rel('cosigned.bin')]);
    const cosigned = r.json.results.find((x: { path: string }) => x.path === rel('cosigned.bin'));
    expect(cosigned.signers.map((s: { name: string }) => s.name).sort()).toEqual(['alice', 'bob']);
  });

  it('exit 0 on a clean subtree, 1 with --require-signed when a file is unsigned, 2 on usage errors', async () => {
    const clean = await runCli(['--config-dir', config, 'verify-batch', path.join(tree, 'nested'), '--recursive', '--json'], { env: { HOME: dir } });
    // nested/ holds a verified file and a loop back to the top: the loop is a failure.
    expect(clean.code).toBe(1);
    const deep = await runCli(['--config-dir', config, 'verify-batch', path.join(tree, 'nested', 'deep'), '--json']);
    expect(deep.code, deep.stderr).toBe(0);
    expect(deep.json.status).toBe('ok');
    fs.writeFileSync(path.join(tree, 'nested', 'deep', 'stray.txt'), 'unsigned');
    try {
      expect((await runCli(['--config-dir', config, 'verify-batch', path.join(tree, 'nested', 'deep')])).code).toBe(0);
      expect((await runCli(['--config-dir', config, 'verify-batch', path.join(tree, 'nested', 'deep'), '--require-signed'])).code).toBe(1);
    } finally {
      fs.rmSync(path.join(tree, 'nested', 'deep', 'stray.txt'));
    }
    expect((await cli('verify-batch')).code).toBe(2);
    expect((await cli('verify-batch', tree, '--shard', '4/3')).code).toBe(2);
    expect((await cli('verify-batch', tree, '--jobs', 'many')).code).toBe(2);
  });

  it('the JSON report validates against its schema', async () => {
    const r = await batch();
    const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas/verify-batch-report.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: true }).compile(schema);
    expect(validate(r.json), JSON.stringify(validate.errors)).toBe(true);
  });

  it('--junit writes well-formed XML with one testcase per artifact', async () => {
    const junit = path.join(out, 'junit.xml');
    const r = await batch('--junit', junit);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml);
    const cases = parsed.testsuites.testsuite.testcase;
    expect(cases).toHaveLength(r.json.results.length);
    const failures = cases.filter((c: { failure?: unknown }) => c.failure !== undefined);
    expect(failures).toHaveLength(r.json.totals.failed);
  });

  it('shards 1/3 + 2/3 + 3/3 merged equal the unsharded report', async () => {
    const whole = await batch();
    const files: string[] = [];
    for (const k of [1, 2, 3]) {
      const file = path.join(out, `shard-${k}.json`);
      fs.rmSync(file, { force: true });
      await batch('--shard', `${k}/3`, '--output', file);
      files.push(file);
    }
    const merged = await runCli(['report', 'merge', ...files, '--json']);
    expect(merged.code).toBe(1);
    const strip = (report: { results: unknown[]; totals: unknown; status: unknown; tree: unknown }) =>
      ({ results: report.results, totals: report.totals, status: report.status, tree: report.tree });
    expect(strip(merged.json)).toEqual(strip(whole.json));
    expect(merged.json.shards.map((s: { index: number }) => s.index)).toEqual([1, 2, 3]);

    // Refusals: overlapping shards, a missing shard, a different tree.
    expect((await runCli(['report', 'merge', files[0]!, files[0]!])).code).toBe(2);
    expect((await runCli(['report', 'merge', files[0]!, files[1]!])).code).toBe(2);
    expect((await runCli(['report', 'merge', files[0]!, files[1]!, '--partial', '--json'])).json.status).toBe('failed');
    const other = path.join(out, 'other.json');
    await runCli(['--config-dir', config, 'verify-batch', path.join(tree, 'nested', 'deep'), '--shard', '3/3', '--output', other]);
    expect((await runCli(['report', 'merge', files[0]!, files[1]!, other])).code).toBe(2);
  });

  it('--fail-fast stops early and still reports a failure', async () => {
    const r = await batch('--fail-fast', '--jobs', '1');
    expect(r.code).toBe(1);
    expect(r.json.stopped_early).toBe(true);
    expect(r.json.totals.failed).toBeGreaterThanOrEqual(1);
  });

  it('reads and checks the manifests in the pool threads with the same results as in its own thread', async () => {
    const trust = await loadTrustContext({ paths: configPaths(config) });
    const run = async (manifestPoolFrom: number) => {
      const report = await verifyBatch([tree], { trust, recursive: true, jobs: 2, manifestPoolFrom }).report();
      return report.results;
    };
    const poolRun = vi.spyOn(Piscina.prototype, 'run');
    try {
      const inThread = await run(Number.POSITIVE_INFINITY);
      expect(poolRun.mock.calls.filter(([, options]) => options?.name === 'readManifests')).toHaveLength(0);
      const inPool = await run(0);
      expect(poolRun.mock.calls.filter(([, options]) => options?.name === 'readManifests').length).toBeGreaterThan(0);
      expect(inPool).toEqual(inThread);
      // Every kind of manifest outcome is in there: verified, tampered, traversal, 1.0, co-signed, revoked.
      expect(new Set(inThread.map((r) => r.reason)).size).toBeGreaterThanOrEqual(6);
    } finally {
      poolRun.mockRestore();
      await closeEnginePool();
    }
  }, 60_000);

  it('gives the same verdicts on the js backend and with one job', async () => {
    const native = await batch();
    const js = await batch('--jobs', '1');
    const viaJs = await batchWith(['--backend', 'js']);
    const verdicts = (r: { json: { results: { path: string; verdict: string; reason: string }[] } }) =>
      r.json.results.map((x) => [x.path, x.verdict, x.reason]);
    expect(verdicts(js)).toEqual(verdicts(native));
    expect(verdicts(viaJs)).toEqual(verdicts(native));
  });
});
