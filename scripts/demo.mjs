#!/usr/bin/env node
// `npm run demo`: the main job end to end, in a throwaway config folder.
// Each step runs the real `blux-reg` command and shows it; the demo fails
// (exit 1) if any step does not end the way it should.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(root, 'dist', 'cli', 'bin.cjs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-reg-demo-'));
const config = path.join(work, 'config');
const release = path.join(work, 'release');
const env = { ...process.env, BLUX_REG_CONFIG_DIR: config };
delete env.BLUX_REG_PASSPHRASE;

let step = 0;
function blux(title, args, { expectExit = 0, env: stepEnv = env } = {}) {
  step += 1;
  console.log(`\n[${step}] ${title}\n$ blux-reg ${args.map((a) => (/[\s'"{}]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { env: stepEnv, encoding: 'utf8' });
  const ms = performance.now() - started;
  const indent = (text) => (text === '' ? '' : text.replace(/\n$/, '').replace(/^/gm, '  ') + '\n');
  process.stdout.write(indent(r.stdout));
  process.stdout.write(indent(r.stderr));
  if (r.status !== expectExit) {
    console.error(`\ndemo FAILED at step ${step}: exit ${r.status}, expected ${expectExit}`);
    process.exit(1);
  }
  console.log(`  -> exit ${r.status} (${ms.toFixed(0)} ms)`);
  return r.stdout;
}

/** Writes `bytes` of pseudo-random data in 4 MiB pieces (never all in memory). */
function writeBigFile(file, bytes) {
  const fd = fs.openSync(file, 'w');
  const piece = randomBytes(4 * 1024 * 1024);
  for (let done = 0; done < bytes; done += piece.length) {
    piece[0] ^= done & 0xff; // vary each piece a little
    fs.writeSync(fd, piece, 0, Math.min(piece.length, bytes - done));
  }
  fs.closeSync(fd);
}

try {
  console.log(`blux-reg demo: config folder ${config}`);
  fs.mkdirSync(release, { recursive: true });
  const passFile = path.join(work, 'alice.pass');
  fs.writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });

  blux('Create the release key "alice", encrypted at rest (Argon2id + XChaCha20-Poly1305)', ['keygen', '--name', 'alice', '--passphrase-file', passFile]);
  blux('Create a second key "bob" for co-signing (unencrypted)', ['keygen', '--name', 'bob', '--no-passphrase']);
  blux('List the keys', ['key', 'list']);

  console.log('\nBuilding a sample release in', release);
  writeBigFile(path.join(release, 'app-1.0.0-linux-x64.tar.gz'), 64 * 1024 * 1024);
  fs.writeFileSync(path.join(release, 'README.txt'), 'blux-reg demo release 1.0.0\n');
  fs.writeFileSync(path.join(release, 'sbom.json'), JSON.stringify({ name: 'app', version: '1.0.0', components: [] }, null, 2));
  fs.writeFileSync(path.join(release, 'notes – café ✓.md'), '# Release notes\n\nNon-ASCII file names work too.\n');
  const files = fs.readdirSync(release).sort();
  for (const f of files) console.log(`  ${f}  ${fs.statSync(path.join(release, f)).size} bytes`);

  for (const f of files) {
    blux(`Sign ${f} with alice`, ['sign', path.join(release, f), '--key-name', 'alice', '--passphrase-file', passFile,
      ...(f.endsWith('.tar.gz') ? ['--metadata', '{"version":"1.0.0","channel":"stable"}'] : [])]);
  }
  for (const f of files) blux(`Verify ${f}`, ['verify', path.join(release, `${f}.blux-manifest.json`)]);

  const big = path.join(release, 'app-1.0.0-linux-x64.tar.gz');
  blux('Co-sign the tarball with bob (adds a second signature to the same manifest)', ['sign', big, '--key-name', 'bob']);
  blux('Verify it requiring two distinct trusted signers', ['verify', `${big}.blux-manifest.json`, '--require-signers', '2', '--json']);

  blux('Verify the whole release set at once, on all cores', ['verify-batch', release, '--recursive']);

  const tampered = path.join(release, 'README.txt');
  fs.appendFileSync(tampered, 'one more line\n');
  blux('Tamper with README.txt: verification must fail (exit 1)', ['verify', `${tampered}.blux-manifest.json`], { expectExit: 1 });
  blux('verify-batch finds it too, and lists every artifact in a JUnit report for CI', ['verify-batch', release, '--recursive', '--junit', path.join(work, 'junit.xml')], { expectExit: 1 });

  const token = path.join(work, 'publish.token.json');
  blux('Issue a capability token: alice lets the CI publish for an hour', ['issue', 'alice', 'publish', 'acme/ci', '3600',
    '--constraints', '{"branch":"main"}', '--output', token, '--passphrase-file', passFile]);
  blux('Verify the token for its audience', ['token', 'verify', token, '--audience', 'acme/ci']);
  const tokenHash = blux('Compute its hash', ['hash', token]).trim();
  blux('Revoke it', ['revoke', tokenHash, '--reason', 'demo', '--revoker', 'security-team']);
  blux('Verify again: now revoked (exit 1)', ['token', 'verify', token], { expectExit: 1 });

  blux('Show the end of the ledger (entries by a local key are signed)', ['audit', 'tail', '-n', '5']);
  blux('Audit the whole ledger: every entry hash, link and signature, with an HTML report',
    ['audit', 'verify-chain', '--report-html', path.join(work, 'audit.html')]);

  // Transparency: a witnessed checkpoint of the ledger and an offline proof for the tarball.
  blux('Create a log key, which signs checkpoints of the ledger', ['keygen', '--name', 'log', '--no-passphrase']);
  blux('(the witness would be another party, with its own machine and key)', ['keygen', '--name', 'witness-1', '--no-passphrase']);
  const checkpoint = JSON.parse(blux('Sign a checkpoint of the ledger (C2SP: origin, size, Merkle root)', ['ledger', 'checkpoint', '--key', 'log', '--json'])).file;
  const policy = path.join(work, 'policy.txt');
  const logKey = blux('The log key, for the trust policy', ['ledger', 'log-key', '--key', 'log']).trim();
  const witnessKey = blux('The witness key', ['witness', 'key', '--key', 'witness-1']).trim();
  fs.writeFileSync(policy, `log ${logKey}\nwitness witness-1 ${witnessKey}\nquorum witness-1\n`);
  console.log(`\nTrust policy ${policy}:\n${fs.readFileSync(policy, 'utf8').replace(/^/gm, '  ')}`);
  blux('The witness checks the checkpoint and cosigns it', ['witness', 'cosign', checkpoint, '--key', 'witness-1', '--policy', policy, '--in-place']);
  const bundle = path.join(work, 'app.proof.json');
  blux('Write an offline proof bundle for the tarball (manifest, keys, ledger entry, inclusion proof, cosigned checkpoint)',
    ['proof', big, '--output', bundle]);
  const offline = { ...env, BLUX_REG_CONFIG_DIR: path.join(work, 'no-such-config') };
  blux('Verify it with no config folder and no network: only the artifact, the bundle and the policy',
    ['verify', big, '--proof', bundle, '--policy', policy], { env: offline });
  blux('Health check', ['doctor']);
  console.log(`\ndemo OK: ${step} steps`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
