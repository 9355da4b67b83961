// The ledger audit (issue 5): `audit verify-chain` on a 1,000,000-entry
// ledger in the original's format (~400-byte lines) and on a signed
// 1,000,000-entry ledger by 16 actors, per kernel and with --jobs 1 and 2,
// side by side in the same run with the naive TypeScript loop (readline +
// JSON.parse + canonicalize + SHA-256 per line, the way blux-reg 0.2 and our
// first audit worked) and with `sha256sum` of the same file (the machine's
// speed yardstick). Peak RSS of the audit process on 1M and 10M entries.
//
//   npm run build && node bench/ledger-audit.mjs [--quick] [--skip-10m | --only-10m] [--skip-signed] [--skip-naive] [--runs 3] [--json]
//
// --skip-signed / --skip-naive: leave out the signed ledger or the naive loop
// (most of the script's time), e.g. to take more runs of the unsigned rows.
// --quick: 200,000 unsigned and 50,000 signed entries, one run, no 10M ledger.
// --only-10m: only the peak RSS of an audit of a 10,000,000-entry ledger
// (~4.2 GB in the temp folder; TMPDIR picks where), with 2 jobs and with 1.
// Wall times are medians over --runs runs, with the tools interleaved within
// each run so a noisy neighbour hits all of them alike; compare ratios.
// Ledgers are generated in a temp folder (deleted at the end).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import sodium from 'sodium-native';

import { auditLedger } from '../dist/audit/audit-ledger.js';
import { availableLedgerKernels } from '../dist/audit/kernels.js';
import { closeEnginePool, isEnginePoolWarm } from '../dist/engine/pool.js';
import { canonicalPython } from '../dist/formats/canonical/python.js';
import { fromPlain } from '../dist/formats/canonical/json-value.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, '..', 'dist', 'cli', 'bin.cjs');

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string' },
    'signed-entries': { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'skip-10m': { type: 'boolean', default: false },
    'only-10m': { type: 'boolean', default: false },
    'skip-naive': { type: 'boolean', default: false },
    'skip-signed': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // Internal: run one audit in this process and print its wall time and peak RSS.
    'child-audit': { type: 'string' },
    jobs: { type: 'string', default: '2' },
    'trusted-keys': { type: 'string' },
  },
});

if (args['child-audit'] !== undefined) {
  const started = performance.now();
  const report = await auditLedger(args['child-audit'], { jobs: Number(args.jobs) });
  const seconds = (performance.now() - started) / 1000;
  await closeEnginePool();
  // maxRSS covers the worker threads too: they live in this process.
  console.log(JSON.stringify({ seconds, status: report.status, entries: report.entries, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const quick = args.quick;
const unsignedCount = Number(args.entries ?? (quick ? 200_000 : 1_000_000));
const signedCount = Number(args['signed-entries'] ?? (quick ? 50_000 : 1_000_000));
const runs = Number(args.runs ?? (quick ? 1 : 3));
const only10m = args['only-10m'];
const with10m = only10m || (!quick && !args['skip-10m']);
if (only10m && (quick || args['skip-10m'])) {
  console.error('usage: --only-10m cannot be combined with --quick or --skip-10m');
  process.exit(2);
}
for (const [name, n] of [['--entries', unsignedCount], ['--signed-entries', signedCount], ['--runs', runs]]) {
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`usage: node bench/ledger-audit.mjs [--quick] [--skip-10m | --only-10m] [--runs N] [--entries N] [--signed-entries N] [--json] (${name} must be a positive integer)`);
    process.exit(2);
  }
}
const log = args.json ? () => undefined : (line) => console.error(line);

// ---------------------------------------------------------------------------
// Generators: canonical lines written in one stream, keys in sorted order
// ---------------------------------------------------------------------------

const ACTIONS = ['sign', 'verify', 'event', 'token-issue', 'token-revoke', 'keygen'];
const hex = (seed) => createHash('sha256').update(seed).digest('hex');

function makeSigners(count) {
  return Array.from({ length: count }, (_, i) => {
    const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
    const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, createHash('sha256').update(`bench signer ${i}`).digest());
    return { publicKey, secretKey, fingerprint: hex(publicKey) };
  });
}

/** PEM of a raw Ed25519 public key (SPKI), for --trusted-keys. */
function publicKeyPem(raw) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
}

/**
 * `count` entries like the original's (keygen/sign/verify/token events by 16
 * actors, artifact and manifest hashes on most), chained, optionally signed.
 * Lines are built in canonical key order directly (what canonicalPython would print).
 */
async function generateLedger(file, count, signers, sign) {
  const out = fs.createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
  const day0 = Date.UTC(2026, 0, 20);
  const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
  let prev = null;
  let pending = [];
  for (let i = 0; i < count; i++) {
    const signer = signers[i % signers.length];
    const action = ACTIONS[i % ACTIONS.length];
    const artifact = i % 3 !== 0 ? 'null' : `"${hex(`a${i}`)}"`;
    const manifest = i % 3 !== 1 ? 'null' : `"${hex(`m${i}`)}"`;
    const ts = `${new Date(day0 + i * 1000).toISOString().slice(0, 19)}+00:00`;
    const prevJson = prev === null ? 'null' : `"${prev}"`;
    const head = `{"action":"${action}","actor":"${signer.fingerprint}","artifact_hash":${artifact}`;
    const tail = `"manifest_hash":${manifest},"payload_summary":"${action}:release-${i}.tar.gz","prev_hash":${prevJson}`;
    let sigMember = '';
    if (sign) {
      sodium.crypto_sign_detached(signature, Buffer.from(`${head},${tail},"ts":"${ts}"}`), signer.secretKey);
      sigMember = `,"sig":"${signature.toString('base64')}"`;
    }
    const entryHash = hex(`${head},${tail}${sigMember},"ts":"${ts}"}`);
    pending.push(`${head},"entry_hash":"${entryHash}",${tail}${sigMember},"ts":"${ts}"}\n`);
    prev = entryHash;
    if (pending.length === 10_000) {
      if (!out.write(pending.join(''))) await new Promise((resolve) => out.once('drain', resolve));
      pending = [];
    }
  }
  out.end(pending.join(''));
  await new Promise((resolve, reject) => out.on('finish', resolve).on('error', reject));
}

// ---------------------------------------------------------------------------
// Contenders
// ---------------------------------------------------------------------------

function wall(command, argv) {
  const started = performance.now();
  const result = spawnSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

function sha256sum(file) {
  const r = wall('sha256sum', [file]);
  if (r.status !== 0) throw new Error('sha256sum failed');
  return r.seconds;
}

function cliAudit(file, jobs, backend, extra = []) {
  const r = wall(process.execPath, [CLI, '--backend', backend, 'audit', 'verify-chain', '--ledger', file, '--jobs', String(jobs), '--json', ...extra]);
  if (r.stdout.trim() === '') throw new Error(`audit printed nothing (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
  const report = JSON.parse(r.stdout);
  if (r.status !== 0 || report.status !== 'valid') throw new Error(`audit failed: ${r.stdout.slice(0, 300)}`);
  return { seconds: r.seconds, report };
}

/**
 * One audit in this process: wall seconds, and the process's CPU seconds
 * (all threads), which a loaded machine inflates far less than wall time.
 * In-process rows measure the audit, not thread start-up and first JIT: the
 * engine pool is rebuilt whenever the job count changes, so a cold pool gets
 * one untimed audit first (the CLI rows include start-up, as users see it).
 */
async function inProcessAudit(file, jobs, kernel, trust) {
  const options = { jobs, ...(kernel ? { kernel } : {}), ...(trust ? { trust } : {}) };
  if (!isEnginePoolWarm(jobs)) await auditLedger(file, options);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const report = await auditLedger(file, options);
  const cpu = process.cpuUsage(cpuBefore);
  if (report.status !== 'valid') throw new Error(`in-process audit: ${report.reason}`);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The naive loop: readline, JSON.parse, canonicalize, SHA-256 per line, link check. */
async function naiveAudit(file) {
  const started = performance.now();
  let prev = null;
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line);
    const claimed = entry.entry_hash;
    delete entry.entry_hash;
    if (createHash('sha256').update(canonicalPython(fromPlain(entry))).digest('hex') !== claimed || entry.prev_hash !== prev) {
      throw new Error('naive audit found a broken chain');
    }
    prev = claimed;
  }
  return (performance.now() - started) / 1000;
}

function peakRss(file, jobs) {
  const r = wall(process.execPath, [fileURLToPath(import.meta.url), '--child-audit', file, '--jobs', String(jobs)]);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ---------------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-ledger-audit-bench-'));
const results = { machine: { cpus: os.availableParallelism(), node: process.version }, unsigned: {}, signed: {}, rss: {} };

/** The 1M comparison: every contender side by side, interleaved per run; fills results.unsigned, .signed, .rows and the 1M RSS. */
async function compareContenders(signers) {
  const keysDir = path.join(dir, 'keys');
  fs.mkdirSync(keysDir);
  signers.forEach((s, i) => fs.writeFileSync(path.join(keysDir, `actor-${i}.pub.pem`), publicKeyPem(s.publicKey)));
  const trust = { keys: signers.map((s) => ({ fingerprint: s.fingerprint, publicKey: new Uint8Array(s.publicKey) })), revokedAt: [], requireSigned: false };

  const unsigned = path.join(dir, 'ledger-unsigned.jsonl');
  const signed = path.join(dir, 'ledger-signed.jsonl');
  let t = performance.now();
  await generateLedger(unsigned, unsignedCount, signers, false);
  log(`generated ${unsignedCount.toLocaleString('en-US')} unsigned entries (${(fs.statSync(unsigned).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const withSigned = !args['skip-signed'];
  if (withSigned) {
    t = performance.now();
    await generateLedger(signed, signedCount, signers, true);
    log(`generated ${signedCount.toLocaleString('en-US')} signed entries (${(fs.statSync(signed).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const unsignedBytes = fs.statSync(unsigned).size;
  results.unsigned.entries = unsignedCount;
  results.unsigned.bytes = unsignedBytes;
  results.unsigned.bytes_per_line = Math.round(unsignedBytes / unsignedCount);
  if (withSigned) results.signed.entries = signedCount;

  // Warm the page cache and the CLI's modules once, so run 1 is not special.
  sha256sum(unsigned);
  if (withSigned) sha256sum(signed);
  cliAudit(unsigned, 1, 'auto');

  const samples = {};
  const cpuSamples = {};
  const add = (name, seconds) => (samples[name] ??= []).push(seconds);
  const addInProcess = (name, timing) => {
    add(name, timing.seconds);
    (cpuSamples[name] ??= []).push(timing.cpuSeconds);
  };
  for (let run = 0; run < runs; run++) {
    log(`run ${run + 1}/${runs}`);
    add('sha256sum', sha256sum(unsigned));
    for (const jobs of [1, 2]) {
      // --backend wasm selects the wasm kernel; auto (the default) the native one (the addon); --kernel node is node:crypto per line.
      for (const backend of ['auto', 'wasm']) add(`cli --backend ${backend} jobs=${jobs}`, cliAudit(unsigned, jobs, backend).seconds);
      add(`cli --kernel node jobs=${jobs}`, cliAudit(unsigned, jobs, 'auto', ['--kernel', 'node']).seconds);
      for (const kernel of availableLedgerKernels()) addInProcess(`in-process ${kernel} kernel jobs=${jobs}`, await inProcessAudit(unsigned, jobs, kernel));
    }
    if (!withSigned) continue;
    add('signed sha256sum', sha256sum(signed));
    for (const jobs of [1, 2]) {
      for (const backend of ['auto', 'native']) {
        add(`signed cli --backend ${backend} jobs=${jobs}`, cliAudit(signed, jobs, backend, ['--trusted-keys', keysDir, '--no-keystore', '--require-signed']).seconds);
      }
      addInProcess(`signed in-process jobs=${jobs}`, await inProcessAudit(signed, jobs, undefined, trust));
    }
  }
  if (!args['skip-naive']) add('naive TypeScript loop', await naiveAudit(unsigned));
  await closeEnginePool();

  const sum = median(samples['sha256sum']);
  const signedSum = withSigned ? median(samples['signed sha256sum']) : Number.NaN;
  results.rows = Object.entries(samples).map(([name, values]) => {
    const isSigned = name.startsWith('signed');
    const seconds = median(values);
    const entries = isSigned ? signedCount : unsignedCount;
    const cpu = cpuSamples[name];
    return {
      name, seconds, entries_per_second: Math.round(entries / seconds), vs_sha256sum: seconds / (isSigned ? signedSum : sum), runs: values.length,
      ...(cpu ? { cpu_us_per_entry: (median(cpu) * 1e6) / entries } : {}),
    };
  });
  if (withSigned) fs.rmSync(signed);

  // Peak RSS of a whole audit process (workers included), default jobs.
  results.rss[`${unsignedCount.toLocaleString('en-US')} entries, 2 jobs`] = peakRss(unsigned, 2);
  fs.rmSync(unsigned);
}

/** Peak RSS of audits of a 10,000,000-entry ledger (~4.2 GB on disk), with 2 jobs and with 1. */
async function measure10m(signers) {
  const big = path.join(dir, 'ledger-10m.jsonl');
  const t = performance.now();
  await generateLedger(big, 10_000_000, signers, false);
  log(`generated 10,000,000 entries (${(fs.statSync(big).size / 1e9).toFixed(2)} GB) in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  for (const jobs of [2, 1]) {
    const r = peakRss(big, jobs);
    if (r.status !== 'valid' || r.entries !== 10_000_000) throw new Error(`10M audit: ${JSON.stringify(r)}`);
    results.rss[`10,000,000 entries, ${jobs} job${jobs > 1 ? 's' : ''}`] = r;
    log(`10M audit, ${jobs} job(s): peak RSS ${r.maxRssMb.toFixed(0)} MB, ${r.seconds.toFixed(1)} s`);
  }
  fs.rmSync(big);
}

function printTables() {
  if (results.rows !== undefined) {
    const { unsigned } = results;
    const signedPart = results.signed.entries === undefined ? '' : ` and ${signedCount.toLocaleString('en-US')} signed entries by 16 actors`;
    console.log(`\nLedger audit, ${unsignedCount.toLocaleString('en-US')} unsigned entries (${(unsigned.bytes / 1e6).toFixed(0)} MB, ~${unsigned.bytes_per_line} B/line)${signedPart}; ${results.machine.cpus} cores, Node ${process.version}; medians of ${runs} run(s)\n`);
    console.log('| contender | wall s | entries/s | x sha256sum of the same file | CPU us/entry (all threads) |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of results.rows) {
      const cpu = r.cpu_us_per_entry === undefined ? '' : r.cpu_us_per_entry.toFixed(2);
      console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${r.entries_per_second.toLocaleString('en-US')} | ${r.vs_sha256sum.toFixed(2)} | ${cpu} |`);
    }
  }
  console.log('\n| peak RSS (whole audit process) | MB | audit s |');
  console.log('|---|---:|---:|');
  for (const [name, r] of Object.entries(results.rss)) console.log(`| ${name} | ${r.maxRssMb.toFixed(0)} | ${r.seconds.toFixed(2)} |`);
}

try {
  const signers = makeSigners(16);
  if (!only10m) await compareContenders(signers);
  if (with10m) await measure10m(signers);
  if (args.json) console.log(JSON.stringify(results, null, 2));
  else printTables();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
