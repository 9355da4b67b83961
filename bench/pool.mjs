// The engine's worker pool against the in-thread engine:
//   (a) hashing a ~1 GiB tree (a few 100 MiB files + many small ones): jobs=1, jobs=2, in-thread sha256File loop;
//   (b) 20,000 files of 1-16 KiB: files/s, same three ways;
//   (c) 50,000 Ed25519 verifications: verifyEd25519Parallel jobs=1 and 2 vs in-thread verifyEd25519Batch;
//   (d) small verify batches, warm pool vs in-thread (where the in-thread threshold comes from),
//       and the cost of the first call on a cold pool.
//
//   npm run build && node bench/pool.mjs [--scale 1] [--runs 3] [--json]
//
// Uses the compiled library (dist/). Every figure is the median of --runs timed
// runs, after one untimed run that warms the page cache and starts the pool's
// threads. The temp tree is deleted at the end.
import { generateKeyPairSync, randomFillSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import {
  closeEnginePool,
  sha256File,
  sha256Files,
  verifyEd25519Batch,
  verifyEd25519Parallel,
} from '../dist/engine/index.js';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const scale = Number(args.scale);
const runs = Number(args.runs);
if (!(scale > 0) || !Number.isSafeInteger(runs) || runs < 1) {
  console.error('usage: node bench/pool.mjs [--scale S>0] [--runs N>=1] [--json]');
  process.exit(2);
}
const log = args.json ? () => undefined : (line) => console.log(line);

const KIB = 1024;
const MIB = 1024 * KIB;
const GB = 1e9;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * One untimed run, then the median of `runs` timed ones: wall seconds, and
 * the cores the process kept busy meanwhile (its CPU time, worker threads
 * included, over wall time). With 2 jobs on 2 cores, `cores_used` well under
 * 2 means other processes held a core and the speed-up could not show.
 */
async function medianSeconds(work) {
  await work();
  const times = [];
  const coresUsed = [];
  for (let i = 0; i < runs; i++) {
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await work();
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    times.push(seconds);
    coresUsed.push((cpu.user + cpu.system) / 1e6 / seconds);
  }
  return { seconds: median(times), cores_used: median(coresUsed) };
}

// --- data ------------------------------------------------------------------

/** Writes `count` files of sizes from `sizeOf(i)` under `dir`, from one random block (content does not matter to SHA-256's speed). */
function writeFiles(dir, prefix, count, sizeOf) {
  const block = randomFillSync(Buffer.allocUnsafe(8 * MIB));
  const files = [];
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `${prefix}-${i}.bin`);
    const size = sizeOf(i);
    const fd = fs.openSync(file, 'w');
    try {
      for (let written = 0; written < size; ) {
        const length = Math.min(block.length, size - written);
        // Start each file at a different place in the block so files differ.
        const from = (i * 4099) % (block.length - length + 1);
        written += fs.writeSync(fd, block, from, length);
      }
    } finally {
      fs.closeSync(fd);
    }
    files.push({ path: file, size });
  }
  return files;
}

const smallSize = (i) => KIB + ((i * 7919) % (15 * KIB + 1));
const totalBytes = (files) => files.reduce((sum, f) => sum + f.size, 0);

/** Reads every file once so the timed runs measure hashing, not the disk. */
function warmPageCache(files) {
  const buffer = Buffer.allocUnsafe(8 * MIB);
  for (const { path: file } of files) {
    const fd = fs.openSync(file, 'r');
    try {
      while (fs.readSync(fd, buffer, 0, buffer.length) > 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

// --- hashing ---------------------------------------------------------------

async function hashWithPool(files, jobs) {
  let count = 0;
  for await (const result of sha256Files(files, { jobs })) {
    if (!result.ok) throw new Error(`${result.path}: ${result.message}`);
    count++;
  }
  if (count !== files.length) throw new Error(`got ${count} results for ${files.length} files`);
}

/** What a caller without the pool would write: one file after another, engine defaults. */
async function hashInThread(files) {
  for (const { path: file } of files) await sha256File(file);
}

async function hashingRows(files) {
  const bytes = totalBytes(files);
  const rows = {};
  for (const [label, work] of [
    ['in-thread sha256File loop', () => hashInThread(files)],
    ['sha256Files jobs=1', () => hashWithPool(files, 1)],
    ['sha256Files jobs=2', () => hashWithPool(files, 2)],
  ]) {
    const { seconds, cores_used } = await medianSeconds(work);
    rows[label] = { seconds, gb_per_s: bytes / GB / seconds, files_per_s: files.length / seconds, cores_used };
  }
  return rows;
}

// --- Ed25519 ---------------------------------------------------------------

function rawPublicKey(publicKey) {
  return Uint8Array.from(Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url'));
}

/** Valid signatures over 100-byte messages, 64 signers, every 10th item broken (a flipped message bit). */
function makeItems(count) {
  const keys = Array.from({ length: 64 }, () => generateKeyPairSync('ed25519'));
  const items = [];
  for (let i = 0; i < count; i++) {
    const { privateKey, publicKey } = keys[i % keys.length];
    const message = randomFillSync(new Uint8Array(100));
    const signature = Uint8Array.from(sign(null, message, privateKey));
    if (i % 10 === 0) message[0] ^= 1;
    items.push({ publicKey: rawPublicKey(publicKey), message, signature });
  }
  return items;
}

async function verifyRows(items) {
  const expected = await verifyEd25519Batch(items);
  const check = (verdicts) => {
    if (verdicts.length !== expected.length || verdicts.some((v, i) => v !== expected[i])) {
      throw new Error('parallel verdicts differ from in-thread ones');
    }
  };
  const rows = {};
  for (const [label, work] of [
    ['in-thread verifyEd25519Batch', async () => check(await verifyEd25519Batch(items))],
    ['verifyEd25519Parallel jobs=1', async () => check(await verifyEd25519Parallel(items, { jobs: 1 }))],
    ['verifyEd25519Parallel jobs=2', async () => check(await verifyEd25519Parallel(items, { jobs: 2 }))],
  ]) {
    const { seconds, cores_used } = await medianSeconds(work);
    rows[label] = { seconds, verifies_per_s: items.length / seconds, cores_used };
  }
  return rows;
}

/**
 * Per-call cost of small batches through a warm 2-thread pool vs in-thread:
 * where the pool starts to pay off. (Below the threshold in parallel.ts,
 * verifyEd25519Parallel runs in-thread anyway, so only sizes at or above it
 * are listed.)
 */
async function smallBatchRows(items) {
  const rows = {};
  for (const size of [64, 128, 256, 512, 2048]) {
    const batch = items.slice(0, size);
    const calls = Math.max(4, Math.floor(8192 / size));
    const inThread = await medianSeconds(async () => {
      for (let i = 0; i < calls; i++) await verifyEd25519Batch(batch);
    });
    const pooled = await medianSeconds(async () => {
      for (let i = 0; i < calls; i++) await verifyEd25519Parallel(batch, { jobs: 2 });
    });
    rows[`${size} items`] = {
      in_thread_ms_per_call: (inThread.seconds / calls) * 1000,
      pool_jobs2_ms_per_call: (pooled.seconds / calls) * 1000,
    };
  }
  await closeEnginePool();
  const coldItems = items.slice(0, 256);
  const coldStart = performance.now();
  await verifyEd25519Parallel(coldItems, { jobs: 2 });
  rows['256 items, cold pool (threads started by the call)'] = {
    pool_jobs2_ms_per_call: performance.now() - coldStart,
  };
  return rows;
}

// --- run -------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-pool-bench-'));
const result = {
  cores: os.availableParallelism(),
  runs,
  scale,
  // Other processes on the box take cores from the pool: a jobs=2 speed-up needs two idle cores.
  load_average_1m_at_start: os.loadavg()[0],
};
try {
  log(`cores: ${result.cores}; load average ${result.load_average_1m_at_start.toFixed(2)}; median of ${runs} runs; temp data in ${dir}`);

  // (a) ~1 GiB at scale 1: 8 x 100 MiB, 16 x 10 MiB, 8,000 small files.
  const mixed = [
    ...writeFiles(path.join(dir, 'mixed'), 'huge', Math.max(1, Math.round(8 * scale)), () => 100 * MIB),
    ...writeFiles(path.join(dir, 'mixed'), 'mid', Math.max(1, Math.round(16 * scale)), () => 10 * MIB),
    ...writeFiles(path.join(dir, 'mixed', 'small'), 'small', Math.max(1, Math.round(8000 * scale)), smallSize),
  ];
  warmPageCache(mixed);
  result.mixed_tree = { files: mixed.length, bytes: totalBytes(mixed), rows: await hashingRows(mixed) };
  const mixedRows = result.mixed_tree.rows;
  result.mixed_tree.jobs2_over_jobs1 = mixedRows['sha256Files jobs=2'].gb_per_s / mixedRows['sha256Files jobs=1'].gb_per_s;
  fs.rmSync(path.join(dir, 'mixed'), { recursive: true, force: true });

  // (b) 20,000 small files.
  const small = writeFiles(path.join(dir, 'small'), 'f', Math.max(1, Math.round(20000 * scale)), smallSize);
  warmPageCache(small);
  result.small_files = { files: small.length, bytes: totalBytes(small), rows: await hashingRows(small) };

  // (c) 50,000 signatures.
  const items = makeItems(Math.max(64, Math.round(50000 * scale)));
  result.ed25519 = { items: items.length, rows: await verifyRows(items) };
  const verifyRowsOut = result.ed25519.rows;
  result.ed25519.jobs2_over_jobs1 =
    verifyRowsOut['verifyEd25519Parallel jobs=2'].verifies_per_s / verifyRowsOut['verifyEd25519Parallel jobs=1'].verifies_per_s;

  // (d) small batches.
  result.small_batches = await smallBatchRows(items);

  result.targets = {
    mixed_tree_jobs2_over_jobs1: { target: 1.8, measured: result.mixed_tree.jobs2_over_jobs1 },
    small_files_per_s_jobs2: { target: 5000, measured: result.small_files.rows['sha256Files jobs=2'].files_per_s },
  };
} finally {
  await closeEnginePool();
  fs.rmSync(dir, { recursive: true, force: true });
}

if (args.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const fixed = (value, digits) => value.toFixed(digits).padStart(10);
  log('');
  log(`(a) mixed tree: ${result.mixed_tree.files} files, ${(result.mixed_tree.bytes / GB).toFixed(2)} GB`);
  log('                                   seconds      GB/s cores used');
  for (const [label, row] of Object.entries(result.mixed_tree.rows)) {
    log(`  ${label.padEnd(30)} ${fixed(row.seconds, 3)} ${fixed(row.gb_per_s, 2)} ${fixed(row.cores_used, 2)}`);
  }
  log(`  jobs2 / jobs1: ${result.mixed_tree.jobs2_over_jobs1.toFixed(2)}x (target >= 1.8x)`);
  log('');
  log(`(b) small files: ${result.small_files.files} files of 1-16 KiB`);
  log('                                   seconds   files/s cores used');
  for (const [label, row] of Object.entries(result.small_files.rows)) {
    log(`  ${label.padEnd(30)} ${fixed(row.seconds, 3)} ${fixed(row.files_per_s, 0)} ${fixed(row.cores_used, 2)}`);
  }
  log('  target: >= 5,000 files/s');
  log('');
  log(`(c) Ed25519: ${result.ed25519.items} items`);
  log('                                   seconds  verifies/s cores used');
  for (const [label, row] of Object.entries(result.ed25519.rows)) {
    log(`  ${label.padEnd(30)} ${fixed(row.seconds, 3)} ${fixed(row.verifies_per_s, 0)} ${fixed(row.cores_used, 2)}`);
  }
  log(`  jobs2 / jobs1: ${result.ed25519.jobs2_over_jobs1.toFixed(2)}x`);
  log('');
  log('(d) small verify batches, ms per call');
  log('                                                      in-thread   pool jobs=2');
  for (const [label, row] of Object.entries(result.small_batches)) {
    const inThread = row.in_thread_ms_per_call === undefined ? '-'.padStart(10) : fixed(row.in_thread_ms_per_call, 2);
    log(`  ${label.padEnd(50)} ${inThread}    ${fixed(row.pool_jobs2_ms_per_call, 2)}`);
  }
}
