// The wasm backend (issue 4, acceptance 3), side by side in one run with
// libsodium (the native backend), with tinybench:
//
//   npm run build && node bench/wasm-ed25519.mjs [--quick] [--time 3000] [--sizes 64,256,1024,16384]
//                                                 [--sections thread,pool,invalid,msm,sha256] [--json]
//
// Sections (all by default):
// - thread: one thread. sodium-native single verification; wasm single (a
//   batch of one per call); wasm batches of each size with (a) all keys
//   distinct and (b) 16 keys repeated. Targets: wasm batch >= 0.8x sodium
//   single on (a), >= 1.5x on (b).
// - pool: the engine pool's workers, 1 and 2 of them alternating round by
//   round, each task one batch of the given size (packed and transferred as
//   verifyEd25519Parallel does, two tasks in flight per worker), streamed
//   for a window (--time / rounds, see measurePool), for the native and wasm
//   backends; the 2-worker / 1-worker ratio per row, and where the threads'
//   time went (main thread, GC helpers, workers idle). Target: >= 1.8x.
// - invalid: a batch of 1,024 distinct keys with 0, 1, 10, 50 and 100 %
//   invalid signatures (message changed after signing: the point checks pass
//   and only the equation fails, the costly case for a batch verifier).
// - msm: the multi-scalar multiplication inside each wasm batch check, forced
//   to Pippenger, Straus or Bos-Coster, against the default choice (auto), by
//   batch size; calls interleaved round-robin, medians (see measureMsm).
// - sha256: hash-wasm (the wasm backend's SHA-256) against node:crypto (what
//   auto uses), 1 MiB messages.
//
// Rows of the thread, invalid and sha256 sections are items per second from
// tinybench's mean latency of one call times the items in that call; ratios
// compare rows of the same run. Every call's verdicts are checked against
// the expected ones: a benchmark that verified nothing proves nothing.
// --quick: 300 ms per row, sizes 64 and 1,024, for a smoke run (numbers only
// roughly comparable). Only the pool section: --sections pool.
//
// The decoded-key cache (4,096 keys per thread) is warm for (b) after the
// first call, as in a long-running verifier; for (a) calls cycle through
// batches holding more keys than the cache, so keys are decoded every time.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { Bench } from 'tinybench';

import { getBackend, closeEnginePool } from '../dist/engine/index.js';
import { createWasmBackend, loadHashWasm, MSM_METHODS, wasmSha256Implementation } from '../dist/engine/backends/wasm.js';
import { getEnginePool } from '../dist/engine/pool.js';
import { packEd25519Batch } from '../dist/engine/worker.js';
import { median } from './lib/median.mjs';
import { threadShares, threadTimes } from './lib/thread-cpu.mjs';

const SECTIONS = ['thread', 'pool', 'invalid', 'msm', 'sha256'];
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    time: { type: 'string' },
    sizes: { type: 'string' },
    sections: { type: 'string', default: SECTIONS.join(',') },
    json: { type: 'boolean', default: false },
  },
});
const timeMs = Number(args.time ?? (args.quick ? 300 : 3000));
const sizes = (args.sizes ?? (args.quick ? '64,1024' : '64,256,1024,16384')).split(',').map(Number);
const sections = new Set(args.sections.split(','));
for (const name of sections) {
  if (!SECTIONS.includes(name)) {
    console.error(`unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
    process.exit(2);
  }
}
if (!(timeMs > 0) || sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
  console.error('usage: node bench/wasm-ed25519.mjs [--quick] [--time ms] [--sizes n,n,...] [--sections a,b] [--json]');
  process.exit(2);
}

const REPEATED_KEYS = 16;
const WASM_KEY_CACHE_SIZE = 4096;
const INVALID_BATCH = 1024;
const INVALID_PERCENTS = [0, 1, 10, 50, 100];
const SINGLE_ITEMS = 256;
const POOL_JOBS = [1, 2];
const SHA256_MESSAGE_BYTES = 1 << 20;

const sodium = createRequire(import.meta.url)('sodium-native');

function makeKeys(count) {
  return Array.from({ length: count }, () => {
    const publicKey = Buffer.alloc(32);
    const secretKey = Buffer.alloc(64);
    sodium.crypto_sign_keypair(publicKey, secretKey);
    return { publicKey, secretKey };
  });
}

/** `count` signed 100-byte messages; keyCount distinct keys (round robin). */
function makeItems(count, keyCount) {
  const keys = makeKeys(keyCount);
  return Array.from({ length: count }, (_, i) => {
    const { publicKey, secretKey } = keys[i % keyCount];
    const message = Buffer.alloc(100);
    sodium.randombytes_buf(message);
    const signature = Buffer.alloc(64);
    sodium.crypto_sign_detached(signature, message, secretKey);
    return { publicKey: new Uint8Array(publicKey), message: new Uint8Array(message), signature: new Uint8Array(signature) };
  });
}

/** Batches of n distinct keys, enough of them to hold more keys than a thread's cache. */
function distinctBatches(n) {
  return Array.from({ length: Math.ceil((2 * WASM_KEY_CACHE_SIZE) / n) + 1 }, () => makeItems(n, n));
}

/** Cycles through `sets` on every call. */
function cycler(sets) {
  let round = 0;
  return () => sets[round++ % sets.length];
}

function assertVerdicts(verdicts, expected, label) {
  for (let i = 0; i < expected.length; i++) {
    if (verdicts[i] !== expected[i]) throw new Error(`${label}: wrong verdict for item ${i}`);
  }
}
const allTrue = (n) => new Array(n).fill(true);

const native = getBackend('native');
const wasm = getBackend('wasm');

/** Rows of one tinybench run: name -> { items per call, section, group (rows compared with each other) }. */
const rowInfo = new Map();
const bench = new Bench({ time: timeMs, warmup: true, warmupIterations: 1, iterations: 3 });
function add(section, group, name, itemsPerCall, fn) {
  rowInfo.set(name, { section, group, itemsPerCall });
  bench.add(name, fn);
}

if (sections.has('thread')) {
  const singleItems = makeItems(SINGLE_ITEMS, SINGLE_ITEMS);
  add('thread', 'thread', 'sodium-native single', SINGLE_ITEMS, async () => {
    assertVerdicts(await native.verifyEd25519Batch(singleItems), allTrue(SINGLE_ITEMS), 'sodium');
  });
  add('thread', 'thread', 'wasm single', SINGLE_ITEMS, async () => {
    for (const item of singleItems) assertVerdicts(await wasm.verifyEd25519Batch([item]), [true], 'wasm single');
  });
  for (const n of sizes) {
    const nextDistinct = cycler(distinctBatches(n));
    add('thread', 'thread', `wasm batch ${n} (a) distinct keys`, n, async () => {
      assertVerdicts(await wasm.verifyEd25519Batch(nextDistinct()), allTrue(n), `wasm batch ${n} (a)`);
    });
    const repeated = makeItems(n, REPEATED_KEYS);
    add('thread', 'thread', `wasm batch ${n} (b) ${REPEATED_KEYS} keys`, n, async () => {
      assertVerdicts(await wasm.verifyEd25519Batch(repeated), allTrue(n), `wasm batch ${n} (b)`);
    });
  }
}

if (sections.has('invalid')) {
  const items = makeItems(INVALID_BATCH, INVALID_BATCH);
  for (const percent of INVALID_PERCENTS) {
    // Spread evenly: item i is invalid when i * percent / 100 crosses an integer (percent % of them).
    const expected = items.map((_, i) => Math.floor((i * percent) / 100) === Math.floor(((i + 1) * percent) / 100));
    const mixed = items.map((item, i) => (expected[i] ? item : { ...item, message: Uint8Array.from(item.message, (b, j) => (j === 0 ? b ^ 1 : b)) }));
    const group = `invalid ${percent}`;
    add('invalid', group, `sodium-native batch ${INVALID_BATCH}, ${percent} % invalid`, INVALID_BATCH, async () => {
      assertVerdicts(await native.verifyEd25519Batch(mixed), expected, `native ${percent} %`);
    });
    add('invalid', group, `wasm batch ${INVALID_BATCH}, ${percent} % invalid`, INVALID_BATCH, async () => {
      assertVerdicts(await wasm.verifyEd25519Batch(mixed), expected, `wasm ${percent} %`);
    });
  }
}

/**
 * The msm section is measured round-robin, not by tinybench: one call of each
 * method in turn, repeated, the median per method. On a shared machine the
 * load changes from one second to the next; interleaving gives every method
 * the same conditions, so the ratios hold even when the absolute rates do not.
 */
const MSM_SIZES = [1, 4, 16, ...sizes];
async function measureMsm() {
  const forced = Object.fromEntries(MSM_METHODS.map((method) => [method, createWasmBackend({ msm: method })]));
  const out = [];
  for (const n of MSM_SIZES) {
    const nextDistinct = cycler(distinctBatches(n));
    const times = Object.fromEntries(MSM_METHODS.map((method) => [method, []]));
    const deadline = performance.now() + timeMs * MSM_METHODS.length;
    for (let round = 0; round < 3 || performance.now() < deadline; round++) {
      const batch = nextDistinct();
      // Each method first in turn: none always runs right after a batch switch.
      for (const [k] of MSM_METHODS.entries()) {
        const method = MSM_METHODS[(k + round) % MSM_METHODS.length];
        const start = performance.now();
        const verdicts = await forced[method].verifyEd25519Batch(batch);
        times[method].push(performance.now() - start);
        assertVerdicts(verdicts, allTrue(n), `msm ${method} ${n}`);
      }
    }
    for (const method of MSM_METHODS) {
      const sorted = times[method].sort((a, b) => a - b);
      const medianMs = sorted[sorted.length >> 1];
      out.push({ section: 'msm', group: `msm ${n}`, name: `wasm batch ${n} (a), msm ${method}`, perSecond: (n * 1000) / medianMs, samples: sorted.length });
    }
  }
  return out;
}

if (sections.has('sha256')) {
  // The wasm backend computes SHA-256 with node:crypto until hash-wasm has loaded: wait for it, and check every call.
  await loadHashWasm();
  const message = new Uint8Array(SHA256_MESSAGE_BYTES).fill(0x61);
  const expected = Buffer.from(native.sha256(message)).toString('hex');
  for (const [name, backend, implementation] of [
    ['node:crypto (native, auto)', native, undefined],
    ['hash-wasm (wasm)', wasm, 'hash-wasm'],
  ]) {
    add('sha256', 'sha256', `SHA-256 1 MiB, ${name}`, SHA256_MESSAGE_BYTES, () => {
      if (implementation !== undefined && wasmSha256Implementation() !== implementation) throw new Error(`${name}: not measuring ${implementation}`);
      if (Buffer.from(backend.sha256(message)).toString('hex') !== expected) throw new Error(`${name}: wrong digest`);
    });
  }
}

/**
 * The pool section streams tasks instead of timing calls with tinybench: a
 * call of a fixed number of tasks ends with a barrier where the faster worker
 * waits for the slower one, and rows run one after the other drift apart on
 * a shared machine. Here each worker keeps two batches in flight (one running,
 * one queued, as verifyEd25519Parallel keeps them) for a window after a
 * warm-up (the pool is rebuilt for each worker count: threads start, JIT and
 * the key cache warm up); 1 and 2 workers alternate, round after round, and
 * the medians are kept. The rate counts the batches that complete inside the
 * window, from one completion to the last, so no start or end is measured.
 *
 * Each window also records where the threads' time went (bench/lib/thread-cpu.mjs):
 * the main thread's CPU (packing, messages), the other threads' (V8's GC and
 * compiler helpers), and how long the workers sat idle waiting for a task.
 * With 2 workers on 2 cores, all of that comes out of the workers' share.
 */
const POOL_ROUNDS = args.quick ? 2 : 3;
/**
 * A new pool's threads load their modules, compile the wasm module and tier
 * it up in the background: other threads took 9-17 % of a core for the first
 * ~1.2 s of a 2-worker pool at load ~3, 1-4 % after (bench/lib/thread-cpu.mjs
 * in 400 ms slices). With 2 workers that compilation competes with them; with
 * one it has a core to itself, so a short warm-up lowers the ratio.
 */
const POOL_WARMUP_MS = args.quick ? 300 : 1000;
/** At least this many completed batches per worker inside a window, however slow the batches. */
const POOL_MIN_BATCHES_PER_WORKER = 4;
const POOL_TASKS_IN_FLIGHT_PER_WORKER = 2;

/**
 * Streams batches from `next()` through a pool of `jobs` workers, packed and
 * transferred as verifyEd25519Parallel does, for a warm-up and then for
 * `windowMs`: signatures per second and the threads' shares; verdicts checked.
 */
async function streamOnPool(backend, jobs, next, n, windowMs) {
  const pool = getEnginePool(jobs);
  const startedAt = performance.now();
  let completed = 0;
  /** The first completion after the warm-up: { at, cpu, completed }. */
  let windowStart;
  /** The last completion inside the window. */
  let windowEnd;
  let cpuEnd;
  let countedItems = 0;
  const inWindow = () =>
    performance.now() < windowStart.at + windowMs || completed - windowStart.completed < POOL_MIN_BATCHES_PER_WORKER * jobs;
  const lane = async () => {
    while (windowStart === undefined || inWindow()) {
      const batch = packEd25519Batch(next());
      const output = await pool.run({ batch, backend }, { name: 'verifyEd25519', transferList: [batch] });
      // indexOf is a native scan: checking costs the main thread next to nothing.
      if (output.length !== n || output.indexOf(0) !== -1) throw new Error(`pool ${backend}: wrong verdicts`);
      const at = performance.now();
      completed++;
      if (windowStart === undefined) {
        if (at - startedAt >= POOL_WARMUP_MS && completed >= 2 * jobs) windowStart = { at, cpu: threadTimes(), completed };
      } else if (inWindow()) {
        windowEnd = at;
        countedItems += n;
      } else {
        cpuEnd ??= { at, cpu: threadTimes() };
      }
    }
  };
  await Promise.all(Array.from({ length: POOL_TASKS_IN_FLIGHT_PER_WORKER * jobs }, lane));
  cpuEnd ??= { at: performance.now(), cpu: threadTimes() };
  return {
    perSecond: (countedItems * 1000) / (windowEnd - windowStart.at),
    threads: threadShares(windowStart.cpu, cpuEnd.cpu, cpuEnd.at - windowStart.at, jobs),
  };
}

/** Medians of the rounds' thread shares (undefined off Linux). */
function medianShares(runs) {
  const shares = runs.map((run) => run.threads).filter((threads) => threads !== undefined);
  if (shares.length === 0) return undefined;
  return Object.fromEntries(['main', 'others', 'workersIdle'].map((key) => [key, median(shares.map((threads) => threads[key]))]));
}

async function measurePool() {
  const out = [];
  const windowMs = timeMs / POOL_ROUNDS;
  for (const backend of ['native', 'wasm']) {
    for (const n of sizes) {
      const keyModes = backend === 'wasm' ? ['(a) distinct keys', `(b) ${REPEATED_KEYS} keys`] : ['(a) distinct keys'];
      for (const keys of keyModes) {
        const next = keys.startsWith('(a)') ? cycler(distinctBatches(n)) : cycler([makeItems(n, REPEATED_KEYS)]);
        const runs = new Map(POOL_JOBS.map((jobs) => [jobs, []]));
        for (let round = 0; round < POOL_ROUNDS; round++) {
          // Each worker count goes first in turn.
          const order = round % 2 === 0 ? POOL_JOBS : [...POOL_JOBS].reverse();
          for (const jobs of order) runs.get(jobs).push(await streamOnPool(backend, jobs, next, n, windowMs));
        }
        await closeEnginePool();
        for (const [jobs, list] of runs) {
          out.push({
            section: 'pool',
            group: `pool ${backend} ${n} ${keys}`,
            name: `pool ${backend}, batches of ${n} ${keys}, ${jobs} worker(s)`,
            perSecond: median(list.map((run) => run.perSecond)),
            samples: list.length,
            rounds: list.map((run) => run.perSecond),
            threads: medianShares(list),
          });
        }
      }
    }
  }
  return out;
}

await bench.run();
await closeEnginePool();
const poolRows = sections.has('pool') ? await measurePool() : [];
const msmRows = sections.has('msm') ? await measureMsm() : [];

for (const task of bench.tasks) {
  if (task.result.state !== 'completed') throw new Error(`${task.name}: ${task.result.state} ${task.result.error?.stack ?? ''}`);
}
const rows = bench.tasks.map((task) => {
  const { section, group, itemsPerCall } = rowInfo.get(task.name);
  const meanMs = task.result.latency.mean;
  return { section, group, name: task.name, perSecond: (itemsPerCall * 1000) / meanMs, samples: task.result.latency.samplesCount ?? task.runs };
});
rows.push(...poolRows, ...msmRows);
// Each row against the first row of its group: sodium single (thread),
// sodium at the same invalid rate, auto at the same size, node:crypto,
// one worker at the same batch and keys.
for (const row of rows) {
  const first = rows.find((r) => r.group === row.group);
  row.ratio = row.perSecond / first.perSecond;
  row.versus = first.name;
}

if (args.json) {
  console.log(JSON.stringify({ node: process.version, timeMs, sizes, rows }, null, 2));
} else {
  const TITLES = {
    thread: 'One thread, signatures/s; ratio against sodium-native single (targets: (a) >= 0.80x, (b) >= 1.50x)',
    invalid: `Invalid signatures in a batch of ${INVALID_BATCH}, signatures/s; ratio against sodium-native at the same rate`,
    msm: 'Multi-scalar multiplication of the wasm batch check, signatures/s (median of interleaved calls); ratio against auto (the default) at the same size',
    sha256: 'SHA-256 of 1 MiB, bytes/s; ratio against node:crypto',
    pool:
      'Engine pool, signatures/s (median of rounds, 1 and 2 workers alternating); ratio against 1 worker (target: 2 workers >= 1.80x);\n' +
      'CPU of the main thread and of the other threads (GC, compiler) in % of one core, and the share of time the workers sat idle waiting for a task',
  };
  const percent = (share) => (share === undefined ? '–' : `${(100 * share).toFixed(1)} %`);
  console.log(`wasm-ed25519 bench, node ${process.version}, ${timeMs} ms per row`);
  for (const section of SECTIONS.filter((s) => sections.has(s))) {
    console.log(`\n${TITLES[section]}\n`);
    const threadColumns = section === 'pool';
    console.log(`| what | per second | ratio |${threadColumns ? ' main thread | other threads | workers idle |' : ''}`);
    console.log(`|---|---:|---:|${threadColumns ? '---:|---:|---:|' : ''}`);
    for (const row of rows.filter((r) => r.section === section)) {
      const rate = section === 'sha256' ? `${(row.perSecond / 1e6).toFixed(0)} MB/s` : Math.round(row.perSecond).toLocaleString('en-US');
      const threads = threadColumns ? ` ${percent(row.threads?.main)} | ${percent(row.threads?.others)} | ${percent(row.threads?.workersIdle)} |` : '';
      console.log(`| ${row.name} | ${rate} | ${row.ratio.toFixed(2)}x |${threads}`);
    }
  }
}
