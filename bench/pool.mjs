// The engine's worker pool against the in-thread engine:
//   (a) hashing a ~1 GiB tree (a few 100 MiB files + many small ones): jobs=1, jobs=2, in-thread sha256File loop;
//   (b) 20,000 files of 1-16 KiB: files/s, same three ways;
//   (c) 50,000 Ed25519 verifications: verifyEd25519Parallel jobs=1 and 2 vs in-thread verifyEd25519Batch,
//       taking turns round by round, with the threads' CPU shares (main thread, GC helpers, workers idle);
//   (d) small verify batches, warm pool vs in-thread (where the in-thread threshold comes from),
//       and the cost of the first call on a cold pool.
//
//   npm run build && node bench/pool.mjs [--scale 1] [--runs 3] [--only a,b,c,d] [--backend native] [--invalid-every 0] [--json]
//
// Uses the compiled library (dist/). Every figure is the median of --runs timed
// runs, after one untimed run that warms the page cache and starts the pool's
// threads ((c): a warm-up call before each timed one, see verifyRows). The
// temp tree is deleted at the end.
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
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

import { prestartEnginePool } from '../dist/engine/pool.js';
import { median } from './lib/median.mjs';
import { threadShares, threadTimes } from './lib/thread-cpu.mjs';

const sodium = createRequire(import.meta.url)('sodium-native');

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    only: { type: 'string', default: 'a,b,c,d' },
    // native: the reference figures (sodium-native, ~15.5k verifications/s per core). auto/wasm verify batches as a whole.
    backend: { type: 'string', default: 'native' },
    // Every Nth signature made invalid (0: none). Rejections cost more than acceptances on every backend
    // (native re-checks them with the cofactored rule, wasm bisects the batch).
    'invalid-every': { type: 'string', default: '0' },
  },
});
const sections = new Set(args.only.split(','));
const { backend } = args;
const invalidEvery = Number(args['invalid-every']);
const scale = Number(args.scale);
const runs = Number(args.runs);
if (!(scale > 0) || !Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(invalidEvery) || invalidEvery < 0 || [...sections].some((x) => !'abcd'.includes(x) || x === '')) {
  console.error('usage: node bench/pool.mjs [--scale S>0] [--runs N>=1] [--only a,b,c,d] [--backend NAME] [--invalid-every N>=0] [--json]');
  process.exit(2);
}
const log = args.json ? () => undefined : (line) => console.log(line);

const KIB = 1024;
const MIB = 1024 * KIB;
const GB = 1e9;

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

/**
 * Signatures over 100-byte messages by 64 signers; every `invalidEvery`th one
 * broken (a flipped message bit). Keys from libsodium, not generateKeyPairSync
 * (Node 20.20 can deadlock when the GC destroys a finished key-generation job,
 * see src/bench/suites/ed25519.ts).
 */
function makeItems(count) {
  const keys = Array.from({ length: 64 }, () => {
    const publicKey = Buffer.alloc(32);
    const secretKey = Buffer.alloc(64);
    sodium.crypto_sign_keypair(publicKey, secretKey);
    return { publicKey: new Uint8Array(publicKey), secretKey };
  });
  const items = [];
  for (let i = 0; i < count; i++) {
    const { publicKey, secretKey } = keys[i % keys.length];
    const message = randomFillSync(new Uint8Array(100));
    const signature = new Uint8Array(64);
    sodium.crypto_sign_detached(signature, message, secretKey);
    if (invalidEvery > 0 && i % invalidEvery === 0) message[0] ^= 1;
    items.push({ publicKey, message, signature });
  }
  return items;
}

/** Items a warm-up call verifies: enough for several batches per worker. */
const VERIFY_WARMUP_ITEMS = 8192;
/**
 * How long a rebuilt pool is warmed up: its threads compile and tier up the
 * wasm module in the background for about a second (bench/wasm-ed25519.mjs).
 */
const POOL_WARMUP_MS = 1000;

/**
 * In-thread, jobs=1 and jobs=2 take turns, round after round (each first in
 * turn), so a change in the machine's load hits all three alike; medians of
 * --runs rounds. Each pool row starts with an untimed call on part of the
 * items: switching jobs rebuilds the pool, whose new threads load, compile
 * and tier up their code. Besides wall time, each row has where the
 * process's threads spent it (bench/lib/thread-cpu.mjs): the main thread's
 * CPU (screening and packing the items, messages), the other threads' (V8's
 * GC and compiler helpers) and the workers' idle share; with 2 jobs on 2
 * cores, all of that comes out of the workers' time.
 */
async function verifyRows(items) {
  const expected = await verifyEd25519Batch(items, { backend });
  const check = (verdicts) => {
    if (verdicts.length !== expected.length || verdicts.some((v, i) => v !== expected[i])) {
      throw new Error('parallel verdicts differ from in-thread ones');
    }
  };
  const warmup = items.slice(0, VERIFY_WARMUP_ITEMS);
  const configs = [
    { label: 'in-thread verifyEd25519Batch', jobs: 0, run: (list) => verifyEd25519Batch(list, { backend }) },
    { label: 'verifyEd25519Parallel jobs=1', jobs: 1, run: (list) => verifyEd25519Parallel(list, { backend, jobs: 1 }) },
    { label: 'verifyEd25519Parallel jobs=2', jobs: 2, run: (list) => verifyEd25519Parallel(list, { backend, jobs: 2 }) },
  ];
  const samples = new Map(configs.map((config) => [config.label, []]));
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < configs.length; k++) {
      const config = configs[(k + round) % configs.length];
      // Started first: a cold pool would leave the warm-up (and, for batch verifiers, small runs) in this thread.
      if (config.jobs > 0) prestartEnginePool(config.jobs);
      const warmUntil = performance.now() + (config.jobs > 0 ? POOL_WARMUP_MS : 0);
      do await config.run(warmup);
      while (performance.now() < warmUntil);
      const cpuBefore = process.cpuUsage();
      const threadsBefore = threadTimes();
      const start = performance.now();
      check(await config.run(items));
      const wallMs = performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      samples.get(config.label).push({
        seconds: wallMs / 1000,
        coresUsed: (cpu.user + cpu.system) / 1e3 / wallMs,
        threads: config.jobs > 0 ? threadShares(threadsBefore, threadTimes(), wallMs, config.jobs) : undefined,
      });
    }
  }
  const rows = {};
  for (const { label, jobs } of configs) {
    const list = samples.get(label);
    const seconds = median(list.map((sample) => sample.seconds));
    const threads = list.map((sample) => sample.threads).filter((shares) => shares !== undefined);
    rows[label] = {
      seconds,
      verifies_per_s: items.length / seconds,
      cores_used: median(list.map((sample) => sample.coresUsed)),
      ...(jobs > 0 && threads.length > 0
        ? {
            main_thread_share: median(threads.map((shares) => shares.main)),
            other_threads_share: median(threads.map((shares) => shares.others)),
            workers_idle_share: median(threads.map((shares) => shares.workersIdle)),
          }
        : {}),
    };
  }
  return rows;
}

/**
 * Where the pool starts to pay off. Warm: per-call cost of small batches
 * through running threads vs in-thread (below the warm threshold in
 * parallel.ts, verifyEd25519Parallel runs in-thread anyway, so sizes start
 * there). Cold: one call that must start the threads first (closeEnginePool
 * before each run), at sizes around the cold threshold.
 */
async function smallBatchRows(items) {
  const rows = {};
  for (const size of [64, 128, 256, 512, 2048]) {
    const batch = items.slice(0, size);
    const calls = Math.max(4, Math.floor(8192 / size));
    const inThread = await medianSeconds(async () => {
      for (let i = 0; i < calls; i++) await verifyEd25519Batch(batch, { backend });
    });
    const pooled = await medianSeconds(async () => {
      for (let i = 0; i < calls; i++) await verifyEd25519Parallel(batch, { backend, jobs: 2 });
    });
    rows[`warm, ${size} items`] = {
      in_thread_ms: (inThread.seconds / calls) * 1000,
      pool_jobs2_ms: (pooled.seconds / calls) * 1000,
      pool_cores_used: pooled.cores_used,
    };
  }
  for (const size of [2048, 4096, 8192]) {
    const batch = items.slice(0, size);
    const inThread = await medianSeconds(() => verifyEd25519Batch(batch, { backend }));
    const cold = await medianSeconds(async () => {
      await closeEnginePool();
      await verifyEd25519Parallel(batch, { backend, jobs: 2 });
    });
    rows[`cold, ${size} items`] = {
      in_thread_ms: inThread.seconds * 1000,
      pool_jobs2_ms: cold.seconds * 1000,
      pool_cores_used: cold.cores_used,
    };
  }
  return rows;
}

// --- run -------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-pool-bench-'));
const result = {
  cores: os.availableParallelism(),
  runs,
  scale,
  backend,
  invalid_every: invalidEvery,
  // Other processes on the box take cores from the pool: a jobs=2 speed-up needs two idle cores.
  load_average_1m_at_start: os.loadavg()[0],
};
try {
  log(`cores: ${result.cores}; load average ${result.load_average_1m_at_start.toFixed(2)}; median of ${runs} runs; temp data in ${dir}`);

  // (a) ~1 GiB at scale 1: 8 x 100 MiB, 16 x 10 MiB, 8,000 small files.
  if (sections.has('a')) {
    const mixed = [
      ...writeFiles(path.join(dir, 'mixed'), 'huge', Math.max(1, Math.round(8 * scale)), () => 100 * MIB),
      ...writeFiles(path.join(dir, 'mixed'), 'mid', Math.max(1, Math.round(16 * scale)), () => 10 * MIB),
      ...writeFiles(path.join(dir, 'mixed', 'small'), 'small', Math.max(1, Math.round(8000 * scale)), smallSize),
    ];
    warmPageCache(mixed);
    const rows = await hashingRows(mixed);
    const jobs2OverJobs1 = rows['sha256Files jobs=2'].gb_per_s / rows['sha256Files jobs=1'].gb_per_s;
    result.mixed_tree = { files: mixed.length, bytes: totalBytes(mixed), rows, jobs2_over_jobs1: jobs2OverJobs1, target: 1.8 };
    fs.rmSync(path.join(dir, 'mixed'), { recursive: true, force: true });
  }

  // (b) 20,000 small files.
  if (sections.has('b')) {
    const small = writeFiles(path.join(dir, 'small'), 'f', Math.max(1, Math.round(20000 * scale)), smallSize);
    warmPageCache(small);
    result.small_files = { files: small.length, bytes: totalBytes(small), rows: await hashingRows(small), target_files_per_s: 5000 };
  }

  // (c) 50,000 signatures; (d) small batches from the same items.
  if (sections.has('c') || sections.has('d')) {
    const items = makeItems(Math.max(8192, Math.round(50000 * scale)));
    if (sections.has('c')) {
      const rows = await verifyRows(items);
      const jobs2OverJobs1 = rows['verifyEd25519Parallel jobs=2'].verifies_per_s / rows['verifyEd25519Parallel jobs=1'].verifies_per_s;
      result.ed25519 = { items: items.length, rows, jobs2_over_jobs1: jobs2OverJobs1 };
    }
    if (sections.has('d')) result.small_batches = await smallBatchRows(items);
  }
} finally {
  await closeEnginePool();
  fs.rmSync(dir, { recursive: true, force: true });
}

const fixed = (value, digits) => value.toFixed(digits).padStart(10);

function printHashing(title, section, rate, unit, digits) {
  log('');
  log(title);
  log(`                                   seconds ${unit.padStart(9)} cores used`);
  for (const [label, row] of Object.entries(section.rows)) {
    log(`  ${label.padEnd(30)} ${fixed(row.seconds, 3)} ${fixed(row[rate], digits)} ${fixed(row.cores_used, 2)}`);
  }
}

if (args.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const { mixed_tree: mixed, small_files: small, ed25519, small_batches: batches } = result;
  if (mixed !== undefined) {
    printHashing(`(a) mixed tree: ${mixed.files} files, ${(mixed.bytes / GB).toFixed(2)} GB`, mixed, 'gb_per_s', 'GB/s', 2);
    log(`  jobs2 / jobs1: ${mixed.jobs2_over_jobs1.toFixed(2)}x (target >= ${mixed.target}x)`);
  }
  if (small !== undefined) {
    printHashing(`(b) small files: ${small.files} files of 1-16 KiB`, small, 'files_per_s', 'files/s', 0);
    log(`  target: >= ${small.target_files_per_s} files/s`);
  }
  if (ed25519 !== undefined) {
    const invalid = invalidEvery > 0 ? `every ${invalidEvery}th invalid` : 'all valid';
    printHashing(`(c) Ed25519, ${backend} backend: ${ed25519.items} items (${invalid})`, ed25519, 'verifies_per_s', 'verifies/s', 0);
    log(`  jobs2 / jobs1: ${ed25519.jobs2_over_jobs1.toFixed(2)}x`);
    const percent = (share) => `${(100 * share).toFixed(1)} %`.padStart(10);
    log('  CPU in % of a core:               main thread  other threads  workers idle');
    for (const [label, row] of Object.entries(ed25519.rows)) {
      if (row.main_thread_share === undefined) continue;
      log(`  ${label.padEnd(30)} ${percent(row.main_thread_share)}   ${percent(row.other_threads_share)}    ${percent(row.workers_idle_share)}`);
    }
  }
  if (batches !== undefined) {
    log('');
    log(`(d) small verify batches, ${backend} backend, ms per call (warm: threads running; cold: started by the call)`);
    log('                       in-thread  pool jobs=2  cores used');
    for (const [label, row] of Object.entries(batches)) {
      log(`  ${label.padEnd(18)} ${fixed(row.in_thread_ms, 2)}   ${fixed(row.pool_jobs2_ms, 2)}  ${fixed(row.pool_cores_used, 2)}`);
    }
  }
}
